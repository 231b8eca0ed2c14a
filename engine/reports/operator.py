"""``msp operator``: the whole operator surface in one object.

Every part comes from the same engine functions as the individual reports —
``today``, ``presence``, ``list_tasks`` — plus the signal sources of the day
(scanner and options-confluence flows side by side).  Nothing is computed
twice.
"""

from __future__ import annotations

import datetime as dt
from typing import Optional

from ..db import Database, fetch_all
from ..sql import query
from .presence import presence
from .tasks import list_tasks
from .today import today
from .window import day_window

QUEUE_LIMIT = 10


def sources(db: Database, date: dt.date, tz: str) -> list[dict]:
    """Per signal source and type: signals, candidates by result, plans, for the day."""
    window = day_window(date, tz)
    return fetch_all(db.conn, query("operator.sources"), window.params(db.workspace))


def surface(db: Database, date: Optional[dt.date] = None, tz: Optional[str] = None,
            now: Optional[dt.datetime] = None, top: int = 3) -> dict:
    """today + presence + the coach queue + signal sources, as one JSON-ready object."""
    day = today(db, date, tz)
    report_date = dt.date.fromisoformat(day["date"])
    with db.transaction():
        source_rows = sources(db, report_date, day["tz"])
    if now is None and date is not None:  # a past day is shown as it stood at its end
        now = min(dt.datetime.now(dt.timezone.utc), day_window(report_date, day["tz"]).end)
    return {
        "today": day,
        "presence": presence(db, top=top, now=now),
        "coach_queue": list_tasks(db, "pending", QUEUE_LIMIT),
        "sources": source_rows,
    }


def is_empty(view: dict) -> bool:
    counts = view["today"]["counts"]
    return not any(counts.values()) and not view["coach_queue"] and not view["presence"]["top_attention"]
