"""What every automation shares: the batch it works on and what it reports back."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

import psycopg

from ..event_store import insert_events

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
    skipped: list = field(default_factory=list)  # (automation, item, reason)


def emit(conn: psycopg.Connection, scope: Scope, events_subquery: str) -> int:
    """Store the events a subquery builds as ordinary workflow events (dedupe by event_id)."""
    return insert_events(conn, scope.workspace, AUTOMATION_SOURCE, events_subquery, scope.params())


def skipped(conn: psycopg.Connection, scope: Scope, name: str, statement: str) -> list:
    """Items a normal sweep passed over, with reasons (not reported again on replay)."""
    if scope.replay:
        return []
    return [(name, item, reason) for item, reason in conn.execute(statement, scope.params()).fetchall()]
