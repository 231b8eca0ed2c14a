"""Automation 7 — journal enrichment with the coach's summary (docs/ARCHITECTURE.md#the-automations).

The newest open journal entry of the analysis's workflow (else the open entry
of the trade's plan, else the symbol's newest open entry) gets the coach
summary appended once: analysis id, win rate, averages, expectancy and up to
three recommendations.  An analysis with no open entry is reported as
skipped by the same statement that looked for its target.

Unique key: (journal entry, analysis) — ``journal_enrichments`` primary key;
an analysis enriches at most one entry.
"""

from .base import Automation, Outcome, Scope, UniqueKey, batch_query


def apply(conn, scope: Scope) -> Outcome:
    added, _entries, passed_over = conn.execute(batch_query("journal_enrichment.enrich"), scope.params()).fetchone()
    return Outcome(created=added, skipped=[] if scope.replay else [tuple(item) for item in passed_over])


AUTOMATION = Automation(name="journal_enrichment", order=70, counter="auto_coach_journal_updates",
                        unique_keys=(UniqueKey("journal_enrichments", ("workspace", "journal_id", "analysis_id")),
                                     UniqueKey("journal_enrichments", ("workspace", "analysis_id"))),
                        triggers=("coach.analysis.generated",),
                        apply=apply)
