"""Automation 3 — an open draft journal entry for each trade plan (docs/ARCHITECTURE.md#the-automations).

The draft carries symbol, side, workflow, plan, decision packet, source,
direction, risk score and the tags ``auto_plan_draft``, ``workflow_<id>``,
``plan_<id>``, ``dp_<id>``; a ``journal.draft.created`` event announces it.

Unique key: plan_id (the entry is ``jd_<plan_id>``; the event id is
``msp.draft.<md5(plan_id)>``).
"""

from ..sql import compose
from .base import EVENT_ID, Automation, Outcome, Scope, UniqueKey, batch_query, emit


def apply(conn, scope: Scope) -> Outcome:
    plans = batch_query("plan_journal_draft.plans")
    created = conn.execute(compose("plan_journal_draft.create_entries", plans=plans), scope.params()).rowcount
    emitted = emit(conn, scope, compose("plan_journal_draft.draft_events", plans=plans))
    return Outcome(created=created, emitted=emitted)


AUTOMATION = Automation(name="plan_journal_draft", order=40, counter="auto_journal_drafts_created",
                        unique_keys=(UniqueKey("journal_entries", ("workspace", "journal_id")), EVENT_ID),
                        triggers=("trade.plan.created",),
                        apply=apply)
