"""``msp trace WORKFLOW_ID|EVENT_ID`` — the event chain as a tree (DESIGN §6)."""

from __future__ import annotations

import click

from ..context import pass_app
from ..params import TEXT


@click.command("trace")
@click.argument("ident", metavar="WORKFLOW_ID|EVENT_ID", type=TEXT)
@pass_app
def command(app, ident):
    """Show a workflow's events as a parent → children tree.

    \b
    Example:
      msp trace wf-2026-11-20-aapl
    """
    from ..views import render_trace

    render_trace(app.format, app.workspace.trace(ident))
