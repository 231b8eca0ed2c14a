"""Deciding a coach task (accept or reject).

A decision is atomic: it takes the workspace's event-writer lock, flips a
pending task, and writes a ``strategy.rule.applied`` event (dated when the
operator decides) in one transaction.  The first decision wins; the same
decision again is a no-op that says so; the opposite one is refused.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Optional

from ..db import Database, fetch_one
from ..errors import InputRejected, NotFound
from ..event_store import append_event, lock_writers
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
        parent = conn.execute(query("tasks.suggested_event"), params).fetchone()
        append_event(conn, db.workspace, _applied_event(task, decision, parent[0] if parent else None), EVENT_SOURCE)
    return Decision(task, True, f"task {task_id} {decision}")


def _applied_event(task: dict, decision: str, parent_event_id: Optional[str]) -> dict:
    correlation = {"workflow_id": task["workflow_id"] or f"coach-{task['analysis_id']}"}
    if parent_event_id:
        correlation["parent_event_id"] = parent_event_id
    return {
        "event_id": "msp.decision." + hashlib.md5(task["task_id"].encode()).hexdigest(),
        "event_type": "strategy.rule.applied",
        "event_version": 1,
        "occurred_at": task["decided_at"].isoformat(),
        "actor": {"actor_type": "user"},
        "entity": {"entity_type": "coach", "entity_id": task["analysis_id"],
                   **({"symbol": task["symbol"]} if task["symbol"] else {})},
        "correlation": correlation,
        "payload": {"task_id": task["task_id"], "decision": decision, "decided_at": task["decided_at"].isoformat(),
                    "analysis_id": task["analysis_id"], "action": task["action"], "priority": task["priority"]},
    }
