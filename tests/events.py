"""Builders of valid workflow events for tests (one function per event type used)."""

from __future__ import annotations

import itertools
import json

_ids = itertools.count(1)


def _envelope(event_type, payload, *, workflow, at, event_id=None, parent=None, **extra):
    event = {
        "event_type": event_type,
        "event_version": 1,
        "occurred_at": at,
        "correlation": {"workflow_id": workflow, **({"parent_event_id": parent} if parent else {})},
        "payload": payload,
        **extra,
    }
    if event_id is not False:
        event["event_id"] = event_id or f"ev-{next(_ids)}"
    return event


def signal(symbol="AAPL", direction="long", confidence=75, *, workflow="wf-1", at="2026-11-20T09:30:00-05:00",
           signal_id=None, **kw):
    return _envelope("signal.created", {"signal_id": signal_id or f"sig-{workflow}", "symbol": symbol,
                                        "direction": direction, "confidence": confidence, "signal_type": "breakout"},
                     workflow=workflow, at=at, **kw)


def packet(symbol="AAPL", bias="bullish", risk=40, entry=100.0, **extra):
    return {"id": f"dp-{symbol}-{next(_ids)}", "symbol": symbol, "createdAt": "2026-11-20T09:31:00-05:00",
            "signalSource": "momentum-scanner", "signalScore": 75, "riskScore": risk, "bias": bias,
            "timeframeBias": ["1h"], "status": "candidate",
            **({"entryZone": entry} if entry is not None else {}), "invalidation": 95.0, "targets": [110.0, 120.0],
            "volatilityRegime": "moderate", **extra}


def candidate(symbol="AAPL", result="pass", confidence=75, *, workflow="wf-1", at="2026-11-20T09:31:00-05:00",
              candidate_id=None, bias="bullish", entry=100.0, risk=40, dp=None, **kw):
    return _envelope("candidate.created", {
        "candidate_id": candidate_id or f"cand-{workflow}", "signal_id": f"sig-{workflow}",
        "evaluated_at": at, "result": result, "final_confidence": confidence,
        "checks": [{"name": "trend", "status": "pass", "detail": "higher highs"}],
        "decision_packet": dp or packet(symbol, bias, risk, entry)}, workflow=workflow, at=at, **kw)


def plan(plan_id="plan-x", symbol="AAPL", direction="long", *, workflow="wf-1", at="2026-11-20T09:32:00-05:00",
         entry=None, candidate_id=None, **kw):
    payload = {"plan_id": plan_id, "symbol": symbol, "direction": direction}
    if entry is not None:
        payload["entry"] = entry
    if candidate_id:
        payload["links"] = {"candidate_id": candidate_id}
    return _envelope("trade.plan.created", payload, workflow=workflow, at=at, **kw)


def executed(trade_id="t-1", symbol="AAPL", side="LONG", qty=10, price=100.0, *, workflow="wf-1",
             at="2026-11-20T10:00:00-05:00", plan_id=None, **kw):
    payload = {"trade_id": trade_id, "symbol": symbol, "direction": "long" if side == "LONG" else "short",
               "execution": {"side": side, "quantity": qty, "entry_price": price, "entry_date": at}}
    if plan_id:
        payload["plan_id"] = plan_id
    return _envelope("trade.executed", payload, workflow=workflow, at=at, **kw)


def updated(trade_id="t-1", price=101.0, *, workflow="wf-1", at="2026-11-20T11:00:00-05:00", **kw):
    return _envelope("trade.updated", {"trade_id": trade_id, "live": {"source": "auto", "quote_price": price,
                                                                      "quote_at": at}},
                     workflow=workflow, at=at, **kw)


def closed(trade_id="t-1", pnl=50.0, symbol="AAPL", *, workflow="wf-1", at="2026-11-20T15:00:00-05:00",
           side="LONG", qty=10, entry=100.0, close=105.0, **kw):
    return _envelope("trade.closed", {"trade_id": trade_id, "symbol": symbol, "realized_pnl": pnl, "closed_at": at,
                                      "execution": {"side": side, "quantity": qty, "entry_price": entry,
                                                    "close_price": close}},
                     workflow=workflow, at=at, **kw)


def journal_updated(journal_id="j-1", symbol="AAPL", side="long", *, workflow="wf-1",
                    at="2026-11-20T10:05:00-05:00", **payload):
    return _envelope("journal.updated", {"journal_id": journal_id, "symbol": symbol, "side": side, **payload},
                     workflow=workflow, at=at)


def journal_completed(journal_id="j-1", outcome="win", pnl=50.0, *, workflow="wf-1", at="2026-11-20T15:05:00-05:00"):
    return _envelope("journal.completed", {"journal_id": journal_id, "outcome": outcome, "realized_pnl": pnl,
                                           "closed_at": at}, workflow=workflow, at=at)


def context_updated(*, workflow="ops", at="2026-11-20T09:00:00-05:00", **payload):
    return _envelope("operator.context.updated", payload, workflow=workflow, at=at)


def jsonl(*events) -> str:
    return "".join(json.dumps(e) + "\n" for e in events)


def write(path, *events) -> str:
    path.write_text(jsonl(*events))
    return str(path)
