"""Trade-level metrics of ``msp review``, over a list of closed trades in close order.

Pure arithmetic, no database: money is summed as ``Decimal`` (the P&L as
stored) and returned as float.  The definitions, and where other tools
differ, are in README.md ("msp review — what each figure means"):

- win: P&L > 0; loss: P&L < 0; breakeven: P&L exactly 0.
- win_rate = wins / trades × 100 (breakevens in the denominator, as
  backtesting.py's ``Win Rate [%]``); None without trades.
- avg_win = mean winning P&L; avg_loss = mean losing P&L as a positive number.
- expectancy = mean P&L per trade, breakevens included.
- profit_factor = gross win / gross loss, money; None with no losses.
- max_drawdown = largest fall from a peak of cumulative closed P&L, the peak
  starting at 0 before the first trade (a first-trade loss is a drawdown).
- longest_losing_streak = most consecutive losses; a breakeven ends a streak.
- avg_hold = mean seconds from entry to close, over trades with a known entry.
- avg_r = mean of P&L / (|entry − stop| × quantity) over trades whose plan
  gave a stop (and where that risk is not zero).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Iterable, Optional


@dataclass(frozen=True)
class ClosedTrade:
    """One closed trade as the review sees it (engine/sql/review.sql window_trades)."""

    trade_id: str
    symbol: str
    pnl: Decimal
    closed_at: dt.datetime
    side: Optional[str] = None
    quantity: Optional[Decimal] = None
    entry_price: Optional[Decimal] = None
    entered_at: Optional[dt.datetime] = None
    stop: Optional[Decimal] = None
    strategy: Optional[str] = None
    tags: tuple[str, ...] = field(default_factory=tuple)
    hold_seconds: Optional[float] = field(init=False, default=None)
    r_multiple: Optional[Decimal] = field(init=False, default=None)  # P&L in units of the plan's initial risk

    def __post_init__(self):  # computed once: every bucket of every dimension reads them
        if self.entered_at is not None:
            object.__setattr__(self, "hold_seconds", (self.closed_at - self.entered_at).total_seconds())
        if self.stop is not None and self.entry_price is not None and self.quantity:
            risk = abs(self.entry_price - self.stop) * self.quantity
            if risk:
                object.__setattr__(self, "r_multiple", self.pnl / risk)


def _mean(values: list) -> Optional[float]:
    return float(sum(values) / len(values)) if values else None


def win_rate(pnls: list[Decimal]) -> Optional[float]:
    """wins / trades × 100 (the operation order of backtesting.py's mean × 100)."""
    if not pnls:
        return None
    return sum(1 for p in pnls if p > 0) / len(pnls) * 100


def expectancy(pnls: list[Decimal]) -> Optional[float]:
    return _mean(pnls)


def max_drawdown(pnls: Iterable[Decimal]) -> Decimal:
    peak = total = deepest = Decimal(0)
    for pnl in pnls:
        total += pnl
        peak = max(peak, total)
        deepest = max(deepest, peak - total)
    return deepest


def equity_points(pnls: Iterable[float]) -> tuple[list[float], list[float]]:
    """The equity curve the charts draw: cumulative P&L from 0 before the first
    close, and the drawdown below its running peak (≤ 0) at each point."""
    equity, drawdown = [0.0], [0.0]
    peak = total = 0.0
    for pnl in pnls:
        total += pnl
        peak = max(peak, total)
        equity.append(total)
        drawdown.append(total - peak)
    return equity, drawdown


def curve_points(equity: list[float], drawdown: list[float], limit: int) -> list[int]:
    """The indexes of the equity curve worth drawing when it has more than
    ``limit`` points: per slice of the curve its highest and lowest equity and
    its deepest drawdown, so every peak and trough a chart shows is a real one
    (a year of a busy desk is 90,000 closes; a chart is a few hundred dots wide)."""
    if len(equity) <= limit:
        return list(range(len(equity)))
    size = -(-len(equity) // (limit // 3))
    keep = {0, len(equity) - 1}
    for start in range(0, len(equity), size):
        span = range(start, min(start + size, len(equity)))
        keep.update((max(span, key=equity.__getitem__), min(span, key=equity.__getitem__),
                     min(span, key=drawdown.__getitem__)))
    return sorted(keep)


def weekly(daily: list[dict]) -> list[dict]:
    """Daily rows (``date``, ``trades``, ``net_pnl``) summed per Monday–Sunday
    week, ``date`` being the week's Monday: the charts' bars for long periods."""
    weeks: dict[str, dict] = {}
    for row in daily:
        day = dt.date.fromisoformat(row["date"])
        monday = (day - dt.timedelta(days=day.weekday())).isoformat()
        week = weeks.setdefault(monday, {"date": monday, "trades": 0, "net_pnl": 0.0})
        week["trades"] += row["trades"]
        week["net_pnl"] += row["net_pnl"]
    return list(weeks.values())


def longest_losing_streak(pnls: Iterable[Decimal]) -> int:
    longest = run = 0
    for pnl in pnls:
        run = run + 1 if pnl < 0 else 0
        longest = max(longest, run)
    return longest


def metrics(trades: list[ClosedTrade]) -> dict:
    """The review's metrics (review_model.METRIC_FIELDS) of trades in close order."""
    pnls = [t.pnl for t in trades]
    wins = [p for p in pnls if p > 0]
    losses = [-p for p in pnls if p < 0]
    holds = [t.hold_seconds for t in trades if t.hold_seconds is not None]
    rs = [t.r_multiple for t in trades if t.r_multiple is not None]
    return {
        "trades": len(pnls),
        "wins": len(wins),
        "losses": len(losses),
        "breakeven": sum(1 for p in pnls if p == 0),
        "win_rate": win_rate(pnls),
        "avg_win": _mean(wins),
        "avg_loss": _mean(losses),
        "expectancy": expectancy(pnls),
        "profit_factor": float(sum(wins, Decimal(0)) / sum(losses)) if losses else None,
        "net_pnl": float(sum(pnls, Decimal(0))),
        "best_trade": float(max(pnls)) if pnls else None,
        "worst_trade": float(min(pnls)) if pnls else None,
        "max_drawdown": float(max_drawdown(pnls)),
        "longest_losing_streak": longest_losing_streak(pnls),
        "avg_hold": sum(holds) / len(holds) if holds else None,
        "avg_r": _mean(rs),
    }
