"""Parsing the times and dates operators type (``--since``, ``--date``, ``--tz``)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .errors import UsageError


def parse_since(text: str) -> str:
    """An ISO date or date-time; a bare date or naive time is taken as UTC. Returns ISO text."""
    try:
        value = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise UsageError(f"invalid timestamp {text!r}: use YYYY-MM-DD or an ISO 8601 date-time") from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    return value.isoformat()


# The days a report can cover: a local day of any zone (UTC-12…+14) is then an
# instant range that both Python and PostgreSQL represent.
FIRST_DAY = dt.date(1, 1, 2)
LAST_DAY = dt.date(9999, 12, 30)


def parse_date(text: str) -> dt.date:
    try:
        day = dt.date.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(f"invalid date {text!r}: use YYYY-MM-DD") from None
    return check_day(day)


def check_day(day: dt.date) -> dt.date:
    if not FIRST_DAY <= day <= LAST_DAY:
        raise UsageError(f"date {day.isoformat()} is out of range: use a day from {FIRST_DAY} to {LAST_DAY}")
    return day


def first_day_of(last: dt.date, days: int) -> dt.date:
    """The first day of a ``days``-day window ending on ``last``; a window
    reaching before FIRST_DAY is a usage error naming the limit."""
    if days < 1 or (last - FIRST_DAY).days < days - 1:
        raise UsageError(f"a {days}-day window ending {check_day(last)} would start before {FIRST_DAY}, "
                         f"the first day msp reports on")
    return last - dt.timedelta(days=days - 1)


ZONE_NAME_MAX = 64  # longer than any IANA name; a longer one is shown cut in the error


def zone(name: str) -> ZoneInfo:
    """The IANA zone ``name``; any other text (too long for a file name, a NUL, a
    path, bytes that are not UTF-8, a directory of the database) is a usage error."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: too long, a directory
        shown = name if len(name) <= ZONE_NAME_MAX else name[:ZONE_NAME_MAX] + "…"
        raise UsageError(f"unknown time zone {shown!r} (use an IANA name such as America/New_York)") from None


def replay_since(replay: bool, since) -> "str | None":
    """The ``--since`` of ``msp automate --replay --since`` as ISO text (a ``datetime``
    is taken as is, a naive one as UTC); each option needs the other."""
    if replay and since is None:
        raise UsageError("--replay needs --since TIMESTAMP")
    if since is not None and not replay:
        raise UsageError("--since is only used with --replay")
    if isinstance(since, dt.datetime):
        since = since.isoformat()
    return parse_since(since) if since is not None else None
