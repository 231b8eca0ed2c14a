"""Automation 2 — a smart alert for each trade plan (DESIGN §5.2).

``price_above`` for long plans, ``price_below`` for short ones, at the entry
zone, else the midpoint of entry low/high, else the current price.  A neutral
plan or one with no level gets no alert and is reported as skipped.

Unique key: plan_id (``alerts`` has UNIQUE (workspace, plan_id); the alert is
``alert_<plan_id>``).
"""

from ..sql import query
from .base import Outcome, Scope, skipped

NAME = "smart_alert"
COUNTER = "auto_alerts_created"
UNIQUE_KEY = "plan_id"
TRIGGERS = ("trade.plan.created",)


def apply(conn, scope: Scope) -> Outcome:
    return Outcome(
        created=conn.execute(query("smart_alert.create"), scope.params()).rowcount,
        skipped=skipped(conn, scope, NAME, query("smart_alert.skipped")),
    )
