"""``msp presence`` — the operator presence panel (DESIGN §6)."""

from __future__ import annotations

import click

from msp.engine.reports.presence import DEFAULT_TOP, TOP_RANGE

from ..context import pass_app


@click.command("presence")
@click.option("--top", type=click.IntRange(*TOP_RANGE), default=DEFAULT_TOP, show_default=True,
              help="Top attention symbols.")
@pass_app
def command(app, top):
    """Market state, volatility, risk load, pending tasks, top attention and suggested actions.

    \b
    Example:
      msp presence --top 5
    """
    from ..views import render_presence

    render_presence(app.format, app.workspace.presence(top=top))
