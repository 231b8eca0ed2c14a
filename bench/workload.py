"""Realistic event streams for the benchmarks: a busy desk's workflows.

Each workflow is a signal and a candidate (about 60% pass); most passing
ones are executed, quoted twice and closed, and some are journaled — the mix
the automations work on.  Output is deterministic for a given seed.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Iterator

import orjson

SYMBOLS = ["AAPL", "NVDA", "TSLA", "MSFT", "AMD", "META", "GOOGL", "AMZN", "SPY", "QQQ", "BTC-USD", "ETH-USD"]


def events(n: int, *, seed: int = 7, start: dt.datetime | None = None, days: int = 365,
           prefix: str = "b") -> Iterator[dict]:
    """About ``n`` events spread over ``days`` days ending at ``start`` + days."""
    rng = random.Random(seed)
    start = start or dt.datetime(2025, 11, 24, 14, 30, tzinfo=dt.timezone.utc)
    per_workflow = 3.6  # the average of the mix below
    step = dt.timedelta(days=days) / max(1, int(n / per_workflow))
    produced = 0
    w = -1
    while produced < n:
        w += 1
        t0 = start + step * w
        sym = rng.choice(SYMBOLS)
        wf = f"{prefix}wf{w}"
        conf = rng.randint(30, 95)
        direction = rng.choice(["long", "long", "short"])
        price = round(rng.uniform(20, 600), 2)
        ts = lambda minutes: (t0 + dt.timedelta(minutes=minutes)).isoformat()
        base = {"event_version": 1, "context": {"app": {"name": "bench", "env": "prod"}}}
        sig_id, cand_id = f"{prefix}s{w}", f"{prefix}c{w}"
        yield {**base, "event_id": f"{prefix}e{w}-1", "event_type": "signal.created", "occurred_at": ts(0),
               "correlation": {"workflow_id": wf},
               "entity": {"entity_type": "signal", "entity_id": sig_id, "symbol": sym},
               "payload": {"signal_id": sig_id, "symbol": sym, "direction": direction, "confidence": conf,
                           "signal_type": "breakout", "timeframe": "15m",
                           "source": {"module": "scanner", "submodule": "momentum"},
                           "evidence": {"rsi": rng.randint(20, 80), "volume_ratio": round(rng.uniform(0.5, 3), 2)}}}
        result = "pass" if conf >= 70 else "watch" if conf >= 55 else "fail"
        yield {**base, "event_id": f"{prefix}e{w}-2", "event_type": "candidate.created", "occurred_at": ts(1),
               "correlation": {"workflow_id": wf, "parent_event_id": f"{prefix}e{w}-1"},
               "payload": {"candidate_id": cand_id, "signal_id": sig_id, "evaluated_at": ts(1), "result": result,
                           "final_confidence": conf,
                           "checks": [{"name": "trend", "status": "pass", "detail": "aligned"},
                                      {"name": "liquidity", "status": "pass", "detail": "ok"}],
                           "decision_packet": {"id": f"{prefix}dp{w}", "symbol": sym, "createdAt": ts(1),
                                               "signalSource": "momentum", "signalScore": max(1, min(99, conf)),
                                               "riskScore": rng.randint(10, 90),
                                               "bias": "bullish" if direction == "long" else "bearish",
                                               "timeframeBias": ["15m"], "status": "candidate", "entryZone": price,
                                               "invalidation": round(price * 0.97, 2),
                                               "targets": [round(price * 1.05, 2)], "volatilityRegime": "moderate"}}}
        produced += 2
        if result != "pass" or rng.random() < 0.2:
            continue
        trade = f"{prefix}t{w}"
        side = "LONG" if direction == "long" else "SHORT"
        qty = rng.randint(1, 100)
        yield {**base, "event_id": f"{prefix}e{w}-3", "event_type": "trade.executed", "occurred_at": ts(10),
               "correlation": {"workflow_id": wf},
               "payload": {"trade_id": trade, "symbol": sym, "direction": direction, "plan_id": f"plan_{cand_id}",
                           "execution": {"side": side, "quantity": qty, "entry_price": price, "entry_date": ts(10)}}}
        for k in (1, 2):
            yield {**base, "event_id": f"{prefix}e{w}-u{k}", "event_type": "trade.updated", "occurred_at": ts(30 * k),
                   "correlation": {"workflow_id": wf},
                   "payload": {"trade_id": trade, "live": {"source": "auto", "quote_price": round(price * rng.uniform(0.97, 1.03), 2),
                                                           "quote_at": ts(30 * k)}}}
        close = round(price * rng.uniform(0.95, 1.06), 2)
        pnl = round((close - price) * qty * (1 if side == "LONG" else -1), 2)
        yield {**base, "event_id": f"{prefix}e{w}-4", "event_type": "trade.closed", "occurred_at": ts(120),
               "correlation": {"workflow_id": wf},
               "payload": {"trade_id": trade, "symbol": sym, "realized_pnl": pnl, "closed_at": ts(120),
                           "execution": {"side": side, "quantity": qty, "entry_price": price, "close_price": close}}}
        produced += 4
        if rng.random() < 0.3:
            yield {**base, "event_id": f"{prefix}e{w}-5", "event_type": "journal.updated", "occurred_at": ts(121),
                   "correlation": {"workflow_id": wf},
                   "payload": {"journal_id": f"{prefix}j{w}", "symbol": sym, "side": direction,
                               "notes": "followed the plan"}}
            produced += 1


def write_jsonl(path, n: int, **kwargs) -> int:
    count = 0
    with open(path, "wb") as out:
        for event in events(n, **kwargs):
            out.write(orjson.dumps(event) + b"\n")
            count += 1
    return count
