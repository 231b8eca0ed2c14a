"""Rendering ``msp review``: JSON (the model as is), CSV (one row per bucket,
the period's totals first as ``(all)``), or tables — with the charts of
cli/review_charts.py when stdout is a terminal."""

from __future__ import annotations

import sys
from typing import Any

from .render import console, emit_csv, emit_json, safe_text, table

METRIC_COLUMNS = ("trades", "wins", "losses", "breakeven", "win_rate", "avg_win", "avg_loss", "expectancy",
                  "profit_factor", "net_pnl", "best_trade", "worst_trade", "max_drawdown", "longest_losing_streak",
                  "avg_hold", "avg_r")


def _money(value: Any) -> str:
    return "—" if value is None else f"{value:+,.2f}"


def _plain(value: Any, digits: int = 2) -> str:
    return "—" if value is None else f"{value:,.{digits}f}"


def _percent(value: Any) -> str:
    return "—" if value is None else f"{value:.1f}%"


def _hold(seconds: Any) -> str:
    if seconds is None:
        return "—"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes}m"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours}h{minutes:02d}m"
    return f"{hours / 24:.1f}d"


def _r(value: Any) -> str:
    return "—" if value is None else f"{value:+.2f}R"


def metrics_grid(data: dict):
    """The period's figures as a four-column grid of label/value pairs."""
    from rich.table import Table

    pairs = [
        ("trades", f"{data['trades']} ({data['wins']} W / {data['losses']} L / {data['breakeven']} BE)"),
        ("net P&L", _money(data["net_pnl"])),
        ("win rate", _percent(data["win_rate"])),
        ("expectancy", _money(data["expectancy"])),
        ("avg win / loss", f"{_plain(data['avg_win'])} / {_plain(data['avg_loss'])}"),
        ("profit factor", _plain(data["profit_factor"])),
        ("best / worst", f"{_money(data['best_trade'])} / {_money(data['worst_trade'])}"),
        ("max drawdown", _plain(data["max_drawdown"])),
        ("losing streak", str(data["longest_losing_streak"])),
        ("avg hold", _hold(data["avg_hold"])),
        ("avg R", _r(data["avg_r"])),
    ]
    grid = Table.grid(padding=(0, 2))
    for _ in range(2):
        grid.add_column(style="bold")
        grid.add_column()
    for i in range(0, len(pairs), 2):
        left, right = pairs[i], pairs[i + 1] if i + 1 < len(pairs) else ("", "")
        grid.add_row(left[0], left[1], right[0], right[1])
    return grid


BUCKET_COLUMNS = (
    ("trades", lambda b: b["trades"]), ("win", lambda b: _percent(b["win_rate"])),
    ("net", lambda b: _money(b["net_pnl"])), ("expect.", lambda b: _money(b["expectancy"])),
    ("PF", lambda b: _plain(b["profit_factor"])), ("avg win", lambda b: _plain(b["avg_win"])),
    ("avg loss", lambda b: _plain(b["avg_loss"])), ("max DD", lambda b: _plain(b["max_drawdown"])),
    ("avg R", lambda b: _r(b["avg_r"])),
)
NARROW = 100  # below this many columns the table keeps trades, win, net, expectancy, PF and avg R


def buckets_table(data: dict, width: int = 120):
    columns = [c for c in BUCKET_COLUMNS if width >= NARROW or c[0] not in ("avg win", "avg loss", "max DD")]
    rows = [(b["key"], *(show(b) for _, show in columns)) for b in data["by"]]
    return table(f"By {data['by_dimension']}", [data["by_dimension"], *(name for name, _ in columns)], rows)


def findings_panel(data: dict):
    from rich.panel import Panel
    from rich.text import Text

    text = Text()
    for label, finding in (("Edge", data["edge"]), ("Leak", data["leak"])):
        text.append(f"{label}: ", style="bold green" if label == "Edge" else "bold red")
        if finding is None:
            text.append("none this period" + (" (no bucket of 3+ trades made money)" if label == "Edge" else "")
                        + "\n")
            continue
        text.append(safe_text(finding["finding"]) + f"  [n={finding['trades']}]\n")
        text.append("  → " + safe_text(finding["next_step"]) + "\n", style="bold")
    text.rstrip()
    return Panel(text, title="Edge and leak", title_align="left")


def rules_table(data: dict):
    def sample(s: dict) -> str:
        return f"n={s['trades']}  {_percent(s['win_rate'])}  {_money(s['expectancy'])}"

    rows = [(r["task_id"], r["action"] or "", r["decided_at"][:16].replace("T", " "), sample(r["before"]),
             sample(r["after"])) for r in data["rules"]]
    return table("Rules you accepted: the closes before the decision vs after (n, win rate, expectancy)",
                 ["task", "action", "decided", "before", "after"], rows)


def loop_panel(data: dict):
    from rich.panel import Panel
    from rich.console import Group
    from rich.text import Text

    from .views import conversion_bars

    loop = data["loop"]
    tasks = Text(f"coach tasks: {loop['tasks_suggested']} suggested, {loop['tasks_accepted']} accepted, "
                 f"{loop['tasks_rejected']} rejected")
    return Panel(Group(conversion_bars(loop["conversion"]), tasks), title="Loop", title_align="left")


def csv_rows(data: dict) -> list[list]:
    totals = [data[c] for c in METRIC_COLUMNS]
    return [["(all)", *totals], *([b["key"], *[b[c] for c in METRIC_COLUMNS]] for b in data["by"])]


def render_review(fmt: str, review, charts: bool | None = None) -> None:
    """Print a review; ``charts`` defaults to whether stdout is a terminal."""
    data = review.model_dump(mode="json")
    if fmt == "json":
        emit_json(data)
        return
    if fmt == "csv":
        emit_csv([review.by_dimension, *METRIC_COLUMNS], csv_rows(data))
        return
    from rich.panel import Panel

    data["by_dimension"] = review.by_dimension
    out = console()
    out.print(Panel(metrics_grid(data), title=f"Review {data['from']} → {data['to']} ({data['tz']}), "
                                              "closes by close time", title_align="left"))
    if charts if charts is not None else sys.stdout.isatty():
        from rich.text import Text

        from .review_charts import daily_bars, equity_chart, month_calendars

        if review.closes:
            width = min(out.width, 120) - 2
            out.print(Text("Equity and drawdown, by closed trade", style="bold"))
            out.print(Text.from_ansi(equity_chart([c.pnl for c in review.closes], width)))
        out.print(daily_bars(data["daily"]))
        out.print(month_calendars(data["daily"]))
    if data["by"]:
        out.print(buckets_table(data, out.width))
    out.print(findings_panel(data))
    if data["rules"]:
        out.print(rules_table(data))
    out.print(loop_panel(data))
