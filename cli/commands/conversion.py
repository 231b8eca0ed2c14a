"""``msp conversion`` — the six loop rates (DESIGN §6)."""

from __future__ import annotations

import click

from ..context import pass_app
from ..params import DAY


@click.command("conversion")
@click.option("--days", type=click.IntRange(1, 3660), default=7, show_default=True, help="Window length in days.")
@click.option("--cohort", is_flag=True, help="Per-workflow rates: of workflows reaching a stage, share reaching the next.")
@click.option("--date", "day", type=DAY, default=None, metavar="YYYY-MM-DD", help="Last day of the window (default: today).")
@pass_app
def command(app, days, cohort, day):
    """Loop conversion: signal → candidate → plan → execution → closed → coach, and task acceptance.

    \b
    Example:
      msp conversion --days 30
      msp conversion --cohort --format json
    """
    from ..views import render_conversion

    render_conversion(app.format, app.workspace.conversion(days=days, cohort=cohort, date=day))
