"""Automation 6 — coach action tasks (docs/ARCHITECTURE.md#the-automations).

Every ``coach.analysis.generated`` event (msp's own or ingested history) is
stored as a coach analysis row, and its first three recommendations become
pending tasks announced by ``strategy.rule.suggested`` events.

Unique key: task_id = ``task_<analysis_id>_<n>`` (event id
``msp.task.<md5(task_id)>``); the analysis row by analysis_id.
"""

from ..sql import compose
from .base import EVENT_ID, Automation, Outcome, Scope, UniqueKey, batch_query, emit


def apply(conn, scope: Scope) -> Outcome:
    analyses = batch_query("coach_tasks.analyses")
    recommendations = compose("coach_tasks.recommendations", analyses=analyses)
    params = scope.params()
    conn.execute(compose("coach_tasks.store_analyses", analyses=analyses), params)
    created = conn.execute(compose("coach_tasks.create_tasks", recommendations=recommendations), params).rowcount
    emitted = emit(conn, scope, compose("coach_tasks.suggested_events", recommendations=recommendations))
    return Outcome(created=created, emitted=emitted)


AUTOMATION = Automation(name="coach_tasks", order=60, counter="auto_coach_action_tasks_created",
                        unique_keys=(UniqueKey("coach_analyses", ("workspace", "analysis_id")),
                                     UniqueKey("coach_tasks", ("workspace", "task_id")), EVENT_ID),
                        triggers=("coach.analysis.generated",),
                        apply=apply)
