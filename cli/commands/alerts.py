"""``msp alerts list|trigger`` — the smart alerts the automations create."""

from __future__ import annotations

import click

from ..context import pass_app
from ..params import PRICE, TEXT

STATUSES = click.Choice(["active", "triggered", "all"])


@click.group("alerts")
def command():
    """Smart alerts: one per long/short plan, at its entry level.

    \b
    Example:
      msp alerts list
      msp alerts trigger alert_plan_cand-aapl-1 --price 231.5 --auto-log
    """


@command.command("list")
@click.option("--status", type=STATUSES, default="all", show_default=True)
@click.option("--limit", type=click.IntRange(1, 10_000), default=50, show_default=True)
@pass_app
def list_cmd(app, status, limit):
    """List alerts, newest first."""
    from ..render import render_rows

    render_rows(app.format, "Alerts", ["alert_id", "symbol", "condition", "level", "status", "occurred_at",
                                       "triggered_at", "trigger_price"],
                app.workspace.alerts_list(status=status, limit=limit), empty="No alerts yet.")


@command.command("trigger")
@click.argument("alert_id", type=TEXT)
@click.option("--price", type=PRICE, required=True, help="The price that triggered the alert.")
@click.option("--auto-log", is_flag=True, help="Also write the alert's draft journal entry.")
@pass_app
def trigger_cmd(app, alert_id, price, auto_log):
    """Mark an alert triggered at --price (once)."""
    from ..render import emit_result

    result = app.workspace.alerts_trigger(alert_id, price=price, auto_log=auto_log)
    text = f"alert {alert_id} triggered at {price:g}"
    if result.journal is not None:
        text += (f"\njournal draft {result.journal.journal_id} "
                 f"{'written' if result.journal.created else 'already existed'}")
    emit_result(app.format, result, text)
