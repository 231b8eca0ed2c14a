"""``msp today`` — the day's loop at a glance (DESIGN §6)."""

from __future__ import annotations

import click

from ..context import pass_app
from ..params import DAY


@click.command("today")
@click.option("--date", "day", type=DAY, default=None, metavar="YYYY-MM-DD", help="Another day (default: today in --tz).")
@pass_app
def command(app, day):
    """Today's workflow counts, loop conversion and the last coach insight.

    \b
    Example:
      msp today --tz America/New_York
      msp today --date 2026-11-20 --format json
    """
    from ..views import render_today

    render_today(app.format, app.workspace.today(date=day))
