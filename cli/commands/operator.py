"""``msp operator`` — the unified operator surface: observe → evaluate → execute → review."""

from __future__ import annotations

import time

import click

from msp.engine.reports.presence import DEFAULT_TOP, TOP_RANGE

from ..context import pass_app
from ..params import DAY, FiniteNumber


@click.command("operator")
@click.option("--date", "day", type=DAY, default=None, metavar="YYYY-MM-DD", help="Another day (default: today in --tz).")
@click.option("--top", type=click.IntRange(*TOP_RANGE), default=DEFAULT_TOP, show_default=True,
              help="Top attention symbols.")
@click.option("--watch", type=FiniteNumber(0.5, 86_400), default=None, metavar="SECONDS",
              help="Refresh every SECONDS until Ctrl-C: in place on a terminal; in a pipe, one "
                   "plain-text screen (or, with --format json, one JSON line) per refresh.")
@pass_app
def command(app, day, top, watch):
    """Everything an operator needs on one screen: today's workflow, loop
    conversion, the last coach insight, the coach action queue (with the
    command to decide each task), operator presence and the day's signal sources.

    \b
    Example:
      msp operator --tz America/New_York
      msp operator --watch 5
      msp operator --format json
    """
    from ..operator_view import operator_view
    from ..render import console, emit_model, refuse_csv

    refuse_csv(app.format, "operator", "the surface is several tables; msp today, presence and tasks list each give CSV")
    ws = app.workspace
    out = console()
    if watch is None:
        view = ws.operator(date=day, top=top)
        if app.format == "json":
            emit_model(view)
        else:
            out.print(operator_view(view.model_dump()))
        return
    if out.terminal and app.format == "table":
        _watch_live(ws, day, top, watch, operator_view, out)
    else:
        _watch_stream(ws, day, top, watch, operator_view, out, as_json=app.format == "json")


def _refresh(ws, date, top, seconds):
    """One refresh: (the surface, None), or (None, a notice) while the database is
    unreachable — the connection is closed so the next round opens a fresh one."""
    import datetime as dt

    import psycopg

    from msp.engine.db import database_error
    from msp.engine.errors import DatabaseError

    stamp = dt.datetime.now().strftime("%H:%M:%S")
    try:
        return ws.operator(date=date, top=top), f"updated {stamp} · refresh every {seconds:g}s · Ctrl-C to quit"
    except (psycopg.OperationalError, psycopg.InterfaceError, DatabaseError) as exc:
        ws.close()
        message = exc.message if isinstance(exc, DatabaseError) else database_error(exc, ws.url or "").message
        return None, f"⚠ database unreachable at {stamp}: {message} — retrying every {seconds:g}s"


def _watch_live(ws, date, top, seconds, operator_view, out) -> None:
    """Redraw in place until Ctrl-C; keep the last good screen, with a notice, while the
    database is unreachable, and reconnect by itself."""
    from rich.console import Group
    from rich.live import Live

    from ..render import rich_text

    last = None
    with Live(console=out.rich, screen=True, auto_refresh=False, transient=False) as live:
        try:
            while True:
                view, notice = _refresh(ws, date, top, seconds)
                if view is not None:
                    last = operator_view(view.model_dump())
                live.update(Group(rich_text(notice, "dim" if view is not None else "bold yellow"),
                                  last if last is not None else rich_text("")), refresh=True)
                time.sleep(seconds)
        except KeyboardInterrupt:
            pass


def _watch_stream(ws, date, top, seconds, operator_view, out, as_json: bool) -> None:
    """In a pipe: each refresh printed whole, as plain text under its notice line
    (a blank line between refreshes), or as one compact JSON object per line;
    an outage prints its notice on stderr and the stream goes on."""
    import sys

    from ..render import to_json_line

    try:
        while True:
            view, notice = _refresh(ws, date, top, seconds)
            if view is None:
                sys.stderr.write(f"msp: {notice}\n")
                sys.stderr.flush()
            elif as_json:
                out.stream.write(to_json_line(view.model_dump(mode="json")) + "\n")
            else:
                out.print(notice)
                out.print(operator_view(view.model_dump()))
                out.stream.write("\n")
            out.stream.flush()
            time.sleep(seconds)
    except KeyboardInterrupt:
        pass
