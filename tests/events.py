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


def imported_analysis(analysis_id, *, workflow, at, trade_id="t-hist", symbol="AAPL", **payload):
    """A coach analysis from imported history (not msp's own)."""
    return _envelope("coach.analysis.generated", {
        "analysis_id": analysis_id, "trade_id": trade_id, "symbol": symbol, "sample_size": 12, "win_rate": 50,
        "avg_win": 80, "avg_loss": 60, "expectancy": 10,
        "recommendations": [{"priority": "high", "action": "review_losers", "detail": "Look at the last losers."},
                            {"priority": "low", "action": "rest", "detail": "Take a break."}], **payload},
        workflow=workflow, at=at)


def week(seed: int = 5, workflows: int = 60) -> list:
    """A generated week of varied events, deterministic for a seed: passing,
    watching and failing candidates of every bias, entries as a zone, a range,
    a current price or none, trace ids and context, plans sent directly
    (neutral and level-less too), trades won, lost and flat, quotes, journal
    entries updated and completed, operator context, and imported analyses.
    Every event has a fixed id (never the module's running counter), so the
    events msp derives from it are the same whatever ran before."""
    import datetime as dt
    import random

    rng = random.Random(seed)
    start = dt.datetime(2026, 11, 16, 14, 30, tzinfo=dt.timezone.utc)
    out = []
    symbols = ["AAPL", "NVDA", "TSLA", "MSFT", "BTC-USD"]
    for w in range(workflows):
        t0 = start + dt.timedelta(hours=2 * w + rng.random())
        at = lambda minutes: (t0 + dt.timedelta(minutes=minutes)).isoformat()
        wf, sym = f"wk-{seed}-{w}", rng.choice(symbols)
        bias = rng.choice(["bullish", "bullish", "bearish", "neutral"])
        result = rng.choice(["pass", "pass", "pass", "watch", "fail"])
        entry = rng.choice([round(rng.uniform(50, 500), 2), None])
        extra = {}
        if rng.random() < 0.3:
            extra["context"] = {"app": {"name": "scanner", "env": "prod"}}
        correlation_trace = rng.random() < 0.3
        out.append(signal(sym, "long" if bias == "bullish" else "short", rng.randint(40, 95), workflow=wf, at=at(0),
                          event_id=f"{wf}-s"))
        cand = candidate(sym, result, rng.randint(40, 95), workflow=wf, at=at(1), candidate_id=f"c-{wf}",
                         bias=bias, event_id=f"{wf}-c", parent=f"{wf}-s",
                         dp=packet(sym, bias, rng.randint(5, 95), entry, id=f"dp-{wf}"), **extra)
        if correlation_trace:
            cand["correlation"]["trace_id"] = f"trace-{wf}"
        out.append(cand)
        if rng.random() < 0.15:  # a plan sent directly, sometimes for this candidate
            direction = rng.choice(["long", "short", "neutral"])
            plan_entry = rng.choice([{"low": 10.0, "high": 12.0}, {"current_price": 11.0}, {"zone": 10.5}, None])
            out.append(plan(f"p-{wf}", sym, direction, workflow=wf, at=at(2), entry=plan_entry,
                            candidate_id=f"c-{wf}" if rng.random() < 0.5 else None, event_id=f"{wf}-p"))
        if result != "pass" or rng.random() < 0.25:
            continue
        side = "LONG" if bias != "bearish" else "SHORT"
        trade, price = f"t-{wf}", round(rng.uniform(50, 500), 2)
        out.append(executed(trade, sym, side, rng.randint(1, 50), price, workflow=wf, at=at(10),
                            plan_id=f"plan_c-{wf}", event_id=f"{wf}-x"))
        for k in range(rng.randint(0, 2)):
            out.append(updated(trade, round(price * rng.uniform(0.95, 1.05), 2), workflow=wf, at=at(20 + 10 * k),
                               event_id=f"{wf}-u{k}"))
        pnl = rng.choice([round(rng.uniform(-300, 400), 2), 0.0])
        if rng.random() < 0.4:
            out.append({**journal_updated(f"j-{wf}", sym, "long", workflow=wf, at=at(30), notes="watching"),
                        "event_id": f"{wf}-ju"})
        out.append(closed(trade, pnl, sym, workflow=wf, at=at(60), side=side, entry=price, close=price,
                          event_id=f"{wf}-z"))
        if rng.random() < 0.2:
            out.append({**journal_completed(f"j-{wf}", "win" if pnl > 0 else "loss", pnl, workflow=wf, at=at(70)),
                        "event_id": f"{wf}-jc"})
    out.append({**context_updated(at=start.isoformat(), focus="breakouts", attention_score=70,
                                  timezone="America/New_York"), "event_id": f"context-{seed}"})
    out.append({**imported_analysis(f"ca-imported-{seed}", workflow=f"wk-{seed}-0",
                                 at=(start + dt.timedelta(days=6)).isoformat()),
                "event_id": f"imported-analysis-{seed}"})
    return out


def coach_analysis(analysis_id, trade_id, symbol="AAPL", *, workflow="wf-1", at="2026-11-20T15:01:00-05:00",
                   sample=3, win_rate=66.7, parent=None, **kw):
    """An analysis written by another coach (ingested, not msp's own)."""
    return _envelope("coach.analysis.generated", {
        "analysis_id": analysis_id, "trade_id": trade_id, "symbol": symbol, "sample_size": sample,
        "win_rate": win_rate, "avg_win": 80.0, "avg_loss": 40.0, "expectancy": 40.0,
        "recommendations": [{"priority": "medium", "action": "review_exits", "detail": "Exits came early."}]},
        workflow=workflow, at=at, parent=parent, **kw)


def varied_week(seed=20261109):
    """A deterministic week (2026-11-09…13, New York) of everything the sweep reacts to,
    in the order a real feed delivers it — mostly by time, with the stragglers real
    feeds have: operator context updates carrying a few fields each (one late, one
    with a zone that does not exist), signals and candidates of every result, trades
    executed, quoted (an older quote after a newer one, a quote after the close), closed and
    journaled (a journal sometimes completed before its trade's close arrives),
    and analyses from another coach followed by the journal completion they would
    enrich.  Event ids are fixed, so the same week is the same events."""
    import random

    rng = random.Random(seed)
    symbols = ["AAPL", "NVDA", "TSLA", "AMD", "META", "MSFT", "GOOGL", "AMZN"]
    fields = {"focus": lambda: rng.choice(["semis", "mega-cap tech", "review", "fx"]),
              "attention_score": lambda: rng.randint(20, 95),
              "cognitive_load": lambda: rng.randint(10, 90),
              "timezone": lambda: rng.choice(["America/New_York", "America/Chicago", "Europe/London"]),
              "mode": lambda: rng.choice(["active", "passive", "review"]),
              "risk_environment": lambda: rng.choice(["normal", "elevated", "calm"]),
              "active_candidates": lambda: [f"cand-{rng.randint(1, 9)}"]}
    out = []

    for day in range(9, 14):
        date = f"2026-11-{day:02d}"

        def at(h, m, _date=date):
            return f"{_date}T{h:02d}:{m:02d}:00-05:00"

        for hour, count in ((8, 5), (12, 2), (15, 1)):  # the morning context is full, later ones partial
            payload = {k: fields[k]() for k in rng.sample(sorted(fields), count)}
            out.append(context_updated(workflow=f"ops-{date}", at=at(hour, 30), **payload))
        if day == 10:  # a stale update delivered late, and a zone that does not exist
            out.append(context_updated(workflow=f"ops-{date}", at=at(7, 0), focus="stale",
                                       timezone="Europe/London"))
            out.append(context_updated(workflow=f"ops-{date}", at=at(16, 0), timezone="Mars/Base",
                                       mode="review"))
        for k in range(4):
            symbol = rng.choice(symbols)
            wf, trade, journal = f"wf-gw-{date}-{k}", f"t-gw-{date}-{k}", f"j-gw-{date}-{k}"
            h = 9 + k * 2
            result = rng.choice(["pass", "pass", "pass", "watch", "fail"])
            out.append(signal(symbol, workflow=wf, at=at(h, 30), signal_id=f"sig-{wf}"))
            confidence = {"pass": rng.randint(70, 95), "watch": rng.randint(55, 69), "fail": rng.randint(30, 54)}[result]
            out.append(candidate(symbol, result, confidence, workflow=wf, at=at(h, 31),
                                 candidate_id=f"cand-{wf}", entry=round(rng.uniform(50, 500), 2)))
            if result != "pass":
                continue
            side = rng.choice(["LONG", "SHORT"])
            price = round(rng.uniform(50, 500), 2)
            pnl = round(rng.uniform(-150, 250), 2)
            plan_id = f"plan_cand-{wf}"
            out.append(executed(trade, symbol, side, rng.randint(1, 50), price, workflow=wf, at=at(h, 40),
                                plan_id=plan_id))
            out.append(journal_updated(journal, symbol, side.lower(), workflow=wf, at=at(h, 41), plan_id=plan_id,
                                       tags=["gw"], notes=f"entered {symbol}"))
            quotes = [(h, 50), (h + 1, 10)]
            if k == 1:  # an older quote arriving after a newer one
                quotes.reverse()
            for qh, qm in quotes:
                out.append(updated(trade, round(price * rng.uniform(0.97, 1.03), 2), workflow=wf, at=at(qh, qm)))
            out.append(journal_updated(journal, symbol, side.lower(), workflow=wf, at=at(h + 1, 15),
                                       tags=["gw", "managed"], notes="trailed the stop"))
            close = closed(trade, pnl, symbol, workflow=wf, at=at(h + 1, 30), side=side, entry=price,
                           close=price + 1)
            done = journal_completed(journal, "win" if pnl > 0 else "loss", pnl, workflow=wf, at=at(h + 1, 35))
            if k == 2:  # the journal is completed before the close arrives
                out += [done, close]
            else:
                out += [close, done]
            if k == 0:  # a quote for a trade already closed
                out.append(updated(trade, price * 2, workflow=wf, at=at(h + 1, 45)))
            if k == 3:  # another coach's analysis, then the completion it would enrich
                j2 = f"{journal}-x"
                out.append(journal_updated(j2, symbol, side.lower(), workflow=f"{wf}-x", at=at(h + 1, 36)))
                out.append(coach_analysis(f"ext-{wf}", trade, symbol, workflow=f"{wf}-x", at=at(h + 1, 37)))
                out.append(journal_completed(j2, "win", 10.0, workflow=f"{wf}-x", at=at(h + 1, 38)))
                out.append(journal_updated(j2, symbol, side.lower(), workflow=f"{wf}-x", at=at(h + 1, 39),
                                           notes="after the coach", tags=["late"]))
        if day == 11:  # a trade whose close arrives before its execution, and a journal kept only by
            wf, trade, journal = f"wf-gw-{date}-late", f"t-gw-{date}-late", f"j-gw-{date}-late"  # its completion
            out.append(closed(trade, 30.0, "AMD", workflow=wf, at=at(15, 0), entry=100.0, close=103.0))
            out.append(executed(trade, "AMD", "LONG", 10, 100.0, workflow=wf, at=at(14, 0)))
            out.append(journal_completed(journal, "win", 30.0, workflow=wf, at=at(15, 1)))
            out.append(journal_updated(journal, "AMD", "long", workflow=wf, at=at(14, 1), notes="entered late"))
    for i, event in enumerate(out, 1):  # fixed ids, whatever else the test run built before
        event["event_id"] = f"gw-{i:04d}"
    return out
