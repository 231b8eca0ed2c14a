"""Retrying automation failures (``msp automate failures retry``).

An event the sweep set aside (engine/automations/runner.py) is applied again
by every automation it triggers, exactly as its batch would have: under the
workspace's writer lock, each failure in a savepoint of one transaction.  One
that applies now is marked retried; one that fails again keeps its place with
the new reason and one more attempt.  The events the automations emit on a
retry (a plan, an analysis) come after the checkpoint, so the next
``msp automate`` sweeps them like any other.  Every side effect has its
unique key, so a retry creates only what is missing.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Optional

import psycopg

from ..automations.base import Scope
from ..automations.runner import RunReport, _apply, error_line, is_poison
from ..db import Database, retry_conflicts, workspace_transaction
from ..event_store import lock_writers
from ..sql import query
from .retry_queue import rows_to_retry


@dataclass
class FailureRetry:
    retried: int = 0
    applied: int = 0
    still_failed: int = 0

    def counts(self) -> dict:
        return asdict(self)


def retry(db: Database, ids: Optional[list[int]] = None) -> FailureRetry:
    """Apply the automations again to set-aside events (all, or ``ids``)."""
    conn, workspace = db.conn, db.workspace

    def attempt() -> FailureRetry:
        outcome = FailureRetry()
        with workspace_transaction(conn, workspace):
            lock_writers(conn, workspace)  # the same lock order as the sweep
            rows = rows_to_retry(conn, "automation_failures.pending", workspace, ids, "automation failure")
            for row in rows:
                outcome.retried += 1
                params = {"workspace": workspace, "failure_id": row["failure_id"]}
                try:
                    with conn.transaction():  # a savepoint: a failure again leaves nothing behind
                        _apply(conn, Scope(workspace, row["seq"] - 1, row["seq"]), 1, [row["event_type"]],
                               RunReport())
                        conn.execute(query("automation_failures.mark_retried"), params)
                    outcome.applied += 1
                except psycopg.Error as exc:
                    if not is_poison(exc):
                        raise
                    conn.execute(query("automation_failures.failed_again"),
                                 {**params, "automation": getattr(exc, "msp_automation", None),
                                  "sqlstate": exc.sqlstate, "message": error_line(exc)})
                    outcome.still_failed += 1
        return outcome

    return retry_conflicts(attempt)
