"""Automation 5 — a coach analysis on every close (docs/ARCHITECTURE.md#the-automations).

``trade.closed`` → a ``coach.analysis.generated`` event (parent = the close,
same workflow) with statistics over the workspace's last 20 closed trades up
to and including this close, ordered by close time then event id — so the
numbers depend only on the trades closed before it, not on ingest order or
when the runner ran.  win_rate = wins / sample × 100 (win: P&L > 0, loss:
P&L < 0); avg_win / avg_loss are means of winning P&L and of absolute losing
P&L; expectancy = (win_rate/100)·avg_win − (1 − win_rate/100)·avg_loss.  The
recommendations and their order are in ``sql/coach_analysis.sql``.

Unique key: the close event (analysis ``ca_<md5(close event id)[:12]>``,
event id ``msp.coach.<md5(close event id)>``; the coach's sample by close
event).  The analysis row itself is stored by the coach-tasks automation,
from the event.
"""

from .. import statistics
from ..sql import query
from .base import EVENT_ID, Automation, Outcome, Scope, UniqueKey, batch_query, emit


ANALYZE_AFTER = 1000  # closes projected at once before the planner needs fresh statistics


def project_closes(conn, scope: Scope) -> None:
    """Bring every stored close into the coach's sample before analysing the batch.
    After a large catch-up (a first sweep over imported history) the table's
    statistics are refreshed, so the "last 20 closes" look-up stays an index scan."""
    params = {"workspace": scope.workspace}
    floor = conn.execute(query("coach_analysis.projected_up_to"), params).fetchone()[0]
    added = conn.execute(query("coach_analysis.project_closes"), {**params, "floor": floor}).rowcount
    if added >= ANALYZE_AFTER:
        statistics.refresh(conn, ("closed_trades",), added=added)


def apply(conn, scope: Scope) -> Outcome:
    project_closes(conn, scope)
    analyses = emit(conn, scope, batch_query("coach_analysis.analysis_events"))
    return Outcome(created=analyses, emitted=analyses)


AUTOMATION = Automation(name="coach_analysis", order=50, counter="auto_coach_analyses_generated",
                        unique_keys=(UniqueKey("closed_trades", ("workspace", "close_event_id")), EVENT_ID),
                        triggers=("trade.closed",),
                        apply=apply)
