"""What every automation shares: how it declares itself, the batch it works
on, and what it reports back.

An automation is one module of this package (plus its ``engine/sql/`` file)
that defines ``AUTOMATION = Automation(...)``: its name, the counter it adds
to (a JSON key of ``msp automate``), its unique keys (what makes each side
effect exactly-once: ``test_automations`` checks each is a unique index of the
migrated database), the event types that trigger it and its place in a
batch.  ``registry.py`` collects them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Optional

import psycopg

from ..event_store import insert_events
from ..sql import compose, query

AUTOMATION_SOURCE = "msp:automate"  # the `source` of every event an automation emits


@dataclass(frozen=True)
class Scope:
    """The events one pass looks at: a workspace's seq range (lo, hi], optionally
    only those that occurred at or after ``since`` (a replay)."""

    workspace: str
    lo: int
    hi: int
    since: Optional[str] = None

    def params(self, **extra) -> dict:
        return {"workspace": self.workspace, "lo": self.lo, "hi": self.hi, "since": self.since, **extra}

    @property
    def replay(self) -> bool:
        return self.since is not None


@dataclass
class Outcome:
    """Side effects created by one automation in one pass, events it emitted,
    and items it skipped (with reasons)."""

    created: int = 0
    emitted: int = 0
    skipped: list = field(default_factory=list)  # (item, reason)


@dataclass(frozen=True)
class UniqueKey:
    """A table and the columns whose unique index makes a side effect exactly-once."""

    table: str
    columns: tuple[str, ...]


EVENT_ID = UniqueKey("workflow_events", ("workspace", "event_id"))  # the key of every event an automation emits


@dataclass(frozen=True)
class Automation:
    name: str  # as reported in the skip list
    order: int  # place within a batch, ascending
    counter: Optional[str]  # the JSON key its `created` count adds to (None: no counter)
    unique_keys: tuple[UniqueKey, ...]
    triggers: tuple[str, ...]  # the event types it acts on: a batch holding none of them is passed over
    apply: Callable[[psycopg.Connection, Scope], Outcome]


def batch_query(qualified_name: str, **slots: str) -> str:
    """An automation's statement with its ``{in_batch}`` slot filled: the one
    filter (``runner.in_batch``) that picks the batch's events, alias ``e``."""
    return compose(qualified_name, in_batch=query("runner.in_batch"), **slots)


def emit(conn: psycopg.Connection, scope: Scope, events_subquery: str) -> int:
    """Store the events a subquery builds (with ``msp_event``) as ordinary
    workflow events (dedupe by event_id)."""
    return insert_events(conn, scope.workspace, AUTOMATION_SOURCE, events_subquery, scope.params())


def skipped(conn: psycopg.Connection, scope: Scope, statement: str) -> list:
    """Items a normal sweep passes over, with reasons (not reported again on replay)."""
    if scope.replay:
        return []
    return conn.execute(statement, scope.params()).fetchall()
