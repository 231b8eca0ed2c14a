"""``msp review`` checked against an outside tool, backtesting.py.

tests/fixtures/backtesting/ holds a trade list (``stats['_trades']``) and the
stats backtesting.py 0.6.6 printed for it (made by make_goog_trades.py there:
an SMA crossover with brackets on its bundled GOOG data, 94 trades, 47 short).
Each row becomes a plan (its ``SL`` as the stop — backtesting.py's last,
possibly trailed stop, not necessarily the initial one), an execution and a
close; the review over the whole period must give backtesting.py's own
``# Trades`` and ``Win Rate [%]`` exactly, and the money figures computed here,
independently, from the ``PnL`` column.  (Until ``msp import backtest``
exists, this test writes the events itself.)
"""

from __future__ import annotations

import csv
import json
from itertools import accumulate, groupby
from pathlib import Path

import pytest

import events as ev

HERE = Path(__file__).resolve().parent / "fixtures" / "backtesting"


def _rows() -> list[dict]:
    with open(HERE / "goog_sma_trades.csv", newline="") as handle:
        return list(csv.DictReader(handle))


def _events(rows: list[dict]) -> list[dict]:
    events = []
    for i, row in enumerate(rows):
        size = int(row["Size"])
        side, direction = ("LONG", "long") if size > 0 else ("SHORT", "short")
        trade_id, plan_id, workflow = f"bt-{i:03d}", f"bt-plan-{i:03d}", f"wf-bt-{i:03d}"
        entered, exited = f"{row['EntryTime']}T00:00:00Z", f"{row['ExitTime']}T00:00:00Z"
        plan = ev.plan(plan_id, "GOOG", direction, workflow=workflow, at=entered, event_id=f"bt-p-{i:03d}")
        if row["SL"]:
            plan["payload"]["risk"] = {"invalidation": float(row["SL"])}
        executed = ev.executed(trade_id, "GOOG", side, abs(size), float(row["EntryPrice"]), workflow=workflow,
                               at=entered, plan_id=plan_id, event_id=f"bt-x-{i:03d}")
        closed = ev.closed(trade_id, float(row["PnL"]), "GOOG", workflow=workflow, at=exited, side=side,
                           qty=abs(size), entry=float(row["EntryPrice"]), close=float(row["ExitPrice"]),
                           event_id=f"bt-c-{i:03d}")
        closed["payload"].update({"plan_id": plan_id, "strategy": "SmaCrossBrackets", "tags": [row["Tag"]]})
        events += [plan, executed, closed]
    return events


def _drawdown(pnls: list[float]) -> float:
    equity = [0.0, *accumulate(pnls)]
    return max(peak - value for peak, value in zip(accumulate(equity, max), equity))


def _streak(pnls: list[float]) -> int:
    return max((len(list(run)) for losing, run in groupby(pnls, key=lambda p: p < 0) if losing), default=0)


def test_review_reproduces_backtesting_py(msp, tmp_path):
    stats = json.loads((HERE / "goog_sma_stats.json").read_text())
    assert stats["backtesting_version"] == "0.6.6"  # PnL is net of commission from 0.6.5 on
    rows = _rows()
    assert msp("ingest", ev.write(tmp_path / "bt.jsonl", *_events(rows))).exit_code == 0
    report = msp("review", "--from", "2004-08-19", "--to", "2013-03-01", "--tz", "UTC", "--format", "json").json()

    assert report["trades"] == stats["# Trades"] == 94
    assert report["win_rate"] == stats["Win Rate [%]"]  # exactly: wins / trades × 100

    pnl = [float(r["PnL"]) for r in rows]
    wins, losses = [p for p in pnl if p > 0], [-p for p in pnl if p < 0]
    assert (report["wins"], report["losses"], report["breakeven"]) == (len(wins), len(losses), 0)
    assert report["net_pnl"] == pytest.approx(sum(pnl), abs=1e-6)
    assert report["expectancy"] == pytest.approx(sum(pnl) / len(pnl), abs=1e-9)
    assert report["avg_win"] == pytest.approx(sum(wins) / len(wins), abs=1e-9)
    assert report["avg_loss"] == pytest.approx(sum(losses) / len(losses), abs=1e-9)
    assert report["profit_factor"] == pytest.approx(sum(wins) / sum(losses), rel=1e-12)
    assert (report["best_trade"], report["worst_trade"]) == (max(pnl), min(pnl))
    assert report["max_drawdown"] == pytest.approx(_drawdown(pnl), abs=1e-6)
    assert report["longest_losing_streak"] == _streak(pnl)
    r_multiples = [float(r["PnL"]) / (abs(float(r["EntryPrice"]) - float(r["SL"])) * abs(int(r["Size"])))
                   for r in rows if r["SL"]]
    assert report["avg_r"] == pytest.approx(sum(r_multiples) / len(r_multiples), rel=1e-9)
    holds = [(_day(r["ExitTime"]) - _day(r["EntryTime"])) * 86400 for r in rows]
    assert report["avg_hold"] == pytest.approx(sum(holds) / len(holds))

    # backtesting.py's "Profit Factor" is on ReturnPct, not money: recomputed from the
    # list it matches its own figure, and differs from msp's (money) profit factor
    returns = [float(r["ReturnPct"]) for r in rows]
    bt_factor = sum(r for r in returns if r > 0) / -sum(r for r in returns if r < 0)
    assert bt_factor == pytest.approx(stats["Profit Factor"], rel=1e-12)
    assert report["profit_factor"] != pytest.approx(bt_factor, abs=0.01)  # 1.842 (money) vs 1.862 (returns)

    by_tag = {b["key"]: b["trades"] for b in
              msp("review", "--from", "2004-08-19", "--to", "2013-03-01", "--tz", "UTC", "--by", "tag",
                  "--format", "json").json()["by"]}
    assert by_tag == {"sma_up": 47, "sma_down": 47}


def _day(text: str) -> int:
    import datetime as dt

    return dt.date.fromisoformat(text).toordinal()
