"""The coach action queue, read side: the tasks in the queue, and the first
pending one (deciding a task is ``engine/actions/tasks.py``)."""

from __future__ import annotations

from typing import Optional

from ..db import Database, fetch_all
from ..sql import query

STATUSES = ("pending", "resolved", "all")
QUEUE_FIELDS = ("task_id", "status", "priority", "action", "detail", "symbol", "analysis_id", "workflow_id",
                "occurred_at", "decided_at")


def _queue(db: Database, status: str, limit: int) -> list[dict]:
    rows = fetch_all(db.conn, query("tasks.list"), {"workspace": db.workspace, "status": status, "limit": limit})
    return [{k: row[k] for k in QUEUE_FIELDS} for row in rows]


def list_tasks(db: Database, status: str = "pending", limit: int = 20) -> list[dict]:
    with db.transaction():
        return _queue(db, status, limit)


def pending_in_transaction(db: Database) -> int:
    """Tasks waiting for a decision (kept by triggers: migrations/011_pending_task_counts.sql)."""
    return db.conn.execute(query("presence.pending_tasks"), {"workspace": db.workspace}).fetchone()[0]


def pending_count(db: Database) -> int:
    with db.transaction():
        return pending_in_transaction(db)


def first_pending_task(db: Database) -> Optional[dict]:
    rows = _queue(db, "pending", 1)
    return rows[0] if rows else None
