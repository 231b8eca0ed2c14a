"""``msp operator`` — the unified operator surface: observe → evaluate → execute → review."""

from __future__ import annotations

import time

import click

from ..context import pass_app
from ..params import DAY, FiniteNumber


@click.command("operator")
@click.option("--date", "day", type=DAY, default=None, metavar="YYYY-MM-DD", help="Another day (default: today in --tz).")
@click.option("--top", type=click.IntRange(1, 20), default=3, show_default=True, help="Top attention symbols.")
@click.option("--watch", type=FiniteNumber(0.5, 86_400), default=None, metavar="SECONDS",
              help="Refresh in place every SECONDS until Ctrl-C.")
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
    from msp.engine.reports.operator import surface

    from ..operator_view import operator_view
    from ..render import console, emit_json

    db = app.database()
    if watch is None or app.format != "table":
        view = surface(db, day, top=top)
        if app.format == "json":
            emit_json(view)
        else:
            console().print(operator_view(view))
        return
    _watch(db, day, top, watch, surface, operator_view)


def _watch(db, date, top, seconds, surface, operator_view) -> None:
    """Redraw in place until Ctrl-C; keep the last good screen, with a notice, while the
    database is unreachable, and reconnect by itself."""
    import datetime as dt

    import psycopg
    from rich.console import Group
    from rich.live import Live
    from rich.text import Text

    from msp.engine.db import database_error
    from msp.engine.errors import DatabaseError

    from ..render import console

    last = None
    out = console()
    with Live(console=out, screen=True, auto_refresh=False, transient=False) as live:
        try:
            while True:
                stamp = dt.datetime.now().strftime("%H:%M:%S")
                try:
                    view = operator_view(surface(db, date, top=top))
                    last = view
                    notice = Text(f"updated {stamp} · refresh every {seconds:g}s · Ctrl-C to quit", style="dim")
                except (psycopg.OperationalError, psycopg.InterfaceError, DatabaseError) as exc:
                    db.close()  # the next round opens a fresh connection
                    message = exc.message if isinstance(exc, DatabaseError) else database_error(exc, db.url).message
                    notice = Text(f"⚠ database unreachable at {stamp}: {message} — retrying every {seconds:g}s",
                                  style="bold yellow")
                    view = last if last is not None else Text("")
                live.update(Group(notice, view), refresh=True)
                time.sleep(seconds)
        except KeyboardInterrupt:
            pass
