"""The one writer of ``workflow_events``.

Ingest COPYs each batch straight into the event table: the batch's rows are
built from the parsed events (duplicates within the batch removed first) and
written under the workspace's writer lock.  The common case — new events —
costs what a raw COPY costs.  When the optimistic COPY meets an event id that
is already stored, the batch falls back (to a savepoint, still under the
lock) to asking which ids exist, COPYing only the new ones and comparing the
others' content in SQL to report conflicts; the next batches of that input
ask first (no failed COPY each), until one meets no stored id.  Asking costs
an index probe per id, and the comparison only the ids found, so an input of
duplicates costs less than storing it.  Writers of a workspace take
turns (``lock_writers``) so seq order is commit order — the automation runner
relies on it.  Rejected lines go to the quarantine in the same transaction,
so a batch, its rejects and its accounting commit whole or not at all.  A
row the database refuses although it passed validation (a date out of
PostgreSQL's range, say) makes the batch redo itself row by row, quarantining
only that row with the database's message.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable, Optional

import orjson
import psycopg

from .db import login_role_transaction, retry_conflicts
from .sql import compose, query
from .validation import exact_loads

# What the database says of a line it will not store (class 22 data, 23 integrity,
# 54 program limits such as an index row too large): that line is quarantined.
# Anything else — the connection, above all — fails the batch and the command.
REFUSED = (psycopg.DataError, psycopg.IntegrityError, psycopg.errors.ProgramLimitExceeded)

NULL = b"\\N"


def copy_text(value) -> bytes:
    """A value as a COPY text field (NULL, or bytes with \\, tab, newline and CR escaped)."""
    if value is None:
        return NULL
    data = value if type(value) is bytes else str(value).encode()
    # byte values, not one-byte strings: ``92 in data`` is a memchr, ``b"\\" in data`` ten times slower
    if 92 in data or 9 in data or 10 in data or 13 in data:
        data = data.replace(b"\\", b"\\\\").replace(b"\t", b"\\t").replace(b"\n", b"\\n").replace(b"\r", b"\\r")
    return data


@dataclass
class StagedRow:
    line_no: int
    event_id: str
    derived: bool  # the id is the hash of the content, so a repeat of it is the same content
    body: bytes  # the event as JSON, event_id included
    row: bytes  # the COPY line
    raw: bytes  # the input line exactly as read (what the quarantine keeps if the database refuses it)


@dataclass
class StagedBatch:
    """Lines of one source ready to write: COPY rows of distinct events, the
    lines that repeat an event id already in the batch, and the rejected lines.

    The parsed events are not kept (holding thousands of dicts alive costs the
    hot path more than parsing them); a repeated id, which is rare, re-reads
    the first one's JSON to compare contents."""

    source: str
    workspace: str = ""
    rows: dict = field(default_factory=dict)  # event_id → StagedRow, in input order
    repeats: list = field(default_factory=list)  # (line_no, event_id, same content as the first?)
    repeat_rows: dict = field(default_factory=dict)  # line_no → StagedRow of a repeat
    rejects: list = field(default_factory=list)  # (line_no, raw, truncated, [problem dicts])
    # lines refused only for an id in msp's namespace: (line_no, raw, event_id, [problem dicts]); settled
    # by the writer as duplicates of the exact event msp holds, else quarantined (settle_reserved)
    reserved: list = field(default_factory=list)
    warnings: list = field(default_factory=list)  # (line_no, event_id, [Problem]): told once the line is stored
    bytes_read: int = 0
    row_events: Optional[dict] = None  # an import's batch: source row → how many events it made
    known_events: int = 0  # an import's batch: events its rows found stored already, so did not make
    _fields: tuple = field(default=(), repr=False)  # the workspace and source as COPY fields

    def add_event(self, line_no: int, event_id: str, derived: bool, raw: bytes, event: dict,
                  source_raw: Optional[bytes] = None, exact: bool = False) -> None:
        """``raw`` is the event's JSON as read; ``source_raw`` the input it was made from when
        that is not JSON (an imported CSV row), kept by the quarantine if the database refuses it.
        ``exact``: the event's numbers are Decimals or big ints (validation.exact_loads), so a
        derived id's body is the line itself with the id put in front, never a float's rounding."""
        if derived:
            body = (b'{"event_id":' + orjson.dumps(event_id) + b"," + raw.lstrip()[1:] if exact
                    else orjson.dumps({**event, "event_id": event_id}))
        else:
            body = raw
        first = self.rows.get(event_id)
        if first is not None:
            # two derived ids are equal only for equal content; otherwise compare the documents
            # exactly (every digit, as jsonb compares them: a float would merge 1e22+1 with 1e22)
            same = (derived and first.derived) or exact_loads(first.body) == exact_loads(body)
            self.repeats.append((line_no, event_id, same))
            # kept so that it can stand in for the first if the database refuses that one
            self.repeat_rows[line_no] = self._row(line_no, event_id, derived, body, event, raw, source_raw)
            return
        self.rows[event_id] = self._row(line_no, event_id, derived, body, event, raw, source_raw)

    def _row(self, line_no, event_id, derived, body, event, raw, source_raw) -> "StagedRow":
        if not self._fields:
            self._fields = (copy_text(self.workspace), copy_text(self.source))
        workspace, source = self._fields
        correlation = event["correlation"]
        actor = event.get("actor")
        entity = event.get("entity")
        symbol = entity.get("symbol") if entity else None
        if type(symbol) is not str:
            symbol = event["payload"].get("symbol")
            symbol = symbol if type(symbol) is str else None
        row = b"\t".join((
            workspace, copy_text(event_id), copy_text(event["event_type"]),
            b"%d" % event["event_version"], copy_text(event["occurred_at"]),
            copy_text(correlation["workflow_id"]), copy_text(correlation.get("parent_event_id")),
            actor["actor_type"].encode() if actor else b"user", copy_text(symbol), copy_text(body),
            source, b"%d\n" % line_no))
        return StagedRow(line_no, event_id, derived, body, row, raw if source_raw is None else source_raw)

    @property
    def staged(self) -> int:
        """Lines that were valid events (distinct or repeated)."""
        return len(self.rows) + len(self.repeats)

    def add_reject(self, line_no: int, raw: bytes, truncated: bool, problems: list[dict]) -> None:
        self.rejects.append((line_no, raw, truncated, problems))

    def add_reserved(self, line_no: int, raw: bytes, event_id: str, problems: list[dict]) -> None:
        self.reserved.append((line_no, raw, event_id, problems))


@dataclass
class WriteResult:
    ingested: int = 0
    duplicates: int = 0
    stored_duplicates: int = 0  # duplicates of events already in the database
    conflicts: list = field(default_factory=list)  # (line_no, event_id)
    late_rejects: list = field(default_factory=list)  # (line_no, raw, truncated, problems) refused by the database
    duplicate_lines: list = field(default_factory=list)  # the line of every event not stored because it was there
    not_stored: set = field(default_factory=set)  # event ids of the batch's rows that were not inserted


def lock_writers(conn: psycopg.Connection, workspace: str) -> None:
    """Take the workspace's event-writer lock (until commit) and make sure the
    workspace is in the registry."""
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


_JSON_NUL = re.compile(r"(?<!\\)((?:\\\\)*)\\u0000")  # an escaped NUL, not an escaped backslash + "u0000"


def _storable_json(value) -> str:
    """JSON text PostgreSQL's jsonb accepts: a NUL in a path or message (a key
    of the bad line, say) is kept visible as the text ``\\u0000``."""
    return _JSON_NUL.sub(r"\1\\\\u0000", orjson.dumps(value).decode())


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
            "errors": [_storable_json(r[3]) for r in rejects],
        },
    )


def _copy(conn, rows) -> None:
    """COPY the rows in (in a ``login_role_transaction``: no COPY under row-level
    security).  Every row's workspace column is the one this transaction is
    for, set in StagedBatch, never from the input."""
    with conn.cursor().copy(query("events.copy_events")) as copy:
        copy.write(b"".join(r.row for r in rows))


def _existing_and_conflicts(conn, workspace: str, rows: list) -> tuple[set, list]:
    """Which of these event ids are stored, and which stored ones differ in content."""
    ids = [r.event_id for r in rows]
    existing = {row[0] for row in conn.execute(query("events.existing_ids"),
                                               {"workspace": workspace, "ids": ids}).fetchall()}
    if not existing:
        return existing, []
    dups = [r for r in rows if r.event_id in existing]
    conflicts = conn.execute(query("events.conflicting"), {
        "workspace": workspace, "line_nos": [r.line_no for r in dups], "ids": [r.event_id for r in dups],
        "events": [r.body for r in dups]}).fetchall()
    return existing, conflicts


def _settle_reserved(conn, workspace: str, batch: StagedBatch, result: WriteResult) -> None:
    """A line with an id in msp's namespace is a duplicate when msp already holds
    exactly that event (stored or archived: a re-import of its own history);
    otherwise it is quarantined with the validation's message.  Nothing is stored."""
    if not batch.reserved:
        return
    rows = [StagedRow(line_no, event_id, False, raw, b"", raw) for line_no, raw, event_id, _ in batch.reserved]
    existing, conflicts = _existing_and_conflicts(conn, workspace, rows)
    differing = {line_no for line_no, _event_id in conflicts}
    for line_no, raw, event_id, problems in batch.reserved:
        if event_id in existing and line_no not in differing:
            result.duplicates += 1
            result.duplicate_lines.append(line_no)
        else:
            result.late_rejects.append((line_no, raw, False, problems))
    result.late_rejects.sort(key=lambda r: r[0])


def _insert_rows(conn, workspace: str, batch: StagedBatch, result: WriteResult, optimistic: bool) -> None:
    lock_writers(conn, workspace)
    rows = list(batch.rows.values())
    result.duplicates += len(batch.repeats)
    result.duplicate_lines.extend(line_no for line_no, _event_id, _same in batch.repeats)
    result.conflicts.extend((line_no, event_id) for line_no, event_id, same in batch.repeats if not same)
    if not rows:
        return
    if optimistic:
        try:
            with conn.transaction():  # a savepoint: a stored id sends us to the careful path
                _copy(conn, rows)
            result.ingested += len(rows)
            return
        except psycopg.errors.UniqueViolation:
            pass
    existing, conflicts = _existing_and_conflicts(conn, workspace, rows)
    new = [r for r in rows if r.event_id not in existing]
    result.not_stored.update(existing)
    if new:
        _copy(conn, new)
    result.ingested += len(new)
    result.duplicates += len(rows) - len(new)
    result.duplicate_lines.extend(r.line_no for r in rows if r.event_id in existing)
    result.stored_duplicates += len(rows) - len(new)
    result.conflicts.extend(conflicts)


def write_batch(conn: psycopg.Connection, workspace: str, batch: StagedBatch,
                after: Optional[Callable[[psycopg.Connection, WriteResult], None]] = None,
                optimistic: bool = True) -> WriteResult:
    """Write one batch in one transaction; ``after`` runs last, inside it.  The
    transaction is redone on a serialization failure or a deadlock (a conflict
    is the transaction's, never a line's: it quarantines nothing)."""
    return retry_conflicts(lambda: _write_batch_once(conn, workspace, batch, after, optimistic), conn=conn)


def _write_batch_once(conn: psycopg.Connection, workspace: str, batch: StagedBatch, after, optimistic: bool
                      ) -> WriteResult:
    result = WriteResult()
    try:
        with login_role_transaction(conn, workspace):
            _insert_rows(conn, workspace, batch, result, optimistic)
            _settle_reserved(conn, workspace, batch, result)
            _quarantine(conn, workspace, batch.source, batch.rejects + result.late_rejects)
            if after is not None:
                after(conn, result)
        result.conflicts.sort()
        return result
    except REFUSED:  # a line the database refuses
        pass  # fall through to the careful path
    return _write_careful(conn, workspace, batch, after)


def _refusal(exc: psycopg.Error) -> str:
    return "refused by the database: " + (exc.diag.message_primary or str(exc)).splitlines()[0]


def _store(conn, workspace: str, rows: list, result: WriteResult, refused: list) -> None:
    """Store ``rows`` (new ones COPYed, stored ones compared); a set the database
    refuses is halved until the refused rows stand alone: a few COPYs per bad
    row, never one statement per row."""
    try:
        with conn.transaction():  # a savepoint
            existing, conflicts = _existing_and_conflicts(conn, workspace, rows)
            new = [r for r in rows if r.event_id not in existing]
            if new:
                _copy(conn, new)
    except REFUSED as exc:
        if len(rows) == 1:
            refused.append((rows[0], _refusal(exc)))
            return
        middle = len(rows) // 2
        _store(conn, workspace, rows[:middle], result, refused)
        _store(conn, workspace, rows[middle:], result, refused)
        return
    result.ingested += len(new)
    dups = [r for r in rows if r.event_id in existing]
    result.duplicates += len(dups)
    result.stored_duplicates += len(dups)
    result.duplicate_lines.extend(r.line_no for r in dups)
    result.not_stored.update(r.event_id for r in dups)
    result.conflicts.extend(conflicts)


def _write_careful(conn: psycopg.Connection, workspace: str, batch: StagedBatch, after=None) -> WriteResult:
    """The batch again, each row the database refuses quarantined alone with its message;
    a later line of the batch with a refused line's event id stands in for it."""
    result = WriteResult()
    with login_role_transaction(conn, workspace):
        lock_writers(conn, workspace)
        refused: list = []
        _store(conn, workspace, list(batch.rows.values()), result, refused)
        open_ids = {row.event_id for row, _message in refused}
        stand_in: dict = {}  # event id → the repeat stored in place of a refused first line
        for line_no, event_id, same in batch.repeats:
            if event_id in open_ids:
                tried: list = []
                _store(conn, workspace, [batch.repeat_rows[line_no]], result, tried)
                if tried:
                    refused.extend(tried)
                else:
                    open_ids.discard(event_id)
                    stand_in[event_id] = batch.repeat_rows[line_no]
                continue
            result.duplicates += 1
            result.duplicate_lines.append(line_no)
            if event_id in stand_in:
                same = exact_loads(stand_in[event_id].body) == exact_loads(batch.repeat_rows[line_no].body)
            if not same:
                result.conflicts.append((line_no, event_id))
        for row, message in refused:
            result.late_rejects.append((row.line_no, row.raw, False, [{"path": "", "message": message}]))
            result.not_stored.add(row.event_id)
        _settle_reserved(conn, workspace, batch, result)
        result.late_rejects.sort(key=lambda r: r[0])
        _quarantine(conn, workspace, batch.source, batch.rejects + result.late_rejects)
        if after is not None:
            after(conn, result)
    result.conflicts.sort()
    return result


def append_event(conn: psycopg.Connection, workspace: str, event: dict, source: str) -> bool:
    """Store one event built in this process, after checking it against the
    schemas.  Takes the writer lock; True if it was new."""
    from .validation import LineChecker

    checked = LineChecker().check_own(event)  # its id is in msp's own namespace, refused to input
    if checked.errors:
        problems = "; ".join(f"{p.path}: {p.message}" for p in checked.errors)
        raise ValueError(f"msp built an invalid {event.get('event_type')} event: {problems}")
    lock_writers(conn, workspace)
    return insert_events(conn, workspace, source, query("events.one_event"), {"event": orjson.dumps(event).decode()}) == 1


def append_own_event(conn: psycopg.Connection, workspace: str, source: str, statement: str, params: dict) -> dict:
    """Store the one event msp writes after a person's decision (a task
    decision, an alert draft): ``statement`` builds it with ``msp_event``
    (migrations/012_event_envelope.sql), the one envelope of every event msp
    writes itself; it is checked against the schemas before it is stored."""
    event = conn.execute(statement, params).fetchone()[0]
    append_event(conn, workspace, event, source)
    return event
