"""The review's facts of a trade — its entry, its plan's first stop, its
strategy, its tags (``engine/sql/review.sql`` ``trade_facts``) — computed from
a set of workflows' events: read by ``msp review`` where the facts the sweep
keeps are stale, and written beside each close by the sweep
(``engine/automations/review_facts.py``).

The workflows go to the server as an array, ``WORKFLOWS_PER_STATEMENT`` at a
time: the planner then knows how many there are (a subquery's count, estimated
from statistics that had not seen the sweep's newest events, came out as one
or two, and the related events were joined by nested loops: 28 s for one
catch-up batch), and a few thousand stays an index read, where 9,600 at once
turned into a scan of the whole event table (1 s instead of 0.3).
"""

from __future__ import annotations

import psycopg

from .db import fetch_all
from .sql import compose, query

FACT_FIELDS = ("symbol", "side", "quantity", "entry_price", "entered_at", "stop", "strategy", "tags")
WORKFLOWS_PER_STATEMENT = 1000


def _chunks(workflows: list[str]) -> list[list[str]]:
    return [workflows[k:k + WORKFLOWS_PER_STATEMENT] for k in range(0, len(workflows), WORKFLOWS_PER_STATEMENT)]


def computed(conn: psycopg.Connection, workspace: str, workflows: list[str]) -> dict[str, dict]:
    """The facts of every close of ``workflows``, by close event id, from their events now."""
    out = {}
    for chunk in _chunks(workflows):
        for facts in fetch_all(conn, query("review.trade_facts"), {"workspace": workspace, "fact_workflows": chunk}):
            out[facts["event_id"]] = facts
    return out


def store(conn: psycopg.Connection, workspace: str, workflows: list[str]) -> int:
    """Compute the facts of every projected close of ``workflows`` and write
    them beside it in ``closed_trades`` where they changed; the rows written."""
    statement = compose("review_facts.refresh", trade_facts=query("review.trade_facts"))
    return sum(conn.execute(statement, {"workspace": workspace, "fact_workflows": chunk}).rowcount
               for chunk in _chunks(workflows))
