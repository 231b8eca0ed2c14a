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
    from msp.engine.reports.journal import list_entries

    from ..render import render_rows

    rows = list_entries(app.database(), None if status == "all" else status, limit)
    for row in rows:
        row["tags"] = " ".join(row["tags"])
    render_rows(app.format, "Journal", ["journal_id", "status", "origin", "symbol", "side", "outcome",
                                        "realized_pnl", "occurred_at", "tags"], rows, empty="No journal entries yet.")


@command.command("show")
@click.argument("journal_id", type=TEXT)
@pass_app
def show_cmd(app, journal_id):
    """One entry with its notes and coach enrichments."""
    from msp.engine.reports.journal import show_entry

    from ..render import emit_json, render_record

    entry = show_entry(app.database(), journal_id)
    if app.format == "json":
        emit_json(entry)
        return
    render_record(app.format, f"Journal {journal_id}", entry)


@command.command("auto-log")
@click.argument("alert_id", type=TEXT)
@pass_app
def auto_log_cmd(app, alert_id):
    """Write the draft journal entry of a triggered alert (once)."""
    from msp.engine.actions.alerts import journal_auto_log

    from ..render import emit_result

    result = journal_auto_log(app.database(), alert_id)
    emit_result(app.format, result,
                f"journal draft {result['journal_id']} {'written' if result['created'] else 'already existed'}")
