"""Automation 1 — a trade plan from a passing candidate (DESIGN §5.1).

``candidate.created`` with result pass → a ``trade.plan.created`` event (actor
system, same workflow, parent = the candidate) built from the decision packet,
unless a plan for that candidate already exists.

Unique key: candidate_id — the plan is ``plan_<candidate_id>`` and its event id
is ``msp.plan.<md5(candidate_id)>``.
"""

from ..sql import query
from .base import Outcome, Scope, emit, skipped

NAME = "plan_from_candidate"
COUNTER = "auto_plans_created"
UNIQUE_KEY = "candidate_id"
TRIGGERS = ("candidate.created",)


def apply(conn, scope: Scope) -> Outcome:
    plans = emit(conn, scope, query("plan_from_candidate.plan_events"))
    return Outcome(created=plans, emitted=plans,
                   skipped=skipped(conn, scope, NAME, query("plan_from_candidate.skipped")))
