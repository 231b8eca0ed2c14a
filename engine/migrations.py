"""Applying the numbered SQL files of ``migrations/`` (docs/ARCHITECTURE.md#migrations).

``schema_migrations`` records each applied file's version and checksum.
Consecutive pending files apply in one transaction under a transaction-scoped
advisory lock, so two processes never migrate at once and a failure leaves
nothing half-done.  That transaction sets ``lock_timeout`` and
``statement_timeout`` (SET LOCAL, after the advisory lock): a migration never
queues behind a long transaction and freezes every writer queued behind it.  A
lock not granted in time rolls the transaction back and is retried with
backoff a bounded number of times, then fails naming the table and the process
holding it (exit 3).

A file holding the comment ``-- msp: no-transaction`` runs outside a
transaction, statement by statement (``CREATE INDEX CONCURRENTLY`` cannot run
inside one), on a second connection whose ``lock_timeout`` is a startup option
while the first holds the advisory lock in a transaction (no session state, so
PgBouncer's transaction pooling is safe); an index such a file builds that a crash left invalid
(``pg_index.indisvalid``) is dropped concurrently and rebuilt on the next run,
since ``IF NOT EXISTS`` would skip it.

A ``CREATE INDEX IF NOT EXISTS`` in a transactional file, on a table that
exists before the transaction and that no earlier statement of it touches, is
first built ``CONCURRENTLY`` outside the transaction (an upgrade through
migrations/009_close_seq_index.sql builds on a year of events without
holding writers off); inside, the statement then finds it and does nothing.

The files themselves, their statements and checksums: engine/migration_files.py.

Its few statements (the lock, the ledger) are the one SQL kept inline in
Python outside ``engine/sql/``: they run before anything else, on a database
that may have no msp schema yet, and they are the migration runner itself.
"""

from __future__ import annotations

import re
import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable, Iterator, Optional

import psycopg
from psycopg import sql as pgsql
from pydantic import BaseModel

from .errors import DatabaseError
from .migration_files import Migration, Statement, load_migrations, migration_files  # noqa: F401 (callers)

MIGRATION_LOCK_KEY = "hashtext('msp.migrate')"
MIGRATION_LOCK = f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK_KEY})"
CREATE_LEDGER = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version    integer     NOT NULL PRIMARY KEY,
    name       text        NOT NULL,
    checksum   text        NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
)"""
LEDGER_EXISTS = "SELECT to_regclass('schema_migrations') IS NOT NULL"
APPLIED = "SELECT version, checksum FROM schema_migrations ORDER BY version"
LEDGER = "SELECT version, name, checksum, applied_at FROM schema_migrations ORDER BY version"
CREATE_INDEX = re.compile(r"^(CREATE\s+(?:UNIQUE\s+)?INDEX)\s+(?!CONCURRENTLY\b)", re.I)
RECORD = "INSERT INTO schema_migrations (version, name, checksum) VALUES (%s, %s, %s)"
INVALID_INDEX = """
SELECT NOT i.indisvalid FROM pg_index i
WHERE i.indexrelid = to_regclass(quote_ident(current_schema()) || '.' || quote_ident(%s))"""


def applied_versions(conn: psycopg.Connection) -> dict[int, str]:
    """{version: checksum} of applied migrations; empty on a new database."""
    if not conn.execute(LEDGER_EXISTS).fetchone()[0]:
        return {}
    return dict(conn.execute(APPLIED).fetchall())


def ledger(conn: psycopg.Connection) -> list[tuple]:
    """(version, name, checksum, applied_at) of every applied migration; empty on a new database."""
    if not conn.execute(LEDGER_EXISTS).fetchone()[0]:
        return []
    return conn.execute(LEDGER).fetchall()


def pending(conn: psycopg.Connection, migrations: Optional[list[Migration]] = None) -> list[Migration]:
    """The migrations not applied yet; an applied file whose checksum changed is an error."""
    migrations = load_migrations() if migrations is None else migrations
    applied = applied_versions(conn)
    for migration in migrations:
        stored = applied.get(migration.version)
        if stored is not None and stored != migration.checksum:
            raise DatabaseError(
                f"migration {migration.filename} changed after it was applied "
                f"(checksum {stored[:12]} in the database, {migration.checksum[:12]} on disk)"
            )
    return [m for m in migrations if m.version not in applied]


@dataclass(frozen=True)
class Timeouts:
    """How long a migration may wait for a lock and run one statement, and how often it retries."""

    lock_timeout: float = 5.0        # seconds
    statement_timeout: float = 300.0  # seconds; 0 = none
    retries: int = 3                 # further attempts after a lock not granted in time
    backoff: float = 1.0             # seconds before the first retry, doubled for each next one


DEFAULT_TIMEOUTS = Timeouts()


class MigrationBlocked(DatabaseError):
    """A migration could not get a lock in time, however often it retried."""


def migrate(conn: psycopg.Connection, migrations: Optional[list[Migration]] = None,
            timeouts: Optional[Timeouts] = None, sleep: Callable[[float], None] = time.sleep) -> list[Migration]:
    """Apply every pending migration; return those applied (empty when up to date).
    ``timeouts``: ``DEFAULT_TIMEOUTS``, as the migrate on first use of every command has them."""
    migrations = load_migrations() if migrations is None else migrations
    timeouts = timeouts or DEFAULT_TIMEOUTS
    done: list[Migration] = []
    while True:
        todo = pending(conn, migrations)
        if not todo:
            return done
        if todo[0].transactional:
            def step():
                prebuild_indexes(conn, leading_transactional(todo), timeouts)
                return _apply_in_transaction(conn, migrations, timeouts)
        else:
            step = lambda: _apply_without_transaction(conn, todo[0], migrations, timeouts)  # noqa: E731
        done.extend(_with_retries(conn, step, timeouts, sleep))


def leading_transactional(todo: list[Migration]) -> list[Migration]:
    """The pending files that apply together in the next transaction."""
    group = []
    for migration in todo:
        if not migration.transactional:
            break
        group.append(migration)
    return group


def concurrent_prebuilds(conn: psycopg.Connection, group: list[Migration]) -> list[tuple[Migration, Statement]]:
    """The ``CREATE INDEX IF NOT EXISTS`` statements of a transaction's files that msp builds
    CONCURRENTLY before it: on a table that exists already, that no earlier statement of
    the transaction touches (nor one whose locks cannot be read, such as a DO block).
    Built inside the transaction, such an index would hold off every writer of a
    possibly large table while it builds; built before, it is a no-op inside."""
    from .migration_locks import statement_locks, table_name

    candidates, touched, opaque = [], set(), False
    for migration in group:
        for statement in migration.statements:
            node = statement.node
            if (type(node).__name__ == "IndexStmt" and node.if_not_exists and not node.concurrent
                    and node.idxname and not opaque and table_name(node.relation) not in touched
                    and CREATE_INDEX.match(statement.sql)):
                candidates.append((migration, statement))
                continue  # another index changes nothing a later index of the same table builds on
            for lock in statement_locks(node):
                if lock.table is None:
                    opaque = True
                touched.add(lock.table)
    if not candidates:
        return []
    exists = conn.execute("SELECT to_regclass(t) IS NOT NULL FROM unnest(%s::text[]) WITH ORDINALITY AS u(t, n) "
                          "ORDER BY n", ([table_name(s.node.relation) for _, s in candidates],)).fetchall()
    return [candidate for candidate, (present,) in zip(candidates, exists) if present]


def as_concurrent(statement: Statement) -> Statement:
    """The same CREATE INDEX, built CONCURRENTLY."""
    import copy

    node = copy.copy(statement.node)
    node.concurrent = True
    return Statement(statement.line, CREATE_INDEX.sub(r"\1 CONCURRENTLY ", statement.sql, count=1), node)


def prebuild_indexes(conn: psycopg.Connection, group: list[Migration], timeouts: Timeouts) -> list[str]:
    """Build ``concurrent_prebuilds`` (see ``outside_transaction``); returns the names built.
    One that cannot be built yet (a column an earlier statement adds) is left to the
    transaction; an invalid one left by a failed build is dropped again, so the
    transaction builds it or reports why it cannot."""
    todo = concurrent_prebuilds(conn, group)
    if not todo:
        return []
    built = []
    with outside_transaction(conn, timeouts) as work:
        for migration, statement in todo:
            concurrent = as_concurrent(statement)
            rebuild_if_invalid(work, concurrent)
            try:
                _run(work, migration, concurrent)
            except _LockWait:
                try:
                    rebuild_if_invalid(work, concurrent)
                except psycopg.Error:
                    pass  # the next run drops it
                raise
            except psycopg.Error:
                rebuild_if_invalid(work, concurrent)  # drops what the failed build left
                continue
            built.append(concurrent.node.idxname)
    return built


@contextmanager
def outside_transaction(conn: psycopg.Connection, timeouts: Timeouts) -> Iterator[psycopg.Connection]:
    """A second connection, in autocommit with ``lock_timeout`` as its startup option, for
    statements that cannot run in a transaction; meanwhile ``conn`` holds the migration
    lock in a transaction, so two processes never migrate at once.  No session state is
    set or left behind: through a PgBouncer transaction pool the transaction keeps its
    server connection, and the second connection is closed after (a pool that drops the
    startup option runs those statements without the lock timeout; they take no lock
    that holds writers off: CONCURRENTLY)."""
    with conn.transaction():
        conn.execute(MIGRATION_LOCK)
        conn.execute(CREATE_LEDGER)
        info = conn.info
        params = dict(info.get_parameters(), application_name="msp migrate", connect_timeout=10,
                      options=f"-c lock_timeout={_ms(timeouts.lock_timeout)}")
        if info.password:
            params["password"] = info.password
        try:
            work = psycopg.connect(autocommit=True, prepare_threshold=None, **params)
        except psycopg.OperationalError as exc:
            if "options" not in str(exc):
                raise
            del params["options"]  # a pool that refuses the startup option
            work = psycopg.connect(autocommit=True, prepare_threshold=None, **params)
        try:
            yield work
        finally:
            work.close()


def _with_retries(conn, step, timeouts: Timeouts, sleep) -> list[Migration]:
    for attempt in range(timeouts.retries + 1):
        try:
            return step()
        except _Cancelled as cancelled:
            raise DatabaseError(f"migration {cancelled.migration.filename} line {cancelled.statement.line}: "
                                f"cancelled after statement_timeout {timeouts.statement_timeout:g}s (or by an "
                                f"operator); rolled back, nothing of it was applied") from None
        except _LockWait as wait:
            if attempt == timeouts.retries:
                raise MigrationBlocked(_blocked_message(conn, wait, timeouts, attempt + 1)) from None
            sleep(timeouts.backoff * 2 ** attempt)
    return []  # unreachable


class _LockWait(Exception):
    """A statement of a migration was refused its lock within lock_timeout (rolled back)."""

    def __init__(self, migration: Migration, statement: Statement):
        self.migration = migration
        self.statement = statement


class _Cancelled(_LockWait):
    """A statement of a migration ran past statement_timeout, or was cancelled (rolled back)."""


def _run(conn: psycopg.Connection, migration: Migration, statement: Statement) -> None:
    try:
        conn.execute(statement.sql)
    except psycopg.errors.LockNotAvailable:
        raise _LockWait(migration, statement) from None
    except psycopg.errors.QueryCanceled:
        raise _Cancelled(migration, statement) from None


def _apply_in_transaction(conn: psycopg.Connection, migrations: list[Migration], timeouts: Timeouts) -> list[Migration]:
    """The leading run of pending transactional files, in one transaction."""
    with conn.transaction():
        conn.execute(MIGRATION_LOCK)
        conn.execute(CREATE_LEDGER)
        conn.execute("SELECT set_config('lock_timeout', %s, true), set_config('statement_timeout', %s, true)",
                     (_ms(timeouts.lock_timeout), _ms(timeouts.statement_timeout)))
        todo = leading_transactional(pending(conn, migrations))  # re-read under the lock: another may have won
        for migration in todo:
            execute_statements(conn, migration)
            conn.execute(RECORD, (migration.version, migration.name, migration.checksum))
    return todo


def _apply_without_transaction(conn: psycopg.Connection, migration: Migration, migrations: list[Migration],
                               timeouts: Timeouts) -> list[Migration]:
    """One ``-- msp: no-transaction`` file, statement by statement (see ``outside_transaction``)."""
    with outside_transaction(conn, timeouts) as work:
        if migration not in pending(conn, migrations):  # under the lock: another process may have won
            return []
        execute_statements(work, migration)
        conn.execute(RECORD, (migration.version, migration.name, migration.checksum))
    return [migration]


def execute_statements(conn: psycopg.Connection, migration: Migration) -> None:
    """Run a file's statements (inside the caller's transaction, or one by one for a
    no-transaction file); an invalid index of the name a statement builds is dropped
    first, and one built concurrently is checked valid after."""
    for statement in migration.statements:
        rebuild_if_invalid(conn, statement)
        _run(conn, migration, statement)
        index = _index_name(statement)
        if index and statement.node.concurrent and conn.execute(INVALID_INDEX, (index,)).fetchone() == (True,):
            raise DatabaseError(f"migration {migration.filename}: index {index} is invalid after "
                                f"CREATE INDEX CONCURRENTLY; run msp migrate again to rebuild it")


def _index_name(statement: Statement) -> Optional[str]:
    node = statement.node
    return node.idxname if type(node).__name__ == "IndexStmt" and node.idxname else None


def rebuild_if_invalid(conn: psycopg.Connection, statement: Statement) -> bool:
    """Before ``CREATE INDEX [CONCURRENTLY] IF NOT EXISTS name``: an invalid ``name`` (left by
    a crashed or cancelled concurrent build), which IF NOT EXISTS would keep, is dropped —
    concurrently when the statement builds concurrently — so the statement builds it again."""
    index = _index_name(statement)
    if not index or not statement.node.if_not_exists:
        return False
    if conn.execute(INVALID_INDEX, (index,)).fetchone() != (True,):
        return False
    drop = "DROP INDEX CONCURRENTLY IF EXISTS {}" if statement.node.concurrent else "DROP INDEX IF EXISTS {}"
    conn.execute(pgsql.SQL(drop).format(pgsql.Identifier(index)))
    return True


def _ms(seconds: float) -> str:
    return f"{int(round(seconds * 1000))}ms"


BLOCKERS = """
SELECT l.relation::regclass::text, a.pid, a.application_name, a.query_start, a.state, l.mode
FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
WHERE l.granted AND l.locktype = 'relation' AND l.pid <> pg_backend_pid()
  AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
  AND (cardinality(%(tables)s::text[]) = 0
       OR l.relation IN (SELECT to_regclass(t) FROM unnest(%(tables)s::text[]) AS t))
ORDER BY a.xact_start NULLS LAST, a.pid
LIMIT 1"""


def _blocked_message(conn: psycopg.Connection, wait: _LockWait, timeouts: Timeouts, attempts: int) -> str:
    from .migration_locks import statement_locks

    tables = [lock.table for lock in statement_locks(wait.statement.node) if lock.table]
    target = ", ".join(dict.fromkeys(tables)) or "a table"
    row = conn.execute(BLOCKERS, {"tables": tables}).fetchone()
    if row is None and tables:
        row = conn.execute(BLOCKERS, {"tables": []}).fetchone()
    if row is None:
        holder = "by a process that has finished since"
    else:
        table, pid, application, query_start, state, mode = row
        started = query_start.isoformat(timespec="seconds") if query_start else "unknown"
        holder = (f"by pid {pid} (application {application or '-'!r}, {state or 'unknown state'}, "
                  f"query started {started}, holding {mode} on {table})")
    return (f"migration {wait.migration.filename} line {wait.statement.line}: lock on {target} not granted "
            f"within lock_timeout {timeouts.lock_timeout:g}s ({attempts} attempts); blocked {holder}; "
            f"nothing of it was applied")


class MigrateResult(BaseModel):
    """``model_dump(mode="json")`` is ``msp migrate --format json``."""

    applied: list[str]  # file names, in the order applied
    level: int


def current_level(conn: psycopg.Connection) -> int:
    applied = applied_versions(conn)
    return max(applied) if applied else 0
