"""The one writer of ``workflow_events``: staged COPY, then one set-based insert.

A batch is COPYed into a transaction-local staging table and moved with one
``INSERT … SELECT … ON CONFLICT DO NOTHING``, whose row count is the exact
number of new events.  Writers of a workspace take turns (``lock_writers``)
so that seq order is commit order — the automation runner relies on it.
Rejected lines of the batch go to the quarantine in the same transaction, so
a batch, its rejects and its accounting commit whole or not at all.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Optional

import orjson
import psycopg

from .db import workspace_transaction
from .sql import compose, query


@dataclass
class StagedBatch:
    """Lines of one source ready to write: COPY text rows (with their raw lines,
    for the slow path) plus the rejected lines."""

    source: str
    staged_lines: list = field(default_factory=list)  # (line_no, copy_row, raw) kept for the slow path
    rejects: list = field(default_factory=list)  # (line_no, raw, truncated, [problem dicts])
    bytes_read: int = 0

    def add_event(self, line_no: int, event_id: str, derived: bool, raw: bytes) -> None:
        escaped = raw.replace(b"\\", b"\\\\").replace(b"\t", b"\\t").replace(b"\r", b"\\r")
        row = b"%d\t%s\t%s\t%s\n" % (line_no, event_id.encode(), b"t" if derived else b"f", escaped)
        self.staged_lines.append((line_no, row, raw))

    @property
    def staged(self) -> int:
        return len(self.staged_lines)

    def copy_text(self) -> bytes:
        return b"".join(row for _, row, _ in self.staged_lines)

    def add_reject(self, line_no: int, raw: bytes, truncated: bool, problems: list[dict]) -> None:
        self.rejects.append((line_no, raw, truncated, problems))


@dataclass
class WriteResult:
    ingested: int = 0
    duplicates: int = 0
    conflicts: list = field(default_factory=list)  # (line_no, event_id)
    late_rejects: list = field(default_factory=list)  # (line_no, raw, truncated, problems) refused by the database


def lock_writers(conn: psycopg.Connection, workspace: str) -> None:
    conn.execute(query("events.lock_writers"), {"workspace": workspace})


def insert_events_sql(events_subquery: str) -> str:
    """The one INSERT into workflow_events, over a subquery of (event jsonb, source_line)."""
    return compose("events.insert_events", events=events_subquery)


def insert_events(conn: psycopg.Connection, workspace: str, source: str, events_subquery: str,
                  params: dict | None = None) -> int:
    """Insert the events a subquery yields (duplicates skipped); return how many were new.
    The caller holds the workspace's writer lock (``lock_writers``) in this transaction."""
    return conn.execute(insert_events_sql(events_subquery),
                        {**(params or {}), "workspace": workspace, "source": source}).rowcount


def _quarantine(conn, workspace: str, source: str, rejects: list) -> None:
    if not rejects:
        return
    conn.execute(
        query("events.quarantine"),
        {
            "workspace": workspace,
            "source": source,
            "line_nos": [r[0] for r in rejects],
            "raws": [r[1] for r in rejects],
            "truncated": [r[2] for r in rejects],
            "errors": [orjson.dumps(r[3]).decode() for r in rejects],
        },
    )


def _stage(conn, rows: bytes) -> None:
    conn.execute(query("events.create_staging"))
    conn.execute(query("events.clear_staging"))  # it may exist already within an outer transaction
    if rows:
        with conn.cursor().copy(query("events.copy_staging")) as copy:
            copy.write(rows)


def _insert_staged(conn, workspace: str, source: str, staged: int, result: WriteResult) -> None:
    params = {"workspace": workspace, "source": source}
    lock_writers(conn, workspace)
    inserted = insert_events(conn, workspace, source, query("events.staged_events"))
    result.ingested += inserted
    result.duplicates += staged - inserted
    if inserted < staged:
        result.conflicts.extend(conn.execute(query("events.staged_conflicts"), params).fetchall())


def write_batch(conn: psycopg.Connection, workspace: str, batch: StagedBatch,
                after: Optional[Callable[[psycopg.Connection, WriteResult], None]] = None) -> WriteResult:
    """Write one batch in one transaction.  If the database refuses a row that
    passed validation (a value out of its range), the batch is redone row by row
    and only the refused rows are quarantined with the database's message.
    ``after`` runs last, inside the same transaction."""
    result = WriteResult()
    try:
        with workspace_transaction(conn, workspace):
            _stage(conn, batch.copy_text())
            _insert_staged(conn, workspace, batch.source, batch.staged, result)
            _quarantine(conn, workspace, batch.source, batch.rejects)
            if after is not None:
                after(conn, result)
        return result
    except (psycopg.errors.DataError, psycopg.errors.IntegrityConstraintViolation,
            psycopg.errors.SyntaxErrorOrAccessRuleViolation):
        pass  # fall through to the row-by-row path
    return _write_row_by_row(conn, workspace, batch, after)


def _write_row_by_row(conn: psycopg.Connection, workspace: str, batch: StagedBatch, after=None) -> WriteResult:
    result = WriteResult()
    with workspace_transaction(conn, workspace):
        _stage(conn, b"")
        for line_no, row, raw in batch.staged_lines:
            try:
                with conn.transaction():  # a savepoint per row: this path is rare
                    conn.execute(query("events.clear_staging"))
                    with conn.cursor().copy(query("events.copy_staging")) as copy:
                        copy.write(row)
                    _insert_staged(conn, workspace, batch.source, 1, result)
            except psycopg.Error as exc:
                message = (exc.diag.message_primary or str(exc)).splitlines()[0]
                problems = [{"path": "", "message": f"refused by the database: {message}"}]
                result.late_rejects.append((line_no, raw, False, problems))
        _quarantine(conn, workspace, batch.source, batch.rejects + result.late_rejects)
        if after is not None:
            after(conn, result)
    return result


APPEND_ONE = "SELECT %(event)s::jsonb, NULL::bigint"


def append_event(conn: psycopg.Connection, workspace: str, event: dict, source: str) -> bool:
    """Store one event msp writes itself (a decision, an alert draft), after checking
    it against the schemas.  Takes the writer lock; True if it was new."""
    from .validation import LineChecker

    checked = LineChecker().check(orjson.dumps(event))
    if checked.errors:
        problems = "; ".join(f"{p.path}: {p.message}" for p in checked.errors)
        raise ValueError(f"msp built an invalid {event.get('event_type')} event: {problems}")
    lock_writers(conn, workspace)
    return insert_events(conn, workspace, source, APPEND_ONE, {"event": orjson.dumps(event).decode()}) == 1
