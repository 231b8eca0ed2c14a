"""``msp archive --before DATE`` — retention (docs/ARCHITECTURE.md#retention)."""

from __future__ import annotations

import click

from ..context import pass_app
from ..params import TEXT, Day


@click.command("archive")
@click.option("--before", "before", required=True, type=Day(),
              help="Archive workflows whose last event came before this day's local midnight.")
@click.option("--to", "to", metavar="FILE.jsonl.gz", type=TEXT,
              help="The archive file (new); default ./msp-archive-WORKSPACE-before-DATE.jsonl.gz.")
@click.option("--dry-run", is_flag=True, help="Count what would be archived; change nothing.")
@pass_app
def command(app, before, to, dry_run):
    """Move finished workflows out of the hot tables into a gzip'd JSONL file.

    A workflow is archived whole when its last event came before DATE, the
    sweep has passed it and nothing of it is open (position, pending task,
    open journal entry; an active alert goes with it).  Its events go to the file exactly as
    stored (msp ingest reads it back: every line a duplicate), its derived
    rows leave the hot tables, and reports for DATE and later do not change.

    \b
    Example:
      msp archive --before 2026-01-01 --dry-run
      msp archive --before 2026-01-01 --to archive-2025.jsonl.gz
    """
    from ..render import render_record

    render_record(app.format, "Archive", app.workspace.archive(before=before, to=to, dry_run=dry_run))
