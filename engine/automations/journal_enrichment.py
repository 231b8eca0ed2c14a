"""Automation 7 — journal enrichment with the coach's summary (DESIGN §5.7).

The newest open journal entry of the analysis's workflow (else the open entry
of the trade's plan, else the symbol's newest open entry) gets the coach
summary appended once: analysis id, win rate, averages, expectancy and up to
three recommendations.

Unique key: (journal entry, analysis) — ``journal_enrichments`` primary key;
an analysis enriches at most one entry.
"""

from ..sql import query
from .base import Outcome, Scope, skipped

NAME = "journal_enrichment"
COUNTER = "auto_coach_journal_updates"
UNIQUE_KEY = "(journal_id, analysis_id)"
TRIGGERS = ("coach.analysis.generated",)


def apply(conn, scope: Scope) -> Outcome:
    added, _entries = conn.execute(query("journal_enrichment.enrich"), scope.params()).fetchone()
    return Outcome(created=added, skipped=skipped(conn, scope, NAME, query("journal_enrichment.skipped")))
