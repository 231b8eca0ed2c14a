"""``msp migrate --status``: each migration file against the database's ledger, applying nothing.

Applied (with when), pending, changed since applied (checksum mismatch), or
applied but missing from this msp (a newer msp migrated the database).  In sync
means nothing pending, changed or missing: a deploy pipeline gates on it.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal, Optional

import psycopg
from pydantic import BaseModel

from .migrations import Migration, ledger, load_migrations


class MigrationState(BaseModel):
    version: int
    file: str  # the file name; for a missing file, the name recorded when it was applied
    state: Literal["applied", "pending", "changed", "missing"]
    applied_at: Optional[dt.datetime] = None
    checksum: Optional[str] = None           # of the file on disk
    recorded_checksum: Optional[str] = None  # in schema_migrations


class MigrationStatus(BaseModel):
    """``model_dump(mode="json")`` is ``msp migrate --status --format json``."""

    database: str
    level: int
    in_sync: bool
    pending: int
    changed: int
    missing: int
    migrations: list[MigrationState]


def migration_status(conn: psycopg.Connection, target: str,
                     migrations: Optional[list[Migration]] = None) -> MigrationStatus:
    migrations = load_migrations() if migrations is None else migrations
    recorded = {version: (name, checksum, applied_at) for version, name, checksum, applied_at in ledger(conn)}
    states = []
    for migration in migrations:
        row = recorded.get(migration.version)
        if row is None:
            states.append(MigrationState(version=migration.version, file=migration.filename, state="pending",
                                         checksum=migration.checksum))
        else:
            states.append(MigrationState(version=migration.version, file=migration.filename,
                                         state="applied" if row[1] == migration.checksum else "changed",
                                         applied_at=row[2], checksum=migration.checksum, recorded_checksum=row[1]))
    on_disk = {m.version for m in migrations}
    for version, (name, checksum, applied_at) in recorded.items():
        if version not in on_disk:
            states.append(MigrationState(version=version, file=f"{version:03d}_{name}.sql", state="missing",
                                         applied_at=applied_at, recorded_checksum=checksum))
    states.sort(key=lambda s: s.version)
    count = {state: sum(s.state == state for s in states) for state in ("pending", "changed", "missing")}
    return MigrationStatus(database=target, level=max(recorded, default=0),
                           in_sync=not any(count.values()), migrations=states, **count)
