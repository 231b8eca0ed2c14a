"""Applying the numbered SQL files of ``migrations/`` (docs/ARCHITECTURE.md#migrations).

``schema_migrations`` records each applied file's version and checksum.  All
pending files apply in one transaction under a transaction-scoped advisory
lock, so two processes never migrate at once and a failure leaves nothing
half-done.  A file whose checksum changed after it was applied is an error.

Its few statements (the lock, the ledger) are the one SQL kept inline in
Python outside ``engine/sql/``: they run before anything else, on a database
that may have no msp schema yet, and they are the migration runner itself.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from importlib import resources

import psycopg

from .errors import DatabaseError

MIGRATION_FILE = re.compile(r"^(\d{3})_([a-z0-9_]+)\.sql$")
MIGRATION_LOCK = "SELECT pg_advisory_xact_lock(hashtext('msp.migrate'))"
CREATE_LEDGER = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version    integer     NOT NULL PRIMARY KEY,
    name       text        NOT NULL,
    checksum   text        NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
)"""
LEDGER_EXISTS = "SELECT to_regclass('schema_migrations') IS NOT NULL"
APPLIED = "SELECT version, checksum FROM schema_migrations ORDER BY version"
RECORD = "INSERT INTO schema_migrations (version, name, checksum) VALUES (%s, %s, %s)"


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def filename(self) -> str:
        return f"{self.version:03d}_{self.name}.sql"

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode("utf-8")).hexdigest()


def migration_files() -> list[tuple[str, str]]:
    """(filename, text) of every ``*.sql`` file in migrations/, sorted by name."""
    folder = resources.files("msp") / "migrations"
    return sorted(
        (entry.name, entry.read_text(encoding="utf-8"))
        for entry in folder.iterdir()
        if entry.name.endswith(".sql")
    )


def load_migrations() -> list[Migration]:
    migrations = []
    for filename, text in migration_files():
        match = MIGRATION_FILE.match(filename)
        if match:
            migrations.append(Migration(int(match.group(1)), match.group(2), text))
    return migrations


def applied_versions(conn: psycopg.Connection) -> dict[int, str]:
    """{version: checksum} of applied migrations; empty on a new database."""
    if not conn.execute(LEDGER_EXISTS).fetchone()[0]:
        return {}
    return dict(conn.execute(APPLIED).fetchall())


def pending(conn: psycopg.Connection) -> list[Migration]:
    applied = applied_versions(conn)
    for migration in load_migrations():
        stored = applied.get(migration.version)
        if stored is not None and stored != migration.checksum:
            raise DatabaseError(
                f"migration {migration.filename} changed after it was applied "
                f"(checksum {stored[:12]} in the database, {migration.checksum[:12]} on disk)"
            )
    return [m for m in load_migrations() if m.version not in applied]


def migrate(conn: psycopg.Connection) -> list[Migration]:
    """Apply every pending migration; return those applied (empty when up to date)."""
    if not pending(conn):
        return []
    with conn.transaction():
        conn.execute(MIGRATION_LOCK)
        conn.execute(CREATE_LEDGER)
        todo = pending(conn)  # re-read under the lock: another process may have won
        for migration in todo:
            conn.execute(migration.sql)
            conn.execute(RECORD, (migration.version, migration.name, migration.checksum))
    return todo


def current_level(conn: psycopg.Connection) -> int:
    applied = applied_versions(conn)
    return max(applied) if applied else 0
