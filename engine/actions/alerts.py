"""Smart alerts: listing, triggering, and the alert-triggered journal draft (docs/ARCHITECTURE.md#the-automations).

An alert is triggered once, by the operator (``msp alerts trigger ID --price
P``), at the database's clock.  ``auto_log`` writes a draft journal entry
``ja_<alert_id>`` and a ``journal.draft.created`` event dated by the trigger;
its unique key is the alert trigger, so a second call changes nothing.
"""

from __future__ import annotations

from typing import Optional

from .. import numbers
from ..db import Database, fetch_one
from ..errors import InputRejected, NotFound
from ..event_store import append_own_event
from ..sql import query

EVENT_SOURCE = "msp:alerts"


def _alert(db: Database, alert_id: str) -> dict:
    row = fetch_one(db.conn, query("alerts.get"), {"workspace": db.workspace, "alert_id": alert_id})
    if row is None:
        raise NotFound(f"alert not found: {alert_id}")
    return row


def trigger(db: Database, alert_id: str, price: float, auto_log: bool = False) -> dict:
    """Mark an active alert triggered at ``price`` (a finite number > 0); optionally
    draft its journal entry."""
    price = numbers.price(price)
    with db.transaction():
        alert = _alert(db, alert_id)
        if alert["status"] == "triggered":
            raise InputRejected(f"alert {alert_id} was already triggered at {alert['triggered_at']:%Y-%m-%d %H:%M:%S%z}")
        db.conn.execute(query("alerts.trigger"), {"workspace": db.workspace, "alert_id": alert_id, "price": price})
    result = {"alert_id": alert_id, "status": "triggered", "price": price}
    if auto_log:
        result["journal"] = journal_auto_log(db, alert_id)
    return result


def journal_auto_log(db: Database, alert_id: str) -> dict:
    """Draft the journal entry of a triggered alert (once)."""
    with db.transaction():
        alert = _alert(db, alert_id)
        if alert["status"] != "triggered":
            raise InputRejected(f"alert {alert_id} has not been triggered yet (msp alerts trigger {alert_id} --price P)")
        created = db.conn.execute(query("alerts.create_draft"),
                                  {"workspace": db.workspace, "alert_id": alert_id}).fetchone()
        journal_id = f"ja_{alert_id}"
        append_own_event(db.conn, db.workspace, EVENT_SOURCE, query("alerts.draft_event"),
                         {"workspace": db.workspace, "alert_id": alert_id,
                          "occurred_at": alert["triggered_at"].isoformat()})
    return {"journal_id": journal_id, "created": created is not None}

