"""``msp state show|set`` — the operator state (DESIGN §6)."""

from __future__ import annotations

import click

from ..context import pass_app
from ..params import SCORE, TEXT


@click.group("state")
def command():
    """The operator state: focus, risk, attention, cognitive load, time zone.

    \b
    Example:
      msp state show
      msp state set --timezone America/New_York --attention-score 72
    """


@command.command("show")
@pass_app
def show_cmd(app):
    """Show the operator state."""
    from ..render import render_record

    render_record(app.format, "Operator state", app.workspace.state_show())


@command.command("set")
@click.option("--focus", type=TEXT, default=None)
@click.option("--active-candidates", type=TEXT, default=None, help="Comma-separated candidate ids.")
@click.option("--risk-environment", type=TEXT, default=None)
@click.option("--attention-score", type=SCORE, default=None)
@click.option("--mode", type=TEXT, default=None)
@click.option("--cognitive-load", type=SCORE, default=None)
@click.option("--timezone", type=TEXT, default=None, help="IANA zone, e.g. America/New_York.")
@pass_app
def set_cmd(app, focus, active_candidates, risk_environment, attention_score, mode, cognitive_load, timezone):
    """Set one or more fields of the operator state."""
    from ..render import render_record

    state = app.workspace.state_set(focus=focus, active_candidates=active_candidates,
                                    risk_environment=risk_environment, attention_score=attention_score, mode=mode,
                                    cognitive_load=cognitive_load, timezone=timezone)
    render_record(app.format, "Operator state", state)
