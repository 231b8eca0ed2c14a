"""The quarantine of automation failures, read side (``msp automate failures list|show``):
events the sweep set aside because an automation could not apply them
(engine/automations/runner.py, migrations/016_automation_failures.sql)."""

from __future__ import annotations

from typing import Optional

from ..db import Database, fetch_all, fetch_one
from ..errors import NotFound
from ..numbers import BIGINT_MAX
from ..sql import query


def list_failures(db: Database, status: Optional[str] = "failed", limit: int = 50) -> list[dict]:
    with db.transaction():
        return fetch_all(db.conn, query("automation_failures.list"),
                         {"workspace": db.workspace, "status": status, "limit": limit})


def show_failure(db: Database, failure_id: int) -> dict:
    if not 0 < failure_id <= BIGINT_MAX:  # no row can have it (and PostgreSQL would refuse the number)
        raise NotFound(f"automation failure not found: {failure_id}")
    with db.transaction():
        row = fetch_one(db.conn, query("automation_failures.get"),
                        {"workspace": db.workspace, "failure_id": failure_id})
    if row is None:
        raise NotFound(f"automation failure not found: {failure_id}")
    return row
