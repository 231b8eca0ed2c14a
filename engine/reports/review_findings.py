"""What the review concludes: the period's edge and leak, and whether each
accepted coach rule changed the trading after it.

A dimension with a single bucket (one strategy all week) is not a finding.

- edge: the bucket (symbol, strategy, weekday or hour) with the highest net
  P&L among those with at least ``EDGE_MIN_TRADES`` trades, if it made money.
- leak: the costliest of the worst symbol, the worst strategy, the worst hour
  (their net loss), and — when the average loser is more than
  ``PAYOFF_LEAK_RATIO`` × the average winner — the payoff (losses × (average
  loser − average winner): what the losers cost beyond the winners' size).
- rules: for each task accepted with at least N closes after it, the N closes
  before the decision against the N from it on (close time ≥ decision time).

Each finding carries its sample size and one concrete next step.
"""

from __future__ import annotations

import bisect
import datetime as dt
from decimal import Decimal
from typing import Callable, Optional

from .review_metrics import ClosedTrade, expectancy, metrics, win_rate

EDGE_MIN_TRADES = 3
PAYOFF_LEAK_RATIO = Decimal("1.5")
EDGE_DIMENSIONS = ("symbol", "strategy", "weekday", "hour")
LEAK_DIMENSIONS = ("symbol", "strategy", "hour")


def _money(value: float) -> str:
    return f"{value:+,.2f}"


def _hour_span(key: str) -> str:
    hour = int(key[:2])
    return f"{key}–{(hour + 1) % 24:02d}:00"


EDGE_STEPS: dict[str, Callable[[str], str]] = {
    "symbol": lambda key: f"Write down what your {key} trades had in common and look for that setup first next week.",
    "strategy": lambda key: f"Keep {key} at full size next week and log every trade of it, so the sample grows.",
    "weekday": lambda key: f"Plan your best setups for {key}s and be fully at the desk that day.",
    "hour": lambda key: f"Be at the screen, prepared, for {_hour_span(key)}: that is when your trades work.",
}
LEAK_STEPS: dict[str, Callable[[str, int], str]] = {
    "symbol": lambda key, n: f"Halve your size in {key} next week, or skip it, until you have reviewed its {n} trades.",
    "strategy": lambda key, n: f"Pause {key} until you have reviewed its {n} trades against its written rules.",
    "hour": lambda key, n: f"Open no new trades between {_hour_span(key)} next week.",
}


def _telling(rows: list[dict]) -> list[dict]:
    """A dimension's buckets, or none when one bucket holds every trade (it says
    nothing the totals do not)."""
    return rows if len(rows) > 1 else []


def edge(buckets: dict[str, list[dict]]) -> Optional[dict]:
    """The best bucket with at least EDGE_MIN_TRADES trades, by net P&L (> 0)."""
    best = None
    for dimension in EDGE_DIMENSIONS:
        for row in _telling(buckets[dimension]):
            if row["trades"] >= EDGE_MIN_TRADES and row["net_pnl"] > 0 \
                    and (best is None or row["net_pnl"] > best[1]["net_pnl"]):
                best = (dimension, row)
    if best is None:
        return None
    dimension, row = best
    return {
        "dimension": dimension, "key": row["key"], "trades": row["trades"], "net_pnl": row["net_pnl"],
        "win_rate": row["win_rate"], "expectancy": row["expectancy"],
        "finding": f"{dimension} {row['key']}: {row['trades']} trades, {_money(row['net_pnl'])} net, "
                   f"{row['win_rate']:.1f}% won, {_money(row['expectancy'])} per trade.",
        "next_step": EDGE_STEPS[dimension](row["key"]),
    }


def leak(buckets: dict[str, list[dict]], totals: dict) -> Optional[dict]:
    """The costliest leak, or None when nothing lost money."""
    found = []
    for dimension in LEAK_DIMENSIONS:
        losing = [row for row in _telling(buckets[dimension]) if row["net_pnl"] < 0]
        if losing:
            row = min(losing, key=lambda r: r["net_pnl"])  # first of equals: buckets come in a fixed order
            found.append({
                "dimension": dimension, "key": row["key"], "trades": row["trades"], "cost": -row["net_pnl"],
                "finding": f"{dimension} {row['key']}: {row['trades']} trades, {_money(row['net_pnl'])} net, "
                           f"{row['win_rate']:.1f}% won.",
                "next_step": LEAK_STEPS[dimension](row["key"], row["trades"]),
            })
    avg_win, avg_loss = totals["avg_win"], totals["avg_loss"]
    if avg_win and avg_loss and Decimal(str(avg_loss)) > PAYOFF_LEAK_RATIO * Decimal(str(avg_win)):
        ratio = avg_loss / avg_win
        found.append({
            "dimension": "payoff", "key": None, "trades": totals["wins"] + totals["losses"],
            "cost": totals["losses"] * (avg_loss - avg_win),
            "finding": f"The average loser ({avg_loss:,.2f}) is {ratio:.1f}× the average winner ({avg_win:,.2f}) "
                       f"over {totals['losses']} losses and {totals['wins']} wins.",
            "next_step": "Set each stop where the setup is invalidated before you enter, and never move it away; "
                         "cut a loser at 1R.",
        })
    if not found:
        return None
    return max(found, key=lambda f: f["cost"])  # first of equals, in the order above


def _sample(pnls: list[Decimal]) -> dict:
    return {"trades": len(pnls), "win_rate": win_rate(pnls), "expectancy": expectancy(pnls)}


def rule_checks(decisions: list[dict], closes: list[tuple[Decimal, dt.datetime]], window: int) -> list[dict]:
    """Before/after samples of each accepted task with ``window`` closes after it (closes in close order)."""
    times = [closed_at for _, closed_at in closes]
    checks = []
    for decision in decisions:
        start = bisect.bisect_left(times, decision["decided_at"])
        if len(closes) - start < window:
            continue
        before = [pnl for pnl, _ in closes[max(0, start - window):start]]
        after = [pnl for pnl, _ in closes[start:start + window]]
        checks.append({
            "task_id": decision["task_id"], "action": decision["action"], "detail": decision["detail"],
            "decided_at": decision["decided_at"].isoformat(),
            "before": _sample(before), "after": _sample(after),
        })
    return checks


def bucket_rows(groups: dict[str, list[ClosedTrade]]) -> list[dict]:
    """``{key, …metrics}`` per group, in the groups' order."""
    return [{"key": key, **metrics(trades)} for key, trades in groups.items()]
