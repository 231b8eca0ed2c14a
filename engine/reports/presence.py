"""``msp presence``: market state, volatility, risk load and where to look now (README.md#reports).

Windows are relative to ``now`` (the real clock unless a caller passes one):
the last 8 hours of signals, the last 24 hours of candidates.
"""

from __future__ import annotations

import datetime as dt
from typing import Optional

from ..db import Database, fetch_one, iso
from ..sql import query
from .tasks import first_pending_task, pending_in_transaction

DEFAULT_TOP = 3
TOP_RANGE = (1, 50)  # --top of `msp presence` and `msp operator`: how many attention symbols
EXPANSION_AT, COMPRESSION_AT = 70, 35


def market_state(bullish: int, bearish: int) -> str:
    if bullish == 0 and bearish == 0:
        return "neutral"
    if bullish > 0 and bullish >= 1.2 * bearish:
        return "risk_on"
    if bearish > 0 and bearish >= 1.2 * bullish:
        return "risk_off"
    return "balanced"


def volatility_band(score: Optional[float]) -> str:
    if score is None:
        return "normal"
    if score >= EXPANSION_AT:
        return "expansion"
    if score <= COMPRESSION_AT:
        return "compression"
    return "normal"


# The coach's actions (engine/sql/coach_analysis.sql) as the operator reads them;
# deciding the task is the command.  An action from another coach is named by
# itself ("review_exits" → "Review exits"), or routed to alerts / a backtest.
COACH_ACTION_LABELS = {
    "increase_sample_size": "Keep logging trades",
    "improve_reward_to_risk": "Improve reward to risk",
    "tighten_entry_filter": "Tighten the entry filter",
    "keep_size_consistent": "Keep position size consistent",
    "continue_process_discipline": "Keep following the process",
}


def coach_task_action(task: dict) -> tuple[str, str]:
    """The label and command under which a pending coach task is suggested."""
    action = task["action"]
    if action in COACH_ACTION_LABELS:
        return COACH_ACTION_LABELS[action], f"msp tasks accept {task['task_id']}"
    if "alert" in action.lower():
        return "Create an alert", "msp alerts list --status active"
    if "backtest" in action.lower():
        return "Run a backtest", "msp conversion --cohort --days 30"
    words = " ".join(action.replace("_", " ").replace("-", " ").split()) or "review"
    return words[:1].upper() + words[1:], f"msp tasks accept {task['task_id']}"


def suggested_actions(task: Optional[dict], top: list[dict]) -> list[dict]:
    actions = []
    if task is not None:
        label, command = coach_task_action(task)
        actions.append({"label": label, "command": command,
                        "reason": f"Pending coach task {task['task_id']} ({task['priority']}): {task['detail']}"})
    for item in top:
        actions.append({"label": f"Review {item['symbol']}",
                        "command": f"msp trace {item['workflow_id']}",
                        "reason": f"Top attention: confidence {item['confidence']:g} over {item['hits']} candidate(s)"})
    if not actions:
        actions.append({"label": "Run a market scan",
                        "command": "your-scanner | msp ingest - --automate",
                        "reason": "No pending tasks and no candidates in the last 24 hours."})
    return actions


def presence(db: Database, top: int = DEFAULT_TOP, now: Optional[dt.datetime] = None) -> dict:
    now = now or dt.datetime.now(dt.timezone.utc)
    params = {"workspace": db.workspace, "now": now, "top": top}
    conn = db.conn
    with db.transaction():
        bias = fetch_one(conn, query("presence.signal_bias"), params)
        state = fetch_one(conn, query("presence.state"), params) or {}
        attention = state.get("attention_score")
        cognitive = state.get("cognitive_load")
        if attention is not None:
            volatility = volatility_band(float(attention))
        else:
            median = fetch_one(conn, query("presence.median_risk"), params)["median"]
            volatility = volatility_band(None if median is None else float(median))
        load = cognitive if cognitive is not None else attention if attention is not None else 50
        pending = pending_in_transaction(db)
        rows = conn.execute(query("presence.top_attention"), params).fetchall()
        top_rows = [{"symbol": r[0], "confidence": float(r[1]) if r[1] is not None else None, "hits": r[2],
                     "last_seen": iso(r[3]), "workflow_id": r[4]} for r in rows]
        task = first_pending_task(db)
    return {
        "market_state": market_state(bias["bullish"], bias["bearish"]),
        "volatility": volatility,
        "risk_load": max(0.0, min(100.0, float(load))),
        "pending_tasks": pending,
        "top_attention": [{k: r[k] for k in ("symbol", "confidence", "hits", "last_seen")} for r in top_rows],
        "suggested_actions": suggested_actions(task, top_rows),
    }
