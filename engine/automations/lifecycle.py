"""Automation 4 — the trade and journal lifecycle (docs/ARCHITECTURE.md#the-automations).

trade.executed opens a position, trade.updated moves its last price and
unrealized P&L (v2: or its quantity and average entry, after a scale-in),
trade.closed closes it with realized P&L; journal.updated
upserts a journal entry, journal.completed completes it.  msp also applies
``operator.context.updated`` to the operator state (focus, attention,
cognitive load, time zone…), so the state follows the operator's own events.
It runs first in a batch: the automations after it read the state it leaves.

Unique keys: positions by trade_id, journal entries by journal_id, operator
state by workspace; every statement is an upsert that a replay leaves as is.
"""

from .base import Automation, Outcome, Scope, UniqueKey, batch_query

STATEMENTS = ("open_positions", "quote_positions", "resize_positions", "close_positions", "journal_events",
              "operator_context")


def apply(conn, scope: Scope) -> Outcome:
    params = scope.params()
    changed = sum(conn.execute(batch_query(f"lifecycle.{name}"), params).rowcount for name in STATEMENTS)
    return Outcome(created=changed)


AUTOMATION = Automation(
    name="lifecycle", order=10, counter=None,  # `msp automate` has no lifecycle counter
    unique_keys=(UniqueKey("positions", ("workspace", "trade_id")),
                 UniqueKey("journal_entries", ("workspace", "journal_id")),
                 UniqueKey("operator_state", ("workspace",))),
    triggers=("trade.executed", "trade.updated", "trade.closed", "journal.updated",
              "journal.completed", "operator.context.updated"),
    apply=apply)
