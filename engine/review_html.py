"""``msp review --html FILE``: the review as one self-contained HTML document.

Nothing in it reaches outside the file: inline CSS, system font stacks (no
web fonts), no script, and every chart an inline ``<svg>`` drawn by
matplotlib (Agg backend, ``svg.fonttype='none'`` so text stays text instead
of glyph paths: about 15 KB a chart).  Charts: equity with its drawdown,
daily P&L (weekly past 62 days, so a year stays small), a calendar heat map
of daily P&L and net P&L by bucket; then the tables.  matplotlib is imported
here only, when a report is written.  Builds the document; prints nothing.
"""

from __future__ import annotations

import datetime as dt
import html
import io
import re
from pathlib import Path

from .errors import InputRejected
from .text import visible_text

GAIN, LOSS, FLAT, INK = "#1a7f37", "#cf222e", "#8c959f", "#24292f"
MAX_DAY_BARS = 62
MAX_CURVE_POINTS = 1500  # beyond, each slice's extremes (review_metrics.curve_points): the file stays small

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:#24292f;
     background:#fff;margin:24px auto;max-width:1100px;padding:0 16px;line-height:1.4}
h1{font-size:1.5em;margin:0 0 4px} h2{font-size:1.15em;margin:28px 0 8px;border-bottom:1px solid #d0d7de}
.sub{color:#57606a;margin:0 0 16px}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(190px,1fr));gap:8px}
.card{border:1px solid #d0d7de;border-radius:6px;padding:8px 10px}
.card b{display:block;font-size:.8em;color:#57606a;font-weight:600}
.card span{font-size:1.2em;font-variant-numeric:tabular-nums}
.pos{color:#1a7f37} .neg{color:#cf222e}
table{border-collapse:collapse;font-variant-numeric:tabular-nums;font-size:.9em}
th,td{border-bottom:1px solid #d0d7de;padding:4px 8px;text-align:right} th:first-child,td:first-child{text-align:left}
.finding{border-left:4px solid #d0d7de;padding:6px 12px;margin:8px 0} .finding.edge{border-color:#1a7f37}
.finding.leak{border-color:#cf222e} .step{font-weight:600}
svg{max-width:100%;height:auto}
"""


def visible(value) -> str:
    return visible_text("" if value is None else str(value))


def _esc(value) -> str:
    return html.escape(visible(value))


def _money(value) -> str:
    return "—" if value is None else f"{value:+,.2f}"


def _num(value, digits: int = 2) -> str:
    return "—" if value is None else f"{value:,.{digits}f}"


def _pct(value) -> str:
    return "—" if value is None else f"{value:.1f}%"


def _sign(value) -> str:
    return "pos" if value and value > 0 else "neg" if value and value < 0 else ""


def _svg(figure) -> str:
    """A figure as inline SVG text (no XML prolog, no DOCTYPE, no external references)."""
    import matplotlib.pyplot as plt

    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    plt.close(figure)
    text = buffer.getvalue()
    return text[text.index("<svg"):]


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update({"svg.fonttype": "none", "text.parse_math": False,  # a "$" in a tag is a dollar "font.family": "sans-serif", "font.size": 9,
                         "axes.spines.top": False, "axes.spines.right": False, "svg.hashsalt": "msp-review"})
    return plt


def equity_svg(review) -> str:
    plt = _pyplot()
    from .reports.review_metrics import curve_points, equity_points

    equity, drawdown = equity_points(c.pnl for c in review.closes)
    total = equity[-1]
    xs = curve_points(equity, drawdown, MAX_CURVE_POINTS)
    equity, drawdown = [equity[i] for i in xs], [drawdown[i] for i in xs]
    figure, (top, bottom) = plt.subplots(2, 1, figsize=(9, 4.2), sharex=True,
                                         gridspec_kw={"height_ratios": [3, 1.2]})
    top.plot(xs, equity, color=GAIN if total >= 0 else LOSS, linewidth=1.4)
    top.axhline(0, color=FLAT, linewidth=0.6)
    top.set_ylabel("cumulative P&L")
    top.set_title("Equity (closed trades) and drawdown", loc="left", fontsize=10)
    bottom.fill_between(xs, drawdown, 0, color=LOSS, alpha=0.35, linewidth=0)
    bottom.plot(xs, drawdown, color=LOSS, linewidth=0.8)
    bottom.set_ylabel("drawdown")
    bottom.set_xlabel("closed trades, in close order")
    return _svg(figure)


def _bars(review) -> tuple[list[str], list[float], str]:
    daily = [r.model_dump() for r in review.daily]
    if len(daily) <= MAX_DAY_BARS:
        return [r["date"][5:] for r in daily], [r["net_pnl"] for r in daily], "Daily P&L"
    from .reports.review_metrics import weekly

    weeks = weekly(daily)
    return [w["date"][5:] for w in weeks], [w["net_pnl"] for w in weeks], "Weekly P&L (weeks starting Monday)"


def daily_svg(review) -> str:
    plt = _pyplot()
    labels, values, title = _bars(review)
    figure, axis = plt.subplots(figsize=(9, 2.8))
    axis.bar(range(len(values)), values, color=[GAIN if v > 0 else LOSS if v < 0 else FLAT for v in values],
             width=0.8)
    axis.axhline(0, color=FLAT, linewidth=0.6)
    step = max(1, len(labels) // 16)
    axis.set_xticks(range(0, len(labels), step), labels[::step], rotation=45, ha="right")
    axis.set_title(title, loc="left", fontsize=10)
    return _svg(figure)


def _colour(plt, scale: float):
    from matplotlib.colors import TwoSlopeNorm

    cmap, norm = plt.get_cmap("RdYlGn"), TwoSlopeNorm(vmin=-scale, vcenter=0, vmax=scale)
    return lambda row: "#eaeef2" if row["trades"] == 0 else cmap(norm(row["net_pnl"]))


def calendar_svg(review) -> str:
    """Month grids (Monday first) for a period of up to MAX_DAY_BARS days, each
    day of the period coloured by its net P&L and labelled with it; a year-style
    grid (weeks as columns) beyond."""
    plt = _pyplot()
    daily = [r.model_dump() for r in review.daily]
    scale = max([abs(r["net_pnl"]) for r in daily] + [1.0])
    colour = _colour(plt, scale)
    if len(daily) > MAX_DAY_BARS:
        return _year_grid(plt, daily, colour)
    by_day = {dt.date.fromisoformat(r["date"]): r for r in daily}
    months = sorted({(d.year, d.month) for d in by_day})
    figure, axes = plt.subplots(1, len(months), figsize=(4.4 * len(months), 3.2), squeeze=False)
    for axis, (year, month) in zip(axes[0], months):
        first = dt.date(year, month, 1)
        offset = first.weekday()
        day = first
        while day.month == month:
            cell = offset + day.day - 1
            x, y = cell % 7, 5 - cell // 7
            row = by_day.get(day)
            axis.add_patch(plt.Rectangle((x, y), 0.94, 0.94, linewidth=0,
                                         color="#ffffff" if row is None else colour(row)))
            axis.text(x + 0.06, y + 0.78, str(day.day), fontsize=6.5, va="center",
                      color=INK if row is not None else FLAT)
            if row is not None and row["trades"]:
                strong = abs(row["net_pnl"]) > 0.6 * scale  # the darker ends of the colour map
                axis.text(x + 0.47, y + 0.36, f"{row['net_pnl']:+,.0f}", fontsize=6.5, ha="center", va="center",
                          color="#ffffff" if strong else INK)
            day += dt.timedelta(days=1)
        axis.set_xlim(0, 7)
        axis.set_ylim(-0.1, 6)
        axis.set_xticks([i + 0.47 for i in range(7)], ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"])
        axis.xaxis.tick_top()
        axis.set_yticks([])
        axis.tick_params(length=0)
        for spine in axis.spines.values():
            spine.set_visible(False)
        axis.set_title(first.strftime("%B %Y"), loc="left", fontsize=10, pad=16)
    return _svg(figure)


def _year_grid(plt, daily: list[dict], colour) -> str:
    first = dt.date.fromisoformat(daily[0]["date"])
    start = first - dt.timedelta(days=first.weekday())
    last = dt.date.fromisoformat(daily[-1]["date"])
    weeks = (last - start).days // 7 + 1
    figure, axis = plt.subplots(figsize=(9, 2.2))
    for row in daily:
        day = dt.date.fromisoformat(row["date"])
        x, y = (day - start).days // 7, 6 - day.weekday()
        axis.add_patch(plt.Rectangle((x, y), 0.9, 0.9, color=colour(row), linewidth=0))
    axis.set_xlim(-0.1, weeks)
    axis.set_ylim(-0.1, 7)
    axis.set_yticks([6.45 - i for i in range(7)], ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"])
    ticks = []  # (column, label) at each week where a month starts; the first month named with its year
    for i in range(weeks):
        sunday = start + dt.timedelta(weeks=i, days=6)
        if i == 0:
            ticks.append((0, first.strftime("%b %Y")))
        elif sunday.day <= 7 and i - ticks[-1][0] >= 3 and sunday <= last:
            ticks.append((i, sunday.strftime("%b %Y" if sunday.month == 1 else "%b")))
    axis.set_xticks([i + 0.45 for i, _ in ticks], [label for _, label in ticks])
    axis.tick_params(length=0)
    for spine in axis.spines.values():
        spine.set_visible(False)
    axis.set_aspect("equal")
    axis.set_title("Net P&L per day (grey: no closes)", loc="left", fontsize=10)
    return _svg(figure)


def buckets_svg(review, dimension: str) -> str:
    plt = _pyplot()
    rows = review.model_dump()["by"]
    figure, axis = plt.subplots(figsize=(9, max(1.6, 0.28 * len(rows) + 0.8)))
    keys = [r["key"] for r in rows][::-1]
    values = [r["net_pnl"] for r in rows][::-1]
    axis.barh(range(len(rows)), values, color=[GAIN if v > 0 else LOSS if v < 0 else FLAT for v in values])
    axis.set_yticks(range(len(rows)), [f"{visible(k)} (n={r['trades']})" for k, r in zip(keys, rows[::-1])])
    axis.axvline(0, color=FLAT, linewidth=0.6)
    axis.set_title(f"Net P&L by {dimension}", loc="left", fontsize=10)
    return _svg(figure)


def _cards(data: dict) -> str:
    cards = [
        ("Trades", f"{data['trades']} ({data['wins']}W / {data['losses']}L / {data['breakeven']}BE)", 0),
        ("Net P&L", _money(data["net_pnl"]), data["net_pnl"]), ("Win rate", _pct(data["win_rate"]), 0),
        ("Expectancy", _money(data["expectancy"]), data["expectancy"]),
        ("Profit factor", _num(data["profit_factor"]), 0),
        ("Avg win / loss", f"{_num(data['avg_win'])} / {_num(data['avg_loss'])}", 0),
        ("Best / worst", f"{_money(data['best_trade'])} / {_money(data['worst_trade'])}", 0),
        ("Max drawdown", _num(data["max_drawdown"]), 0), ("Losing streak", str(data["longest_losing_streak"]), 0),
        ("Avg hold", "—" if data["avg_hold"] is None else f"{data['avg_hold'] / 3600:.1f} h", 0),
        ("Avg R", "—" if data["avg_r"] is None else f"{data['avg_r']:+.2f} R", 0),
    ]
    return '<div class="cards">' + "".join(
        f'<div class="card"><b>{_esc(label)}</b><span class="{_sign(sign)}">{_esc(value)}</span></div>'
        for label, value, sign in cards) + "</div>"


def _table(columns: list[str], rows: list[list]) -> str:
    head = "".join(f"<th>{_esc(c)}</th>" for c in columns)
    body = "".join("<tr>" + "".join(f"<td>{_esc(v)}</td>" for v in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _findings(data: dict) -> str:
    parts = []
    for label, finding in (("edge", data["edge"]), ("leak", data["leak"])):
        if finding is None:
            parts.append(f'<div class="finding {label}"><b>{label.title()}:</b> none this period</div>')
        else:
            parts.append(f'<div class="finding {label}"><b>{label.title()}:</b> {_esc(finding["finding"])} '
                         f'(n={finding["trades"]})<br><span class="step">→ {_esc(finding["next_step"])}</span></div>')
    return "".join(parts)


def review_document(review) -> str:
    """The whole report as one HTML string."""
    data = review.model_dump(mode="json")
    dimension = review.by_dimension
    sections = [f"<h1>Trading review {_esc(data['from'])} → {_esc(data['to'])}</h1>",
                f'<p class="sub">{_esc(data["tz"])} · closed trades counted by close time · '
                f"generated by msp review</p>", _cards(data), "<h2>Edge and leak</h2>", _findings(data)]
    if review.closes:
        sections += ["<h2>Equity and drawdown</h2>", equity_svg(review)]
    sections += ["<h2>Daily P&amp;L</h2>", daily_svg(review), "<h2>Calendar</h2>", calendar_svg(review)]
    if data["by"]:
        sections += [f"<h2>By {_esc(dimension)}</h2>", buckets_svg(review, dimension), _table(
            [dimension, "trades", "win rate", "net", "expectancy", "profit factor", "avg win", "avg loss",
             "max DD", "avg R"],
            [[b["key"], b["trades"], _pct(b["win_rate"]), _money(b["net_pnl"]), _money(b["expectancy"]),
              _num(b["profit_factor"]), _num(b["avg_win"]), _num(b["avg_loss"]), _num(b["max_drawdown"]),
              "—" if b["avg_r"] is None else f"{b['avg_r']:+.2f}"] for b in data["by"]])]
    if data["rules"]:
        sections += ["<h2>Rules you accepted: before vs after</h2>", _table(
            ["task", "action", "decided", "before n", "before win", "before exp.", "after n", "after win",
             "after exp."],
            [[r["task_id"], r["action"], r["decided_at"][:16].replace("T", " "), r["before"]["trades"],
              _pct(r["before"]["win_rate"]), _money(r["before"]["expectancy"]), r["after"]["trades"],
              _pct(r["after"]["win_rate"]), _money(r["after"]["expectancy"])] for r in data["rules"]])]
    loop = data["loop"]
    sections += ["<h2>Loop</h2>", _table(["rate", "percent"], [[k, f"{v:.1f}%"] for k, v in loop["conversion"].items()]),
                 f'<p class="sub">coach tasks: {loop["tasks_suggested"]} suggested, {loop["tasks_accepted"]} '
                 f'accepted, {loop["tasks_rejected"]} rejected</p>']
    body = "\n".join(sections)
    document = (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
                f'<meta name="viewport" content="width=device-width, initial-scale=1">'
                f"<title>msp review {_esc(data['from'])} – {_esc(data['to'])}</title><style>{CSS}</style>"
                f"</head><body>\n{body}\n</body></html>\n")
    return _strip_external_references(document)


_XLINK_NS = re.compile(r'\s+xmlns:xlink="[^"]*"')
_METADATA = re.compile(r"<metadata>.*?</metadata>\s*", re.DOTALL)


def _strip_external_references(document: str) -> str:
    """matplotlib's SVG carries RDF metadata and an xlink namespace declared
    with http:// URIs (names, never fetched): both dropped, so the only
    address left is the SVG namespace name itself."""
    return _METADATA.sub("", _XLINK_NS.sub("", document))


def write_review_html(review, path: str) -> None:
    document = review_document(review)
    try:
        Path(path).write_text(document, encoding="utf-8")
    except OSError as exc:
        raise InputRejected(f"cannot write {path}: {exc.strerror or exc}") from None
