"""Deciding a coach task (accept or reject).

A decision is atomic: it takes the workspace's event-writer lock, flips a
pending task, and writes a ``strategy.rule.applied`` event (dated when the
operator decides) in one transaction.  The first decision wins; the same
decision again is a no-op that says so; the opposite one is refused.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..db import Database, fetch_one, retry_conflicts
from ..errors import InputRejected, NotFound
from ..event_store import append_own_event, lock_writers
from ..sql import query

DECISIONS = {"accept": "accepted", "reject": "rejected"}
EVENT_SOURCE = "msp:tasks"


@dataclass
class Decision:
    task: dict
    changed: bool
    message: str


def decide(db: Database, task_id: str, verb: str) -> Decision:
    """Accept or reject a task; first decision wins, even under concurrent calls."""
    decision = DECISIONS[verb]
    params = {"workspace": db.workspace, "task_id": task_id, "decision": decision}
    conn = db.conn

    def attempt() -> Decision:
        with db.transaction():
            lock_writers(conn, db.workspace)  # the same lock order as every event writer
            task = fetch_one(conn, query("tasks.decide"), params)
            if task is None:
                current = fetch_one(conn, query("tasks.get"), params)
                if current is None:
                    raise NotFound(f"task not found: {task_id}")
                if current["status"] == decision:
                    return Decision(current, False, f"task {task_id} was already {decision}; nothing changed")
                raise InputRejected(f"task {task_id} was already {current['status']}; it cannot be {decision} now")
            append_own_event(conn, db.workspace, EVENT_SOURCE, query("tasks.applied_event"),
                             {**params, "occurred_at": task["decided_at"].isoformat()})
        return Decision(task, True, f"task {task_id} {decision}")

    return retry_conflicts(attempt)

