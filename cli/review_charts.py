"""Terminal charts of ``msp review``: the equity curve with its drawdown, daily
P&L bars and a month calendar coloured by P&L.

Measured for issue 14 (the review of the demo week and of a generated year):
plotext 5.3.2 draws the best line chart (braille, real axes, two series, ANSI
colour, ``build()`` returns the text) and imports in about 80 ms; plotille
(33 ms) labels its axes with eight-digit floats, uniplot has no bars and
prints rather than returns.  plotext's bar chart draws a negative bar up from
the bottom of the plot, not down from zero, so the daily bars are rich text:
one row per day (per week past 31 days), diverging from a zero axis, with the
figure beside it.  No library draws a calendar; it is a rich table.  Only for
a terminal: a pipe gets no charts (cli/review_view.py).
"""

from __future__ import annotations

import calendar
import datetime as dt
from typing import Optional, Sequence

GAIN, LOSS, FLAT = "green", "red", "grey50"
BAR_WIDTH = 28
MAX_DAY_BARS = 31  # beyond this many days, one bar per week


def equity_chart(pnls: Sequence[float], width: int, height: int = 14) -> str:
    """The equity curve (green) and its drawdown (red, below zero), by closed trade, as ANSI text."""
    import plotext as plt

    from msp.engine.reports.review_metrics import curve_points, equity_points

    equity, drawdown = equity_points(pnls)
    xs = curve_points(equity, drawdown, 6 * max(40, width))  # a braille cell is 2 dots wide
    equity, drawdown = [equity[i] for i in xs], [drawdown[i] for i in xs]
    plt.clear_figure()
    plt.plot_size(max(40, width), height)
    plt.theme("clear")
    plt.plot(xs, equity, marker="braille", color="green", label="equity")
    plt.plot(xs, drawdown, marker="braille", color="red", label="drawdown")
    plt.xlabel("closed trades")
    text = plt.build()
    plt.clear_figure()
    return text


def _bar(value: float, scale: float, half: int):
    from rich.text import Text

    length = round(abs(value) / scale * half) if scale else 0
    if value and not length:
        length = 1
    text = Text()
    if value < 0:
        text.append(" " * (half - length))
        text.append("█" * length, style=LOSS)
        text.append("│" + " " * half, style=FLAT)
    else:
        text.append(" " * half + "│", style=FLAT)
        text.append("█" * length, style=GAIN)
        text.append(" " * (half - length))
    return text


def daily_bars(daily: list[dict], title: str = "Daily P&L"):
    """Diverging bars around zero, one row per day (per week for long periods): a rich Table."""
    from rich.table import Table
    from rich.text import Text

    from msp.engine.reports.review_metrics import weekly

    rows = daily if len(daily) <= MAX_DAY_BARS else weekly(daily)
    if len(daily) > MAX_DAY_BARS:
        title = "Weekly P&L (weeks from Monday)"
    scale = max((abs(r["net_pnl"]) for r in rows), default=0.0)
    half = BAR_WIDTH // 2
    table = Table(title=title, title_justify="left", show_header=False, box=None, pad_edge=False)
    table.add_column("day")
    table.add_column("bar")
    table.add_column("net", justify="right")
    table.add_column("trades", justify="right")
    for row in rows:
        label = dt.date.fromisoformat(row["date"]).strftime("%a %Y-%m-%d")
        style = GAIN if row["net_pnl"] > 0 else LOSS if row["net_pnl"] < 0 else FLAT
        table.add_row(label, _bar(row["net_pnl"], scale, half), Text(f"{row['net_pnl']:+,.2f}", style=style),
                      Text(f"{row['trades']} tr", style=FLAT))
    return table


def _shade(value: float, scale: float) -> str:
    """A background colour: green for gains, red for losses, stronger for bigger days."""
    if not value or not scale:
        return ""
    level = min(1.0, abs(value) / scale)
    strong = 0.35 + 0.65 * level
    channel = int(40 + 180 * strong)
    colour = f"rgb(0,{channel},0)" if value > 0 else f"rgb({channel},0,0)"
    return f"bold white on {colour}"


def month_calendars(daily: list[dict], max_months: int = 3):
    """One calendar per month the period touches (the last ``max_months``), each
    day cell coloured by its net P&L; days outside the period are dim."""
    from rich.columns import Columns
    from rich.table import Table
    from rich.text import Text

    by_day = {dt.date.fromisoformat(r["date"]): r for r in daily}
    if not by_day:
        return Text("")
    scale = max((abs(r["net_pnl"]) for r in daily), default=0.0)
    months = sorted({(d.year, d.month) for d in by_day})[-max_months:]
    tables = []
    for year, month in months:
        table = Table(title=dt.date(year, month, 1).strftime("%B %Y"), title_justify="left", show_lines=False,
                      padding=(0, 0))
        for name in ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"):
            table.add_column(name, justify="right", width=8)
        for week in calendar.Calendar().monthdatescalendar(year, month):
            cells = []
            for day in week:
                if day.month != month:
                    cells.append(Text(""))
                    continue
                row: Optional[dict] = by_day.get(day)
                if row is None:
                    cells.append(Text(f"{day.day:>2}      ", style="grey30"))
                elif row["trades"] == 0:
                    cells.append(Text(f"{day.day:>2}      ", style=FLAT))
                else:
                    cells.append(Text(f"{day.day:>2}{_short(row['net_pnl']):>6}", style=_shade(row["net_pnl"], scale)))
            table.add_row(*cells)
        tables.append(table)
    return Columns(tables)


def _short(value: float) -> str:
    """A P&L in at most 6 characters: +789, -1.2k, +12k."""
    size = abs(value)
    sign = "+" if value > 0 else "-" if value < 0 else ""
    if size < 1000:
        return f"{sign}{size:.0f}"
    if size < 10_000:
        return f"{sign}{size / 1000:.1f}k"
    if size < 1_000_000:
        return f"{sign}{size / 1000:.0f}k"
    return f"{sign}{size / 1_000_000:.0f}M"
