"""``msp conversion``: the six loop rates over a window (README.md#reports).

Default: count ratios over the window (as the web dashboard shows them), so
a rate can pass 100% when, say, plans carried over from yesterday execute
today.  ``cohort=True``: per workflow — of the workflows active in the window
that reached a stage, the share that reached the next (never above 100%).
"""

from __future__ import annotations

import datetime as dt
from typing import Optional

from ..db import Database, fetch_one
from ..sql import query
from .rates import RATES, conversion_rates, count_stages, percent
from .today import day_counts
from ..timeparse import first_day_of
from .window import day_window, local_today, resolve_tz

DEFAULT_DAYS = 7


def conversion(db: Database, days: int = DEFAULT_DAYS, cohort: bool = False, tz: Optional[str] = None,
               date: Optional[dt.date] = None) -> dict:
    with db.transaction():
        tz = resolve_tz(db, tz)
        end_date = date or local_today(tz)
        window = day_window(end_date, tz, days)
        result = {
            "mode": "cohort" if cohort else "counts",
            "days": days,
            "tz": tz,
            "from": first_day_of(end_date, days).isoformat(),
            "to": end_date.isoformat(),
        }
        if cohort:
            row = fetch_one(db.conn, query("conversion.cohort"), window.params(db.workspace))
            result["workflows"] = row["workflows"]
            result["stages"] = [
                {"rate": name, "reached": row[den], "converted": row[f"{den}_{num}"]} for name, num, den in RATES]
            result["conversion"] = {s["rate"]: percent(s["converted"], s["reached"]) for s in result["stages"]}
        else:
            counts = day_counts(db, window)
            result["counts"] = counts
            result["stages"] = count_stages(counts)
            result["conversion"] = conversion_rates(counts)
        return result
