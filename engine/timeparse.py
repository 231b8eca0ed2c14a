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


def parse_date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(f"invalid date {text!r}: use YYYY-MM-DD") from None


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise UsageError(f"unknown time zone {name!r} (use an IANA name such as America/New_York)") from None


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
