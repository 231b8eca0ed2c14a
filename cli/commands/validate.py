"""``msp validate FILE|-`` — check events against the schemas without a database."""

from __future__ import annotations

import sys

import click

from ..context import pass_app


@click.command("validate")
@click.argument("files", nargs=-1, required=True, metavar="FILE... | -")
@pass_app
def command(app, files):
    """Check JSON Lines FILEs (or - for stdin) exactly as `msp ingest` would,
    without touching a database. Exit code 1 if any line is invalid.

    \b
    Example:
      msp validate fixtures/bad_lines.jsonl
    """
    from msp.engine.ingest import IngestCallbacks

    from ..render import emit_counts, issue_printer

    result = app.workspace.validate(files, callbacks=IngestCallbacks(on_reject=issue_printer(),
                                                                     on_warning=issue_printer("warning")))
    emit_counts(app.format, result)
    sys.exit(1 if result.invalid else 0)
