"""``msp tasks list|accept|reject`` — the coach action queue (DESIGN §6)."""

from __future__ import annotations

import sys

import click

from ..context import pass_app
from ..params import TEXT


@click.group("tasks")
def command():
    """The coach action queue: strategy-rule tasks to accept or reject.

    \b
    Example:
      msp tasks list
      msp tasks accept task_ca_0123456789ab_1
    """


@command.command("list")
@click.option("--status", type=click.Choice(["pending", "resolved", "all"]), default="pending", show_default=True)
@click.option("--limit", type=click.IntRange(1, 10_000), default=20, show_default=True)
@pass_app
def list_cmd(app, status, limit):
    """List tasks: pending first, high priority first, oldest first."""
    from msp.engine.reports.tasks import list_tasks, pending_count

    from ..views import empty_queue_message, render_tasks

    db = app.database()
    tasks = list_tasks(db, status, limit)
    empty = empty_queue_message(status, pending_count(db)) if not tasks and app.format == "table" else ""
    render_tasks(app.format, tasks, empty=empty)


def _decide(app, task_id, verb):
    from msp.engine.actions.tasks import decide

    from ..render import emit_result

    result = decide(app.database(), task_id, verb)
    emit_result(app.format, {"task_id": task_id, "status": result.task["status"], "changed": result.changed,
                             "message": result.message}, result.message)


@command.command("accept")
@click.argument("task_id", type=TEXT)
@pass_app
def accept_cmd(app, task_id):
    """Accept a pending task (writes a strategy.rule.applied event)."""
    _decide(app, task_id, "accept")


@command.command("reject")
@click.argument("task_id", type=TEXT)
@pass_app
def reject_cmd(app, task_id):
    """Reject a pending task (writes a strategy.rule.applied event)."""
    _decide(app, task_id, "reject")
