"""Automation 8 — the review's facts of each close (docs/ARCHITECTURE.md#the-automations).

``msp review`` groups a trade by what its workflow says: its entry, its plan's
first stop and signal type, its journal's strategy and tags, its signal
(``engine/sql/review.sql`` ``trade_facts``).  This automation keeps those facts
beside each close in ``closed_trades`` (``migrations/019_review_facts.sql``):
whenever a batch brings an event of a type they are read from, the facts of
every close of that event's workflow are computed again, and written where
they changed.  It runs after the coach's projection of the batch's closes
(``coach_analysis``, order 50), so a close has its facts in the batch that
brings it.  Each batch also fills the facts of up to ``BACKLOG`` closes that
have none (a close projected ahead of its batch, or stored before the
migration), oldest first, so an upgraded workspace catches up as it sweeps.

The review reads these facts as of the sweep's checkpoint and computes the
rest from the events (``review.window_trades``), so its answer never depends
on whether, or how far, the sweep ran.  No side effect of its own: the
unique key is the close's row.
"""

from .. import trade_facts
from .base import Automation, Outcome, Scope, UniqueKey, batch_query

BACKLOG = 1000  # closes without facts filled per batch (about 0.1 s of a batch, on a busy trader, after an upgrade)
# the event types trade_facts reads (tests/test_review.py checks they are the same)
TRIGGERS = ("trade.closed", "trade.executed", "trade.plan.created", "journal.updated", "signal.created")


def apply(conn, scope: Scope) -> Outcome:
    touched = conn.execute(batch_query("review_facts.workflows"),
                           scope.params(backlog=BACKLOG, triggers=list(TRIGGERS))).fetchall()
    trade_facts.store(conn, scope.workspace, [row[0] for row in touched])
    return Outcome()


AUTOMATION = Automation(name="review_facts", order=80, counter=None,  # `msp automate` has no counter for it
                        unique_keys=(UniqueKey("closed_trades", ("workspace", "close_event_id")),),
                        triggers=TRIGGERS, apply=apply)
