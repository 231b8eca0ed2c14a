"""``msp today``: the day's loop counts, conversion and last coach insight (README.md#reports).

Loop counts are events by ``occurred_at``; counts of derived work (alerts,
drafts, enrichments) are the rows dated by the event that triggered them, so
the report is the same whenever the runner ran.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Optional

from ..db import Database, fetch_one, iso
from ..sql import query
from .rates import conversion_rates
from .window import day_window, local_today, resolve_tz

COUNT_KEYS = ("signals", "candidates", "plans", "executions", "closed", "coach_analyses", "tasks_suggested",
              "tasks_accepted", "tasks_rejected", "auto_alerts", "auto_journal_drafts", "coach_journal_updates")


def _number(value):
    if isinstance(value, Decimal):
        return float(value)
    return value


def day_counts(db: Database, window) -> dict:
    row = fetch_one(db.conn, query("today.counts"), window.params(db.workspace))
    return {key: row[key] for key in COUNT_KEYS}


def last_insight(db: Database, window) -> Optional[dict]:
    row = fetch_one(db.conn, query("today.last_insight"), window.params(db.workspace))
    if row is None:
        return None
    recommendations = row["recommendations"] if isinstance(row["recommendations"], list) else []
    return {
        "analysis_id": row["analysis_id"],
        "occurred_at": iso(row["occurred_at"]),
        "symbol": row["symbol"],
        "sample_size": row["sample_size"],
        "win_rate": _number(row["win_rate"]),
        "avg_win": _number(row["avg_win"]),
        "avg_loss": _number(row["avg_loss"]),
        "expectancy": _number(row["expectancy"]),
        "recommendations": [{"priority": r.get("priority"), "action": r.get("action"), "detail": r.get("detail")}
                            for r in recommendations if isinstance(r, dict)],
    }


def today(db: Database, date: Optional[dt.date] = None, tz: Optional[str] = None) -> dict:
    with db.transaction():
        tz = resolve_tz(db, tz)
        date = date or local_today(tz)
        window = day_window(date, tz)
        counts = day_counts(db, window)
        return {
            "date": date.isoformat(),
            "tz": tz,
            "counts": counts,
            "conversion": conversion_rates(counts),
            "last_coach_insight": last_insight(db, window),
        }
