"""``msp migrate --dry-run``: what ``msp migrate`` would apply, statement by statement,
with the lock each statement takes on which table — applying nothing.

The order and the transactions are the runner's (engine/migrations.py),
including the indexes it builds CONCURRENTLY before a transaction; the locks
come from each statement's parse tree (engine/migration_locks.py).
"""

from __future__ import annotations

from typing import Optional

import psycopg
from pydantic import BaseModel

from .migration_locks import TableLock, statement_locks
from .migrations import (Migration, Statement, as_concurrent, concurrent_prebuilds, current_level,
                         leading_transactional, load_migrations, pending)

INDEX_TABLE = "SELECT indrelid::regclass::text FROM pg_index WHERE indexrelid = to_regclass(%s)"


class PlannedLock(BaseModel):
    table: Optional[str]  # None: not readable from the statement (see note)
    mode: Optional[str]
    blocks: str
    note: str = ""


class PlannedStatement(BaseModel):
    file: str
    line: int
    in_transaction: bool  # False: a no-transaction file, or an index built CONCURRENTLY before the transaction
    statement: str
    locks: list[PlannedLock]


class DryRun(BaseModel):
    """``model_dump(mode="json")`` is ``msp migrate --dry-run --format json``."""

    database: str
    level: int
    files: list[str]
    statements: list[PlannedStatement]


def dry_run(conn: psycopg.Connection, target: str, migrations: Optional[list[Migration]] = None) -> DryRun:
    migrations = load_migrations() if migrations is None else migrations
    todo = pending(conn, migrations)
    created: set[str] = set()
    planned: list[PlannedStatement] = []

    def index_table(name: str) -> Optional[str]:
        row = conn.execute(INDEX_TABLE, (name,)).fetchone()
        return row[0] if row else None

    def exists(table: str) -> bool:
        return conn.execute("SELECT to_regclass(%s) IS NOT NULL", (table,)).fetchone()[0]

    def plan(migration: Migration, statement: Statement, in_transaction: bool, note: str = "") -> None:
        locks = []
        for lock in statement_locks(statement.node, index_table):
            if lock.table in created and lock.note != "new table":
                lock = TableLock(lock.table, lock.mode, "new table")
            elif lock.note == "new table" and lock.table not in created and exists(lock.table):
                lock = TableLock(lock.table, None, "exists already: IF NOT EXISTS skips it")
            locks.append(PlannedLock(table=lock.table, mode=lock.mode, blocks=lock.blocks,
                                     note=note or lock.note))
            if lock.note == "new table" and lock.table:
                created.add(lock.table)
        planned.append(PlannedStatement(file=migration.filename, line=statement.line, in_transaction=in_transaction,
                                        statement=statement.sql, locks=locks))

    index = 0
    while index < len(todo):
        group = leading_transactional(todo[index:])
        if not group:
            migration = todo[index]
            for statement in migration.statements:
                plan(migration, statement, False)
            index += 1
            continue
        prebuilt = concurrent_prebuilds(conn, group)
        for migration, statement in prebuilt:
            plan(migration, as_concurrent(statement), False, "built before the transaction")
        for migration in group:
            for statement in migration.statements:
                done = any(statement is s for _, s in prebuilt)
                plan(migration, statement, True, "IF NOT EXISTS finds the index built before the transaction: "
                     "nothing is built, the lock is held from then to the commit" if done else "")
        index += len(group)
    return DryRun(database=target, level=current_level(conn), files=[m.filename for m in todo], statements=planned)
