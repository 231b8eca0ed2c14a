"""``msp doctor``: which server, version, workspace and migration level are in use."""

from __future__ import annotations

from .db import Database, describe_target, mask_url
from .migrations import applied_versions, load_migrations


def diagnose(db: Database) -> dict:
    conn = db.conn
    applied = applied_versions(conn)
    files = load_migrations()
    info = {
        "database": mask_url(db.url),
        "target": describe_target(db.url),
        "embedded": db.settings.database_url is None,
        "server_version": conn.execute("SHOW server_version").fetchone()[0],
        "workspace": db.workspace,
        "migration_level": max(applied) if applied else 0,
        "migrations_available": max((m.version for m in files), default=0),
        "pending_migrations": [m.filename for m in files if m.version not in applied],
    }
    if info["embedded"]:
        from .embedded import data_dir

        info["data_dir"] = str(data_dir())
    return info
