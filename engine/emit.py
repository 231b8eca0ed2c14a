"""One event from Python (``Workspace.emit``): the envelope filled in, checked, stored once.

The event is built as a JSONL line holding the same fields would be, then goes
the way that line would: the same ``LineChecker`` (so its id is the one ingest
derives for that line, a hash of its content) and the same writer
(``event_store.write_batch``, under the workspace's writer lock).  Emitting
the same event twice stores it once.  A bad event raises ``EventRejected``
with every (path, message) and stores nothing: the caller still holds it,
so unlike a line of a file it is not quarantined.
"""

from __future__ import annotations

import datetime as dt
import warnings
from typing import Any, Optional, Union

import orjson

from .db import Database
from .errors import EventRejected
from .event_store import StagedBatch, write_batch
from .validation import LineChecker

EMIT_SOURCE = "<emit>"


class EventWarning(UserWarning):
    """An emitted event that was stored but breaks a warning rule of its type (``schemas/warnings/``)."""


def build_event(event_type: str, payload: Any, *, workflow_id: str, parent_event_id: Optional[str] = None,
                occurred_at: Union[str, dt.datetime, None] = None, actor: Union[str, dict, None] = None,
                event_version: Optional[int] = None, entity: Optional[dict] = None,
                context: Optional[dict] = None, checker: Optional[LineChecker] = None) -> dict:
    """The event as a line would hold it.  ``occurred_at`` defaults to now (UTC); a
    ``datetime`` is written as RFC 3339 text (a naive one has no offset and is rejected,
    as such a line is); ``actor`` is ``"user"``/``"system"`` or the envelope's actor
    object (absent: a user); ``event_version`` defaults to the newest schema of the type."""
    if event_version is None:
        versions = (checker or LineChecker()).schemas.versions(event_type) if isinstance(event_type, str) else []
        event_version = versions[-1] if versions else 1
    if occurred_at is None:
        occurred_at = dt.datetime.now(dt.timezone.utc)
    if isinstance(occurred_at, dt.datetime):
        occurred_at = occurred_at.isoformat()
    event: dict = {"event_type": event_type, "event_version": event_version, "occurred_at": occurred_at}
    if actor is not None:
        event["actor"] = {"actor_type": actor} if isinstance(actor, str) else actor
    if context is not None:
        event["context"] = context
    if entity is not None:
        event["entity"] = entity
    correlation = {"workflow_id": workflow_id}
    if parent_event_id is not None:
        correlation["parent_event_id"] = parent_event_id
    event["correlation"] = correlation
    event["payload"] = payload
    return event


def emit(db: Database, event: dict, checker: Optional[LineChecker] = None) -> str:
    """Check ``event`` and store it once in ``db``'s workspace; return its id."""
    checker = checker or LineChecker()
    raw = orjson.dumps(event)
    checked = checker.check(raw)
    if checked.errors:
        raise EventRejected(event.get("event_type"), [(p.path, p.message) for p in checked.errors])
    batch = StagedBatch(EMIT_SOURCE, db.workspace)
    batch.add_event(1, checked.event_id, checked.derived_id, raw, checked.event)
    result = write_batch(db.conn, db.workspace, batch)
    if result.late_rejects:  # the database refused it (kept in the quarantine by the writer)
        _line, _raw, _truncated, problems = result.late_rejects[0]
        raise EventRejected(event.get("event_type"), [(p["path"], p["message"]) for p in problems])
    for problem in checked.warnings:
        warnings.warn(EventWarning(f"{event.get('event_type')} {checked.event_id}: {problem.path or '(root)'}: "
                                   f"{problem.message}"), stacklevel=3)
    return checked.event_id
