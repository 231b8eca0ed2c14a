"""Smart alerts: listing, triggering, and the alert-triggered journal draft (docs/ARCHITECTURE.md#the-automations).

An alert is triggered once, by the operator (``msp alerts trigger ID --price
P``), at the database's clock.  The first trigger wins, also when several run
at once: the flip is ``UPDATE … WHERE status = 'active'``, and a trigger that
finds the alert already flipped (by an earlier call, or by one that committed
while it waited for the row) is refused with the stored price (exit 1); its
price is never stored and never reported as triggered.  ``auto_log`` writes a draft journal entry
``ja_<alert_id>`` and a ``journal.draft.created`` event dated by the trigger;
its unique key is the alert trigger, so a second call changes nothing.
"""

from __future__ import annotations


from .. import numbers
from ..db import Database, fetch_one, retry_conflicts
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

    def attempt() -> None:
        with db.transaction():
            _alert(db, alert_id)  # not found: exit 1
            flipped = db.conn.execute(query("alerts.trigger"),
                                      {"workspace": db.workspace, "alert_id": alert_id, "price": price}).fetchone()
            if flipped is None:  # triggered before, or by a concurrent call that committed first
                winner = _alert(db, alert_id)
                raise InputRejected(f"alert {alert_id} was already triggered at price {winner['trigger_price']} "
                                    f"at {winner['triggered_at']:%Y-%m-%d %H:%M:%S%z}; --price {price:.15g} "
                                    f"was not stored")

    retry_conflicts(attempt)
    result = {"alert_id": alert_id, "status": "triggered", "price": price}
    if auto_log:
        result["journal"] = journal_auto_log(db, alert_id)
    return result


def journal_auto_log(db: Database, alert_id: str) -> dict:
    """Draft the journal entry of a triggered alert (once)."""

    def attempt() -> bool:
        with db.transaction():
            alert = _alert(db, alert_id)
            if alert["status"] != "triggered":
                raise InputRejected(f"alert {alert_id} has not been triggered yet "
                                    f"(msp alerts trigger {alert_id} --price P)")
            created = db.conn.execute(query("alerts.create_draft"),
                                      {"workspace": db.workspace, "alert_id": alert_id}).fetchone()
            append_own_event(db.conn, db.workspace, EVENT_SOURCE, query("alerts.draft_event"),
                             {"workspace": db.workspace, "alert_id": alert_id,
                              "occurred_at": alert["triggered_at"].isoformat()})
        return created is not None

    return {"journal_id": f"ja_{alert_id}", "created": retry_conflicts(attempt)}

