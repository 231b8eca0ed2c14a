"""Automation 1 — a trade plan from a passing candidate (docs/ARCHITECTURE.md#the-automations).

``candidate.created`` with result pass → a ``trade.plan.created`` event (actor
system, same workflow, parent = the candidate) built from the decision packet,
unless a plan for that candidate already exists.  One statement classifies
each passing candidate (gets a plan / already has one from elsewhere: skipped
/ already has msp's: done); the emission and the skip list both read it, so
they cannot disagree.  The skip list is read before the plans are emitted.

Unique key: candidate_id — the plan is ``plan_<candidate_id>`` and its event id
is ``msp.plan.<md5(candidate_id)>``.
"""

from ..sql import compose
from .base import EVENT_ID, Automation, Outcome, Scope, batch_query, emit, skipped


def apply(conn, scope: Scope) -> Outcome:
    candidates = batch_query("plan_from_candidate.candidates")
    passed_over = skipped(conn, scope, compose("plan_from_candidate.skipped", candidates=candidates))
    plans = emit(conn, scope, compose("plan_from_candidate.plan_events", candidates=candidates))
    return Outcome(created=plans, emitted=plans, skipped=passed_over)


AUTOMATION = Automation(name="plan_from_candidate", order=20, counter="auto_plans_created",
                        unique_keys=(EVENT_ID,),
                        triggers=("candidate.created",), apply=apply)
