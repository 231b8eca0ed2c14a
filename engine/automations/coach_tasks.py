"""Automation 6 — coach action tasks (DESIGN §5.6).

Every ``coach.analysis.generated`` event (msp's own or ingested history) is
stored as a coach analysis row, and its first three recommendations become
pending tasks announced by ``strategy.rule.suggested`` events.

Unique key: task_id = ``task_<analysis_id>_<n>`` (event id
``msp.task.<md5(task_id)>``).
"""

from ..sql import compose, query
from .base import Outcome, Scope, emit

NAME = "coach_tasks"
COUNTER = "auto_coach_action_tasks_created"
UNIQUE_KEY = "task_id"
TRIGGERS = ("coach.analysis.generated",)


def apply(conn, scope: Scope) -> Outcome:
    analyses = query("coach_tasks.analyses")
    recommendations = compose("coach_tasks.recommendations", analyses=analyses)
    params = scope.params()
    conn.execute(compose("coach_tasks.store_analyses", analyses=analyses), params)
    created = conn.execute(compose("coach_tasks.create_tasks", recommendations=recommendations), params).rowcount
    emitted = emit(conn, scope, compose("coach_tasks.suggested_events", recommendations=recommendations))
    return Outcome(created=created, emitted=emitted)
