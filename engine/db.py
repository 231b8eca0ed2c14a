"""Connections to PostgreSQL: opening them, scoping transactions to a workspace,
and turning driver failures into one-line, password-free messages (exit 3).

Nothing here keeps session state across transactions, so msp works through a
PgBouncer pool in transaction mode: no server-side prepared statements
(``prepare_threshold=None``), workspace settings by ``set_config(..., true)``
(transaction-local, ``engine/sql/session.sql``) and only transaction-scoped
advisory locks.
"""

from __future__ import annotations

import random
import re
import time
from contextlib import contextmanager
from typing import Callable, Iterator, Optional, TypeVar

import psycopg
import psycopg.types.datetime

from .config import Settings
from .errors import DatabaseError
from .sql import query

CONNECT_TIMEOUT_SECONDS = 10

APP_ROLE = "msp_app"  # the role row-level security binds (migrations/008_row_level_security.sql)

# Conflicts a transaction may meet through no fault of its own, and that the same work redone
# succeeds past: a serialization failure (40001) and a deadlock (40P01).  Every unit of work msp
# commits is redone on them (``retry_conflicts``), a bounded number of times.
CONFLICT_SQLSTATES = frozenset({"40001", "40P01"})
CONFLICT_ATTEMPTS = 8
CONFLICT_BACKOFF_SECONDS = 0.02  # doubled after each conflict, jittered, at most CONFLICT_BACKOFF_CAP
CONFLICT_BACKOFF_CAP = 1.0

T = TypeVar("T")

def resolve_url(settings: Settings) -> str:
    """The URL msp connects to: the configured one, else the embedded server's."""
    if settings.database_url:
        return settings.database_url
    from .embedded import embedded_url

    return embedded_url()


def describe_target(url: str) -> str:
    """``host:port/dbname`` of a URL or conninfo string, never its password."""
    try:
        info = psycopg.conninfo.conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        return "<unparseable database URL>"
    host = info.get("host") or "localhost"
    if host.startswith("/"):
        host = f"socket {host}"
    port = info.get("port") or "5432"
    dbname = info.get("dbname") or info.get("user") or "postgres"
    return f"{host}:{port}/{dbname}"


def mask_url(url: str) -> str:
    """The URL with any password replaced by ``***``."""
    masked = re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", url)
    return re.sub(r"(password=)\S+", r"\1***", masked)


def _reason(exc: BaseException, url: str) -> str:
    text = str(exc).strip()
    lowered = text.lower()
    if "password authentication failed" in lowered or "authentication failed" in lowered:
        return "authentication failed (check the user name and password)"
    if "no password supplied" in lowered:
        return "the server asks for a password and none was given"
    if re.search(r'database "[^"]*" does not exist', lowered):
        return "that database does not exist (create it, or fix the name in the URL)"
    if "connection refused" in lowered:
        return "connection refused (is PostgreSQL running and listening there?)"
    if "timeout" in lowered or "timed out" in lowered:
        return "the connection timed out"
    if "could not translate host name" in lowered or "name or service not known" in lowered:
        return "unknown host name"
    if "terminating connection" in lowered or "server closed the connection" in lowered \
            or "consuming input failed" in lowered or "the connection is lost" in lowered:
        return "the server closed the connection (it may have restarted); re-run the command"
    if "ssl" in lowered:
        return "TLS negotiation failed (check sslmode in the URL)"
    first = text.splitlines()[0] if text else type(exc).__name__
    password = psycopg.conninfo.conninfo_to_dict(url).get("password") if "://" in url or "=" in url else None
    if password:
        first = first.replace(password, "***")
    return first


def database_error(exc: BaseException, url: str) -> DatabaseError:
    """A one-line DatabaseError naming the target host, never the password."""
    return DatabaseError(f"database {describe_target(url)}: {_reason(exc, url)}")


class InstantLoader(psycopg.types.datetime.TimestamptzLoader):
    """A timestamptz as a datetime; one Python cannot hold (an event dated
    9999-12-31T23:59:59-14:00 is in the year 10000 in UTC, one dated
    0001-01-01T00:00:00+14:00 in 1 BC; PostgreSQL stores both) as its ISO 8601
    text (with " BC" where it applies), so reading it never fails a report."""

    def load(self, data):
        try:
            return super().load(data)
        except psycopg.DataError:
            text = bytes(data).decode()
            return re.sub(r"([+-]\d\d)( BC)?$", r"\1:00\2", text.replace(" ", "T", 1))


def iso(instant) -> str:
    """A loaded timestamptz as ISO 8601 text (see InstantLoader)."""
    return instant if isinstance(instant, str) else instant.isoformat()


def is_conflict(exc: BaseException) -> bool:
    """A serialization failure or deadlock: the transaction is rolled back and may be redone."""
    return isinstance(exc, psycopg.Error) and getattr(exc, "sqlstate", None) in CONFLICT_SQLSTATES


def retry_conflicts(work: Callable[[], T], *, attempts: int = CONFLICT_ATTEMPTS,
                    on_retry: Optional[Callable[[BaseException, int], None]] = None,
                    conn: Optional[psycopg.Connection] = None) -> T:
    """Run ``work`` (one whole transaction: it must begin and end inside it, and keep
    what it counts local until it returns) and redo it when the server reports a
    serialization failure or a deadlock, after a short jittered backoff that
    doubles each time (20 ms, 40 ms, … at most 1 s), ``attempts`` times in all;
    the last conflict is raised (exit 3, with its message).  Any other error goes
    straight through.  Given ``conn`` already in a transaction, ``work`` is a
    part of that one (a savepoint), which only its owner can redo: it runs once."""
    if conn is not None and conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
        return work()
    delay = CONFLICT_BACKOFF_SECONDS
    for attempt in range(1, attempts + 1):
        try:
            return work()
        except psycopg.Error as exc:
            if not is_conflict(exc) or attempt == attempts:
                raise
            if on_retry is not None:
                on_retry(exc, attempt)
            time.sleep(delay * (0.5 + random.random()))
            delay = min(delay * 2, CONFLICT_BACKOFF_CAP)
    raise AssertionError("unreachable")


def connect(url: str) -> psycopg.Connection:
    """Open a connection; failures become DatabaseError (exit 3)."""
    try:
        conn = psycopg.connect(
            url,
            autocommit=True,
            prepare_threshold=None,
            connect_timeout=CONNECT_TIMEOUT_SECONDS,
            application_name="msp",
        )
        conn.adapters.register_loader("timestamptz", InstantLoader)
        # msp's exactly-once design (docs/ARCHITECTURE.md#exactly-once) is read committed under
        # the writer lock: a statement after the lock sees every event committed before it.  A
        # database whose default is repeatable read or serializable would take the snapshot
        # before the lock (a sweep would miss, an ingest would not see, a batch just committed),
        # so every msp transaction says which level it was built for.
        conn.isolation_level = psycopg.IsolationLevel.READ_COMMITTED
        return conn
    except psycopg.Error as exc:
        raise database_error(exc, url) from None
    except ValueError as exc:  # e.g. a malformed URL
        raise DatabaseError(f"invalid database URL {mask_url(url)}: {exc}") from None


@contextmanager
def workspace_transaction(conn: psycopg.Connection, workspace: str) -> Iterator[psycopg.Connection]:
    """One transaction with ``msp.workspace`` set for its duration only."""
    with conn.transaction():
        conn.execute(query("session.enter_workspace"), {"workspace": workspace})
        yield conn


@contextmanager
def login_role_transaction(conn: psycopg.Connection, workspace: str) -> Iterator[psycopg.Connection]:
    """A workspace transaction that runs as the login role, for the event
    writer's COPY (every statement in it names its workspace; the rows' workspace
    column comes from msp, never from the input).  Nested in another
    transaction it is a savepoint, and the outer transaction gets its role back."""
    nested = conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE
    with conn.transaction():
        previous = conn.execute(query("session.enter_workspace_as_login"), {"workspace": workspace}).fetchone()[0]
        yield conn
        if nested:
            conn.execute(query("session.set_role"), {"role": previous})


@contextmanager
def as_login_role(conn: psycopg.Connection) -> Iterator[psycopg.Connection]:
    """Inside a workspace transaction, step back to the login role for an
    owner-only maintenance statement (ANALYZE), then take the app role again.
    It runs in a savepoint, so a failure rolls the role back with it."""
    with conn.transaction():
        previous = conn.execute(query("session.current_role")).fetchone()[0]
        conn.execute(query("session.set_role"), {"role": "none"})
        yield conn
        conn.execute(query("session.set_role"), {"role": previous})


class Database:
    """A settings-bound handle: the URL, the workspace, a lazily opened connection."""

    def __init__(self, settings: Settings, url: Optional[str] = None):
        self.settings = settings
        self.workspace = settings.workspace
        self.url = url or resolve_url(settings)
        self._conn: Optional[psycopg.Connection] = None

    @property
    def conn(self) -> psycopg.Connection:
        if self._conn is None or self._conn.closed:
            self._conn = connect(self.url)
        return self._conn

    def transaction(self):
        return workspace_transaction(self.conn, self.workspace)

    def close(self) -> None:
        if self._conn is not None and not self._conn.closed:
            self._conn.close()
        self._conn = None

    def __enter__(self) -> "Database":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def fetch_all(conn: psycopg.Connection, statement, params: Optional[dict] = None) -> list[dict]:
    """Rows of a query as dicts."""
    from psycopg.rows import dict_row

    return conn.cursor(row_factory=dict_row).execute(statement, params or {}).fetchall()


def fetch_one(conn: psycopg.Connection, statement, params: Optional[dict] = None) -> Optional[dict]:
    """The first row of a query as a dict, or None."""
    from psycopg.rows import dict_row

    return conn.cursor(row_factory=dict_row).execute(statement, params or {}).fetchone()
