"""``msp tasks list|accept|reject`` — the coach action queue (DESIGN §6)."""

from __future__ import annotations


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
    from msp.engine.reports.tasks import pending_count

    from ..views import empty_queue_message, render_tasks

    ws = app.workspace
    tasks = ws.tasks_list(status=status, limit=limit)
    empty = empty_queue_message(status, pending_count(ws.db)) if not tasks and app.format == "table" else ""
    render_tasks(app.format, tasks, empty=empty)


def _render_decision(app, result):
    from ..render import emit_result

    emit_result(app.format, result, result.message)


@command.command("accept")
@click.argument("task_id", type=TEXT)
@pass_app
def accept_cmd(app, task_id):
    """Accept a pending task (writes a strategy.rule.applied event)."""
    _render_decision(app, app.workspace.tasks_accept(task_id))


@command.command("reject")
@click.argument("task_id", type=TEXT)
@pass_app
def reject_cmd(app, task_id):
    """Reject a pending task (writes a strategy.rule.applied event)."""
    _render_decision(app, app.workspace.tasks_reject(task_id))
