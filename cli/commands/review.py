"""``msp review`` — the weekly, monthly or any-period review (issue 14)."""

from __future__ import annotations

import click

from ..context import pass_app
from ..params import TEXT

DIMENSIONS = ("symbol", "strategy", "weekday", "hour", "tag")  # engine/reports/review.py DIMENSIONS


@click.command("review")
@click.option("--week", type=TEXT, is_flag=False, flag_value="last", default=None, metavar="[DATE]",
              help="The Monday–Sunday week holding DATE (no DATE: the last complete week).")
@click.option("--month", type=TEXT, is_flag=False, flag_value="last", default=None, metavar="[YYYY-MM]",
              help="A calendar month (no value: the last complete month).")
@click.option("--from", "date_from", type=TEXT, default=None, metavar="YYYY-MM-DD", help="First day of the period.")
@click.option("--to", "date_to", type=TEXT, default=None, metavar="YYYY-MM-DD", help="Last day of the period (included).")
@click.option("--by", type=click.Choice(DIMENSIONS), default="symbol", show_default=True,
              help="Group the trades by this.")
@click.option("--rule-window", type=click.IntRange(1, 1000), default=10, show_default=True,
              help="Closes before and after each accepted coach rule to compare.")
@click.option("--html", "html_path", type=TEXT, default=None, metavar="FILE",
              help="Also write the review as one self-contained HTML file (no network needed to view it).")
@pass_app
def command(app, week, month, date_from, date_to, by, rule_window, html_path):
    """The review: metrics, equity and drawdown, daily P&L, calendar, edge, leak, and the rules you accepted.

    Without a period option: this week so far.  Trades are counted by close
    time, in the operator's zone (--tz).

    \b
    Example:
      msp review --week 2026-11-20
      msp review --month 2026-11 --by strategy --format json
      msp review --from 2026-01-01 --to 2026-06-30 --html review.html
    """
    from ..review_view import render_review

    report = app.workspace.review(week=week, month=month, date_from=date_from, date_to=date_to, by=by,
                              rule_window=rule_window, html=html_path)
    render_review(app.format, report)
    if html_path and app.format == "table":
        click.echo(f"wrote {html_path}", err=True)
