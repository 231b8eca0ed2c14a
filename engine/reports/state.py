"""The operator state, read side (setting it is ``engine/actions/state.py``)."""

from __future__ import annotations

from ..db import Database, fetch_one
from ..sql import query

FIELDS = ("focus", "active_candidates", "risk_environment", "attention_score", "mode", "cognitive_load",
          "timezone", "last_actions", "updated_at")


def show_state(db: Database) -> dict:
    with db.transaction():
        row = fetch_one(db.conn, query("state.get"), {"workspace": db.workspace})
    state = {"workspace": db.workspace, **{f: None for f in FIELDS}}
    if row:
        state.update(row)
    for key in ("attention_score", "cognitive_load"):
        if state[key] is not None:
            state[key] = float(state[key])
    state["active_candidates"] = state["active_candidates"] or []
    state["last_actions"] = state["last_actions"] or []
    return state
