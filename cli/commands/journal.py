"""``msp journal list|show|auto-log`` — journal entries, drafts and coach notes."""

from __future__ import annotations

import click

from ..context import pass_app
from ..params import TEXT


@click.group("journal")
def command():
    """Journal entries: plan drafts, alert drafts, your own entries and the coach's notes.

    \b
    Example:
      msp journal list --status open
      msp journal show jd_plan_cand-aapl-1
    """


@command.command("list")
@click.option("--status", type=click.Choice(["open", "completed", "all"]), default="all", show_default=True)
@click.option("--limit", type=click.IntRange(1, 10_000), default=50, show_default=True)
@pass_app
def list_cmd(app, status, limit):
    """List journal entries, newest first."""
    from ..render import render_rows

    render_rows(app.format, "Journal", ["journal_id", "status", "origin", "symbol", "side", "outcome",
                                        "realized_pnl", "occurred_at", "tags"],
                app.workspace.journal_list(status=status, limit=limit), empty="No journal entries yet.")


@command.command("show")
@click.argument("journal_id", type=TEXT)
@pass_app
def show_cmd(app, journal_id):
    """One entry with its notes and coach enrichments."""
    from ..render import render_record

    render_record(app.format, f"Journal {journal_id}", app.workspace.journal_show(journal_id))


@command.command("auto-log")
@click.argument("alert_id", type=TEXT)
@pass_app
def auto_log_cmd(app, alert_id):
    """Write the draft journal entry of a triggered alert (once)."""
    from ..render import emit_result

    result = app.workspace.journal_auto_log(alert_id)
    emit_result(app.format, result,
                f"journal draft {result.journal_id} {'written' if result.created else 'already existed'}")
