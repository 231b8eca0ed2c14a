"""The shape of ``msp review``'s result: pydantic models whose
``model_dump(mode="json")`` is exactly what ``msp review --format json`` prints.

The trade metrics are one list of fields (``METRIC_FIELDS``), used at the top
level of the review and in each bucket of ``by``; their definitions are in
README.md ("msp review") and engine/reports/review_metrics.py.
"""

from __future__ import annotations

from typing import Any, Optional

from pydantic import BaseModel, ConfigDict, Field, create_model

# name → type; the order is the order of the JSON keys
METRIC_FIELDS: dict[str, Any] = {
    "trades": int,
    "wins": int,
    "losses": int,
    "breakeven": int,
    "win_rate": Optional[float],
    "avg_win": Optional[float],
    "avg_loss": Optional[float],
    "expectancy": Optional[float],
    "profit_factor": Optional[float],
    "net_pnl": float,
    "best_trade": Optional[float],
    "worst_trade": Optional[float],
    "max_drawdown": float,
    "longest_losing_streak": int,
    "avg_hold": Optional[float],
    "avg_r": Optional[float],
}


class _Model(BaseModel):
    """JSON keys by alias (``from``), also from a plain ``model_dump()``."""

    model_config = ConfigDict(populate_by_name=True)

    def model_dump(self, **kwargs) -> dict:
        kwargs.setdefault("by_alias", True)
        return super().model_dump(**kwargs)

    def model_dump_json(self, **kwargs) -> str:
        kwargs.setdefault("by_alias", True)
        return super().model_dump_json(**kwargs)


Bucket = create_model("Bucket", __base__=_Model, key=(str, ...),
                      **{name: (kind, ...) for name, kind in METRIC_FIELDS.items()})
Bucket.__doc__ = "The metrics of the trades in one bucket of ``--by`` (a symbol, a weekday, …)."


class DailyRow(_Model):
    date: str
    trades: int
    net_pnl: float


class Loop(_Model):
    """The six loop rates over the period (engine/reports/conversion.py, count ratios) and the coach tasks."""

    conversion: dict[str, float]
    tasks_suggested: int
    tasks_accepted: int
    tasks_rejected: int


class Edge(_Model):
    dimension: str
    key: str
    trades: int
    net_pnl: float
    win_rate: Optional[float]
    expectancy: Optional[float]
    finding: str
    next_step: str


class Leak(_Model):
    dimension: str  # symbol, strategy, hour, or payoff (average loser > 1.5 × average winner)
    key: Optional[str]
    trades: int
    cost: float
    finding: str
    next_step: str


class ClosePoint(_Model):
    """One close of the period, in close order: what the equity curve is drawn from."""

    closed_at: str
    symbol: str
    pnl: float


class RuleSample(_Model):
    trades: int
    win_rate: Optional[float]
    expectancy: Optional[float]


class RuleCheck(_Model):
    task_id: str
    action: Optional[str]
    detail: Optional[str]
    decided_at: str
    before: RuleSample
    after: RuleSample


Review = create_model(
    "Review", __base__=_Model,
    from_=(str, Field(alias="from")), to=(str, ...), tz=(str, ...),
    **{name: (kind, ...) for name, kind in METRIC_FIELDS.items()},
    by=(list[Bucket], ...), daily=(list[DailyRow], ...), loop=(Loop, ...),
    edge=(Optional[Edge], ...), leak=(Optional[Leak], ...), rules=(list[RuleCheck], ...),
    by_dimension=(str, Field("symbol", exclude=True)),
    closes=(list[ClosePoint], Field(default_factory=list, exclude=True)),
)
Review.__doc__ = """One review: the period, its trade metrics, buckets, days, loop, edge, leak and rules.
``by_dimension`` (what ``by`` is grouped by) and ``closes`` (each close, for the
charts) are for rendering and not part of the JSON."""
