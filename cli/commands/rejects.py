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
    from msp.engine.reports.rejects import list_rejects

    from ..render import render_rows

    rows = list_rejects(app.database(), None if status == "all" else status, limit)
    render_rows(app.format, "Rejected lines",
                ["reject_id", "source", "line_no", "path", "message", "error_count", "status"], rows,
                empty="The quarantine is empty.")


@command.command("show")
@click.argument("reject_id", type=int)
@pass_app
def show_cmd(app, reject_id):
    """One quarantined line: raw text and every error."""
    from msp.engine.reports.rejects import show_reject

    from ..render import render_record

    render_record(app.format, f"Rejected line {reject_id}", show_reject(app.database(), reject_id))


@command.command("retry")
@click.argument("reject_ids", type=int, nargs=-1)
@click.option("--all", "retry_all", is_flag=True, help="Retry every quarantined line.")
@pass_app
def retry_cmd(app, reject_ids, retry_all):
    """Re-validate quarantined lines and ingest the ones now valid."""
    import sys

    from msp.engine.errors import UsageError
    from msp.engine.actions.rejects import retry

    from ..render import emit_counts

    if not reject_ids and not retry_all:
        raise UsageError("name the reject ids to retry, or pass --all")
    report = retry(app.database(), list(reject_ids) or None)
    emit_counts(app.format, report.counts())
    sys.exit(1 if report.still_rejected else 0)
