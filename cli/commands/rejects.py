"""``msp rejects list|show|retry`` — the quarantine of rejected input lines."""

from __future__ import annotations

import click

from ..context import pass_app


@click.group("rejects")
def command():
    """Quarantined input lines: every rejected line is kept with its errors.

    \b
    Example:
      msp rejects list
      msp rejects show 12
      msp rejects retry --all        # after a schema fix
    """


@command.command("list")
@click.option("--status", type=click.Choice(["rejected", "retried", "all"]), default="rejected", show_default=True)
@click.option("--limit", type=click.IntRange(1, 100_000), default=50, show_default=True)
@pass_app
def list_cmd(app, status, limit):
    """List quarantined lines with their first error."""
    from ..render import render_rows

    render_rows(app.format, "Rejected lines",
                ["reject_id", "source", "line_no", "path", "message", "error_count", "status"],
                app.workspace.rejects_list(status=status, limit=limit), empty="The quarantine is empty.")


@command.command("show")
@click.argument("reject_id", type=int)
@pass_app
def show_cmd(app, reject_id):
    """One quarantined line: raw text and every error."""
    from ..render import render_record

    render_record(app.format, f"Rejected line {reject_id}", app.workspace.rejects_show(reject_id))


@command.command("retry")
@click.argument("reject_ids", type=int, nargs=-1)
@click.option("--all", "retry_all", is_flag=True, help="Retry every quarantined line.")
@pass_app
def retry_cmd(app, reject_ids, retry_all):
    """Re-validate quarantined lines and ingest the ones now valid."""
    import sys

    from ..render import emit_counts

    result = app.workspace.rejects_retry(reject_ids, all=retry_all)
    emit_counts(app.format, result)
    sys.exit(1 if result.still_rejected else 0)
