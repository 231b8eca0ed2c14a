"""Setting fields of the operator state (``msp state set``)."""

from __future__ import annotations

import datetime as dt
from typing import Optional

import orjson

from ..db import Database, retry_conflicts
from ..errors import UsageError
from ..numbers import finite_number
from ..reports.state import show_state
from ..sql import query
from ..timeparse import zone


def set_state(db: Database, *, focus: Optional[str] = None, active_candidates: Optional[list[str]] = None,
              risk_environment: Optional[str] = None, attention_score: Optional[float] = None,
              mode: Optional[str] = None, cognitive_load: Optional[float] = None,
              timezone: Optional[str] = None) -> dict:
    if attention_score is not None:
        attention_score = finite_number(attention_score, "attention score", low=0, high=100)
    if cognitive_load is not None:
        cognitive_load = finite_number(cognitive_load, "cognitive load", low=0, high=100)
    if timezone is not None:
        zone(timezone)
    changes = {k: v for k, v in {"focus": focus, "active_candidates": active_candidates,
                                 "risk_environment": risk_environment, "attention_score": attention_score,
                                 "mode": mode, "cognitive_load": cognitive_load, "timezone": timezone}.items()
               if v is not None}
    if not changes:
        raise UsageError("nothing to set: pass at least one field option (see msp state set --help)")
    action = {"at": dt.datetime.now(dt.timezone.utc).isoformat(), "action": "state.set", "fields": sorted(changes)}
    params = {"workspace": db.workspace, "focus": focus, "risk_environment": risk_environment,
              "attention_score": attention_score, "mode": mode, "cognitive_load": cognitive_load,
              "timezone": timezone, "action": orjson.dumps(action).decode(),
              "active_candidates": orjson.dumps(active_candidates).decode() if active_candidates is not None else None}
    def attempt() -> None:
        with db.transaction():
            db.conn.execute(query("state.set"), params)

    retry_conflicts(attempt)
    return show_state(db)
