"""``msp ingest FILE... | -`` — load workflow events (DESIGN §4)."""

from __future__ import annotations

import contextlib
import os
import sys

import click

from msp.engine.limits import DEFAULT_BATCH_LINES, DEFAULT_MAX_DEPTH, DEFAULT_MAX_LINE_BYTES

from ..context import pass_app


@click.command("ingest")
@click.argument("files", nargs=-1, required=True, metavar="FILE... | -")
@click.option("--automate", is_flag=True, help="Run the automations right after the load.")
@click.option("--batch-size", default=DEFAULT_BATCH_LINES, show_default=True, type=click.IntRange(1, 1_000_000),
              help="Lines per committed batch.")
@click.option("--max-line-bytes", default=DEFAULT_MAX_LINE_BYTES, show_default=True, type=click.IntRange(64, 2**30),
              help="Longest accepted line.")
@click.option("--max-depth", default=DEFAULT_MAX_DEPTH, show_default=True, type=click.IntRange(2, 1000),
              help="Deepest accepted nesting of objects and arrays.")
@click.option("--follow", is_flag=True,
              help="Keep reading the FILEs as they grow (like tail -F) until SIGINT/SIGTERM.")
@click.option("--flush-ms", default=200, show_default=True, type=click.IntRange(1, 3_600_000),
              help="With --follow: commit at least this often while lines arrive.")
@click.option("--from-start", is_flag=True,
              help="Read FILEs from their first line, not from where the last run stopped.")
@click.option("--quiet", "-q", is_flag=True, help="Print rejected lines only, no summary.")
@pass_app
def command(app, files, automate, batch_size, max_line_bytes, max_depth, follow, flush_ms, from_start, quiet):
    """Load events from JSON Lines FILEs (or - for stdin).

    Bad lines are reported as FILE:LINE: path: message and quarantined
    (see `msp rejects`); good lines around them still load. Re-running the
    same file is a no-op: a FILE is read from where the last run stopped
    (a truncated, rotated or replaced file from its start). Exit code 1 if
    any line was rejected.

    \b
    Example:
      msp ingest fixtures/trading_day.jsonl --automate
      zcat events.jsonl.gz | msp ingest - --format json
      msp ingest --follow events.jsonl --automate   # a live stream
    """
    from msp.engine.ingest import IngestCallbacks
    from msp.engine.sources import resolve_sources

    from ..render import emit_counts, issue_printer

    sources = resolve_sources(files)  # a missing file fails here, before anything is read
    if follow:  # no progress bar: a followed file has no end; lines are reported as they commit
        callbacks = IngestCallbacks(on_reject=issue_printer(), on_warning=issue_printer("warning"),
                                    on_conflict=issue_printer("conflict"))
        _follow(app, files, callbacks, automate=automate, batch_size=batch_size, max_line_bytes=max_line_bytes,
                max_depth=max_depth, flush_ms=flush_ms, from_start=from_start, quiet=quiet)
    bar = _progress_bar(sources) if sys.stderr.isatty() and app.format == "table" else None
    live = bar.console if bar is not None else None  # lines go above the bar, never glued to it
    callbacks = IngestCallbacks(on_reject=issue_printer(live=live), on_warning=issue_printer("warning", live),
                                on_conflict=issue_printer("conflict", live))
    if bar is not None:
        callbacks.on_progress = lambda n: bar.update(bar.task_ids[0], advance=n)
    with bar or contextlib.nullcontext():
        result = app.workspace.ingest(sources, automate=automate, batch_size=batch_size,
                                      max_line_bytes=max_line_bytes, max_depth=max_depth, from_start=from_start,
                                      callbacks=callbacks)
    # silent in cron: the table summary only on a terminal; rejects always go to stderr
    summary = result if app.format == "json" else \
        result.model_dump(exclude={"skipped", "set_aside", "failed_workspaces"})  # the lists are for JSON
    emit_counts(app.format, summary, plain=not quiet and sys.stdout.isatty())
    if automate:
        from .automate import _say_failures

        _say_failures(result.model_dump(mode="json"))  # an event set aside: one line on stderr
    sys.exit(1 if result.rejected else 0)


def _progress_bar(sources):
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

    from rich.console import Console

    total = sum(os.path.getsize(s.path) for s in sources if s.path) or None
    bar = Progress(TextColumn("ingesting"), BarColumn(), DownloadColumn(), TimeRemainingColumn(),
                   transient=True, console=Console(stderr=True, highlight=False))
    bar.add_task("ingest", total=total)
    return bar


def _follow(app, files, callbacks, *, automate, batch_size, max_line_bytes, max_depth, flush_ms, from_start,
            quiet):
    """``--follow``: tail the files until SIGINT/SIGTERM, then print the run's summary."""
    from msp.engine.stopping import stop_on_signals

    from ..render import emit_counts

    with stop_on_signals() as stop:
        summary = app.workspace.ingest_follow(files, automate=automate, flush_ms=flush_ms, batch_size=batch_size,
                                              max_line_bytes=max_line_bytes, max_depth=max_depth,
                                              from_start=from_start, stop=stop, callbacks=callbacks)
    emit_counts(app.format, summary.model_dump(mode="json"), plain=not quiet and sys.stdout.isatty())
    sys.exit(1 if summary.rejected else 0)
