"""``msp doctor``: which server, version, workspace and migration level are in use."""

from __future__ import annotations

from .db import APP_ROLE, Database, describe_target, fetch_one, mask_url, workspace_transaction
from .migrations import applied_versions, load_migrations
from .sql import query


def diagnose(db: Database) -> dict:
    conn = db.conn
    applied = applied_versions(conn)
    files = load_migrations()
    info = {
        "database": mask_url(db.url),
        "target": describe_target(db.url),
        "embedded": db.settings.database_url is None,
        "server_version": conn.execute(query("doctor.server_version")).fetchone()[0],
        "workspace": db.workspace,
        "migration_level": max(applied) if applied else 0,
        "migrations_available": max((m.version for m in files), default=0),
        "pending_migrations": [m.filename for m in files if m.version not in applied],
    }
    info["row_level_security"] = row_level_security(db)
    if info["embedded"]:
        from .embedded import data_dir

        info["data_dir"] = str(data_dir())
    return info


def row_level_security(db: Database) -> dict:
    """Whether the workspace wall is up: the app role exists, msp's
    transactions run as it, and it is bound by the workspace policies."""
    conn = db.conn
    with workspace_transaction(conn, db.workspace):
        wall = fetch_one(conn, query("doctor.wall"))
    role = wall["role"]
    return {"active": role == APP_ROLE and not wall["bypass"] and wall["with_policy"] == wall["workspace_tables"] > 0,
            "role": role, "tables_with_policy": wall["with_policy"], "workspace_tables": wall["workspace_tables"]}
