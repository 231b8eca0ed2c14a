"""``msp review``: the weekly, monthly or any-period review of closed trades.

The period is a run of local days in the operator's zone (``resolve_tz``):
``--week DATE`` the Monday–Sunday week holding DATE (no DATE: the last
complete week), ``--month YYYY-MM`` (no value: the last complete month),
``--from``/``--to`` (inclusive); none of them: this week so far.  A trade
belongs to the period by its close time (engine/sql/review.sql).  The
metrics are engine/reports/review_metrics.py's, the edge, leak and rule
checks engine/reports/review_findings.py's, the loop rates
engine/reports/conversion.py's.  Reads only.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Optional
from zoneinfo import ZoneInfo

from .. import trade_facts
from ..db import Database, fetch_all
from ..errors import UsageError
from ..sql import compose, query
from ..timeparse import parse_date
from .conversion import conversion
from .review_findings import bucket_rows, edge, leak, rule_checks
from .review_metrics import ClosedTrade, metrics
from .review_model import Review
from .window import day_window, local_today, resolve_tz

DIMENSIONS = ("symbol", "strategy", "weekday", "hour", "tag")
DEFAULT_RULE_WINDOW = 10
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
NO_STRATEGY = "(none)"
NO_TAG = "(untagged)"
LAST = "last"  # --week / --month given without a value


def _monday(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def _month(text: str) -> dt.date:
    try:
        return dt.datetime.strptime(text.strip(), "%Y-%m").date()
    except ValueError:
        raise UsageError(f"invalid month {text!r}: use YYYY-MM") from None


def _month_end(first: dt.date) -> dt.date:
    following = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return following - dt.timedelta(days=1)


def review_period(today: dt.date, week: Optional[str] = None, month: Optional[str] = None,
                  date_from: Optional[str] = None, date_to: Optional[str] = None) -> tuple[dt.date, dt.date]:
    """(first day, last day) of the period the options name, both included."""
    chosen = [name for name, value in (("--week", week), ("--month", month),
                                       ("--from/--to", date_from or date_to)) if value is not None]
    if len(chosen) > 1:
        raise UsageError(f"choose one period: {' or '.join(chosen)}")
    if week is not None:
        monday = _monday(today) - dt.timedelta(days=7) if week == LAST else _monday(parse_date(week))
        return monday, monday + dt.timedelta(days=6)
    if month is not None:
        if month == LAST:
            first = (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)
        else:
            first = _month(month)
        return first, _month_end(first)
    if date_from is not None or date_to is not None:
        if date_from is None or date_to is None:
            raise UsageError("--from and --to go together")
        first, last = parse_date(date_from), parse_date(date_to)
        if last < first:
            raise UsageError(f"--to {last} is before --from {first}")
        return first, last
    return _monday(today), today


def _trade(row: dict) -> ClosedTrade:
    return ClosedTrade(
        trade_id=row["trade_id"], symbol=row["symbol"], pnl=row["pnl"], closed_at=row["closed_at"],
        side=row["side"], quantity=row["quantity"], entry_price=row["entry_price"], entered_at=row["entered_at"],
        stop=row["stop"], strategy=row["strategy"] or NO_STRATEGY, tags=tuple(row["tags"]))


def _window_trades(db: Database, params: dict) -> list[dict]:
    """The period's trades with what they are grouped by: the facts the sweep
    keeps beside each close, or, where those are stale (engine/sql/review.sql
    window_trades), the facts of its workflow computed from the events now
    (engine/trade_facts.py, as the sweep keeps them)."""
    rows = fetch_all(db.conn, compose("review.window_trades", all_closes=query("review.all_closes")), params)
    stale = sorted({row["workflow_id"] for row in rows if row["stale"]})
    if not stale:
        return rows
    computed = trade_facts.computed(db.conn, db.workspace, stale)
    # a close whose event msp archive moved out has only the facts stored with it (the archive
    # stores them first: engine/archive.py), the same before and after a sweep
    return [{**row, **{field: computed[row["event_id"]][field] for field in trade_facts.FACT_FIELDS}}
            if row["stale"] and row["event_id"] in computed else row
            for row in rows]


def _group(trades: list[ClosedTrade], dimension: str, zone: ZoneInfo) -> dict[str, list[ClosedTrade]]:
    """Trades per bucket key, in display order: weekdays and hours in clock
    order, the others by net P&L (best first), then key.  A trade is in each
    of its tags' buckets.  Weekday: of the close; hour: of the entry (else the close)."""
    groups: dict[str, list[ClosedTrade]] = defaultdict(list)
    for trade in trades:
        if dimension == "symbol":
            keys = [trade.symbol]
        elif dimension == "strategy":
            keys = [trade.strategy]
        elif dimension == "weekday":
            keys = [WEEKDAYS[trade.closed_at.astimezone(zone).weekday()]]
        elif dimension == "hour":
            keys = [f"{(trade.entered_at or trade.closed_at).astimezone(zone).hour:02d}:00"]
        else:
            keys = list(trade.tags) or [NO_TAG]
        for key in keys:
            groups[key].append(trade)
    if dimension == "weekday":
        order = sorted(groups, key=WEEKDAYS.index)
    elif dimension == "hour":
        order = sorted(groups)
    else:
        order = sorted(groups, key=lambda k: (-sum(t.pnl for t in groups[k]), k))
    return {key: groups[key] for key in order}


def _daily(trades: list[ClosedTrade], first: dt.date, last: dt.date, zone: ZoneInfo) -> list[dict]:
    days = {first + dt.timedelta(days=i): [] for i in range((last - first).days + 1)}
    for trade in trades:
        days[trade.closed_at.astimezone(zone).date()].append(trade.pnl)
    return [{"date": day.isoformat(), "trades": len(pnls), "net_pnl": float(sum(pnls))} for day, pnls in days.items()]


def _loop(db: Database, first: dt.date, last: dt.date, tz: str) -> dict:
    report = conversion(db, days=(last - first).days + 1, tz=tz, date=last)
    counts = report["counts"]
    return {"conversion": report["conversion"], "tasks_suggested": counts["tasks_suggested"],
            "tasks_accepted": counts["tasks_accepted"], "tasks_rejected": counts["tasks_rejected"]}


def review(db: Database, *, week: Optional[str] = None, month: Optional[str] = None,
           date_from: Optional[str] = None, date_to: Optional[str] = None, by: str = "symbol",
           rule_window: int = DEFAULT_RULE_WINDOW, tz: Optional[str] = None,
           today: Optional[dt.date] = None) -> Review:
    """The review of one period (see the module docstring)."""
    if by not in DIMENSIONS:
        raise UsageError(f"--by must be one of {', '.join(DIMENSIONS)}")
    if rule_window < 1:
        raise UsageError("--rule-window must be at least 1")
    with db.transaction():
        tz = resolve_tz(db, tz)
        zone = ZoneInfo(tz)
        first, last = review_period(today or local_today(tz), week, month, date_from, date_to)
        window = day_window(last, tz, (last - first).days + 1)
        floor = db.conn.execute(query("coach_analysis.projected_up_to"), {"workspace": db.workspace}).fetchone()[0]
        params = window.params(db.workspace, floor=floor)
        closes = query("review.all_closes")
        trades = [_trade(row) for row in _window_trades(db, params)]
        decisions = fetch_all(db.conn, query("review.accepted_rules"), params)
        sequence = [(row["pnl"], row["closed_at"])  # only when there is a decision to weigh
                    for row in fetch_all(db.conn, compose("review.close_sequence", all_closes=closes), params)
                    ] if decisions else []
        loop = _loop(db, first, last, tz)
    totals = metrics(trades)
    buckets = {dimension: bucket_rows(_group(trades, dimension, zone)) for dimension in DIMENSIONS}
    return Review.model_validate({
        "from": first.isoformat(), "to": last.isoformat(), "tz": tz, **totals,
        "by": buckets[by], "daily": _daily(trades, first, last, zone), "loop": loop,
        "edge": edge(buckets), "leak": leak(buckets, totals),
        "rules": rule_checks(decisions, sequence, rule_window),
        "by_dimension": by,
        "closes": [{"closed_at": t.closed_at.astimezone(zone).isoformat(), "symbol": t.symbol, "pnl": float(t.pnl)}
                   for t in trades],
    })
