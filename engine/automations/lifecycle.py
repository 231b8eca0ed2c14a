"""Automation 4 — the trade and journal lifecycle (DESIGN §5.4).

trade.executed opens a position, trade.updated moves its last price and
unrealized P&L, trade.closed closes it with realized P&L; journal.updated
upserts a journal entry, journal.completed completes it.  msp also applies
``operator.context.updated`` to the operator state (focus, attention,
cognitive load, time zone…), so the state follows the operator's own events.

Unique keys: positions by trade_id, journal entries by journal_id, operator
state by workspace; every statement is an upsert that a replay leaves as is.
"""

from ..sql import query
from .base import Outcome, Scope

NAME = "lifecycle"
COUNTER = None  # the lifecycle has no counter of its own in DESIGN §5
UNIQUE_KEY = "trade_id / journal_id / workspace"
TRIGGERS = ("trade.executed", "trade.updated", "trade.closed", "journal.updated", "journal.completed",
            "operator.context.updated")
STATEMENTS = ("open_positions", "quote_positions", "close_positions", "upsert_journal",
              "complete_journal", "operator_context")


def apply(conn, scope: Scope) -> Outcome:
    params = scope.params()
    changed = sum(conn.execute(query(f"lifecycle.{name}"), params).rowcount for name in STATEMENTS)
    return Outcome(created=changed)
