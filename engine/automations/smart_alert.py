"""Automation 2 — a smart alert for each trade plan (docs/ARCHITECTURE.md#the-automations).

``price_above`` for long plans, ``price_below`` for short ones, at the entry
zone, else the midpoint of entry low/high, else the current price.  A neutral
plan or one with no level gets no alert and is reported as skipped: one
statement classifies each plan, and both the alerts and the skip list read it.

Unique key: plan_id (``alerts`` has UNIQUE (workspace, plan_id); the alert is
``alert_<plan_id>``).
"""

from ..sql import compose
from .base import Automation, Outcome, Scope, UniqueKey, batch_query, skipped


def apply(conn, scope: Scope) -> Outcome:
    plans = batch_query("smart_alert.plans")
    return Outcome(
        created=conn.execute(compose("smart_alert.create", plans=plans), scope.params()).rowcount,
        skipped=skipped(conn, scope, compose("smart_alert.skipped", plans=plans)),
    )


AUTOMATION = Automation(name="smart_alert", order=30, counter="auto_alerts_created",
                        unique_keys=(UniqueKey("alerts", ("workspace", "plan_id")),),
                        triggers=("trade.plan.created",), apply=apply)
