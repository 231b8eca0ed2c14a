"""Day windows in the operator's time zone (README.md#reports).

The zone is ``--tz``, else ``MSP_TZ``, else the operator state's zone, else
UTC.  A day is [local midnight, next local midnight), converted to UTC
instants, so DST days are 23 or 25 hours long, as they are on the wall.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Optional
from zoneinfo import ZoneInfo

from ..db import Database
from ..sql import query
from ..timeparse import check_day, first_day_of, zone


@dataclass(frozen=True)
class Window:
    start: dt.datetime
    end: dt.datetime
    tz: str

    def params(self, workspace: str, **extra) -> dict:
        return {"workspace": workspace, "start": self.start, "end": self.end, **extra}


def resolve_tz(db: Database, explicit: Optional[str] = None) -> str:
    """--tz / MSP_TZ (already in settings), else the operator state's zone, else UTC."""
    name = explicit or db.settings.tz or operator_zone(db) or "UTC"
    zone(name)  # validates
    return name


def operator_zone(db: Database) -> Optional[str]:
    """The operator state's time zone, if one is set (in the caller's workspace transaction)."""
    row = db.conn.execute(query("state.timezone"), {"workspace": db.workspace}).fetchone()
    return row[0] if row and row[0] else None


def local_today(tz: str) -> dt.date:
    return dt.datetime.now(ZoneInfo(tz)).date()


def day_window(date: dt.date, tz: str, days: int = 1) -> Window:
    """[midnight of ``date`` - (days-1), midnight after ``date``) in ``tz``."""
    zi = ZoneInfo(tz)
    first = first_day_of(check_day(date), days)
    start = dt.datetime.combine(first, dt.time.min, tzinfo=zi)
    end = dt.datetime.combine(date + dt.timedelta(days=1), dt.time.min, tzinfo=zi)
    return Window(start.astimezone(dt.timezone.utc), end.astimezone(dt.timezone.utc), tz)
