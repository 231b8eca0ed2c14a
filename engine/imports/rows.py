"""What every importer shares: reading CSV rows with their raw bytes, numbers and
times read from cells, stable ids, and the canonical event envelope.

Rows are streamed (the stdlib ``csv`` module over the file's lines, one record
at a time); each keeps the exact bytes it was read from, so a bad row is
quarantined as it stood in the file, and the line it starts on, which is the
row number printed as ``FILE:ROW: column: message``.

Ids are stable across files: an event's id is made from the source's own key
(an IBKR execution id, vectorbt's trade id) or, where there is none, from the
row's content and how many times that content occurred before in the file, so
two identical real fills stay two and a re-exported or renamed file maps onto
the same ids.  Nothing in an id or an event depends on the file's name or on
where in the file the row stood.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import re
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import BinaryIO, Iterator, Optional
from zoneinfo import ZoneInfo

from ..errors import UsageError
from ..timeparse import zone

UTF8_BOM = "\ufeff"
ID_SAFE = re.compile(r"^[A-Za-z0-9_.-]{1,48}$")
SYMBOL_SPACES = re.compile(r"\s+")
csv.field_size_limit(1 << 20)  # a cell may be up to 1 MiB, as a JSON line may


class RowError(Exception):
    """A cell that cannot be read: the row is quarantined with ``column: message``."""

    def __init__(self, column: str, message: str):
        super().__init__(f"{column}: {message}")
        self.column = column
        self.message = message


# -- rows --------------------------------------------------------------------

@dataclass
class CsvRecord:
    line: int  # the line the record starts on (1-based)
    raw: bytes  # the record's bytes, without the final newline
    cells: list
    error: Optional[str] = None  # why the record could not be read (bad UTF-8, a broken quote)


def csv_records(stream: BinaryIO) -> Iterator[CsvRecord]:
    """Every record of a CSV stream with its starting line and raw bytes; blank lines are skipped."""
    consumed: list[bytes] = []
    state = {"bad_utf8": False, "lines": 0}

    def lines() -> Iterator[str]:
        for raw in iter(stream.readline, b""):
            state["lines"] += 1
            consumed.append(raw)
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                state["bad_utf8"] = True
                text = raw.decode("utf-8", errors="replace")
            if state["lines"] == 1 and text.startswith(UTF8_BOM):
                text = text[1:]
            yield text

    reader = csv.reader(lines())
    start = 1
    while True:
        error = None
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            cells, error = [], f"unreadable CSV: {exc}"
        raw = b"".join(consumed).rstrip(b"\r\n")
        if raw.startswith(b"\xef\xbb\xbf") and start == 1:
            raw = raw[3:]
        consumed.clear()
        if state["bad_utf8"]:
            error, state["bad_utf8"] = "invalid UTF-8", False
        line, start = start, state["lines"] + 1
        if error is None and not any(cell.strip() for cell in cells):
            continue  # a blank line is not a row
        yield CsvRecord(line, raw, cells, error)


def row_dict(header: list[str], record: CsvRecord) -> dict:
    """The record as {column: cell}; a record whose width differs from the header's is an error."""
    if record.error:
        raise RowError("(row)", record.error)
    if len(record.cells) != len(header):
        raise RowError("(row)", f"{len(record.cells)} cells, the header has {len(header)}")
    return dict(zip(header, record.cells))


def clean_header(cells: list[str]) -> list[str]:
    return [cell.strip() for cell in cells]


# -- cells -------------------------------------------------------------------

_THOUSANDS = re.compile(r"^[-+]?\d{1,3}(,\d{3})+(\.\d*)?$")


def number(row: dict, column: str, *, required: bool = True) -> Optional[Decimal]:
    """A cell as an exact decimal; empty is None (or an error when required)."""
    text = (row.get(column) or "").strip()
    if not text or (not required and text.lower() in ("none", "nan")):
        if required:
            raise RowError(column, "missing value")
        return None
    if _THOUSANDS.match(text):
        text = text.replace(",", "")
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise RowError(column, f"{text!r} is not a number") from None
    if not value.is_finite():
        raise RowError(column, f"{text!r} is not a finite number")
    return value


def text(row: dict, column: str, *, required: bool = True) -> Optional[str]:
    value = (row.get(column) or "").strip()
    if not value and required:
        raise RowError(column, "missing value")
    return value or None


def as_json_number(value: Decimal) -> float | int:
    """A decimal as the JSON number it prints as (integers stay integers)."""
    if value == value.to_integral_value() and abs(value) < 2**53:
        return int(value)
    return float(value)


def symbol_of(value: str) -> str:
    """A source symbol as msp stores it: upper case, runs of spaces as ``_``
    (IBKR option symbols such as ``AAPL  260116C00200000``)."""
    return SYMBOL_SPACES.sub("_", value.strip()).upper()


# -- times -------------------------------------------------------------------

# the abbreviations IBKR's "HH:mm:ss TimeZone" format and US exports print, as fixed offsets
ZONE_ABBREVIATIONS = {
    "UTC": 0, "GMT": 0, "Z": 0, "EST": -5, "EDT": -4, "CST": -6, "CDT": -5, "MST": -7, "MDT": -6,
    "PST": -8, "PDT": -7, "BST": 1, "CET": 1, "CEST": 2, "EET": 2, "EEST": 3, "HKT": 8, "JST": 9,
    "SGT": 8, "AEST": 10, "AEDT": 11,
}
_TRAILING_ZONE = re.compile(r"^(?P<stamp>.*\d)\s+(?P<zone>[A-Za-z][A-Za-z_/+-]*)$")
_SEPARATOR = re.compile(r"\s*[;,T ]\s*")
_COMPACT_DATE = re.compile(r"^\d{8}$")
_US_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
_COMPACT_TIME = re.compile(r"^(\d{2})(\d{2})(\d{2})$")


@dataclass(frozen=True)
class TimeReader:
    """Reads the times of one import: aware times as they are, naive ones in
    ``tz`` (the operator's zone; never guessed), date-only ones at the session's
    open or close in that zone."""

    tz: Optional[str]
    session_open: dt.time = dt.time(9, 30)
    session_close: dt.time = dt.time(16, 0)

    @property
    def zone(self) -> Optional[ZoneInfo]:
        return ZoneInfo(self.tz) if self.tz else None

    def read(self, row: dict, column: str, *, at: str = "open", source: str = "", line: int = 0,
             required: bool = True) -> Optional[dt.datetime]:
        value = text(row, column, required=required)
        if value is None:
            return None
        return self.parse(value, column, at=at, where=f"{source}:{line}")

    def parse(self, value: str, column: str, *, at: str = "open", where: str = "") -> dt.datetime:
        stamp, zone_name = value.strip(), None
        trailing = _TRAILING_ZONE.match(stamp)
        if trailing and not stamp.endswith(("Z", "z")):
            stamp, zone_name = trailing["stamp"], trailing["zone"]
        parsed, date_only = _parse_stamp(stamp)
        if parsed is None:
            raise RowError(column, f"{value!r} is not a date or date-time")
        if zone_name is not None:
            if parsed.tzinfo is not None:
                raise RowError(column, f"{value!r} has two time zones")
            return parsed.replace(tzinfo=_named_zone(zone_name, column))
        if parsed.tzinfo is not None:
            return parsed
        if self.tz is None:
            raise UsageError(f"{where}: {column} {value!r} has no time zone: pass --tz ZONE (the zone the file's "
                             "times are in, e.g. --tz America/New_York) or set one with "
                             "`msp state set --timezone ZONE`")
        if date_only:
            parsed = dt.datetime.combine(parsed.date(), self.session_open if at == "open" else self.session_close)
        return parsed.replace(tzinfo=self.zone)


def _parse_stamp(stamp: str) -> tuple[Optional[dt.datetime], bool]:
    """(datetime, date only?) from the formats brokers and pandas write; None if none fits."""
    try:
        if (len(stamp) == 10 and stamp[4] == "-") or _COMPACT_DATE.match(stamp):
            return dt.datetime.combine(dt.date.fromisoformat(stamp), dt.time()), True
        return dt.datetime.fromisoformat(stamp.replace("z", "Z")), False
    except ValueError:
        pass
    parts = _SEPARATOR.split(stamp, maxsplit=1)
    date_text, time_text = parts[0], parts[1] if len(parts) > 1 else None
    try:
        if _COMPACT_DATE.match(date_text):
            date = dt.date(int(date_text[:4]), int(date_text[4:6]), int(date_text[6:]))
        elif (us := _US_DATE.match(date_text)) is not None:
            date = dt.date(int(us[3]), int(us[1]), int(us[2]))
        else:
            date = dt.date.fromisoformat(date_text.replace("/", "-"))
        if time_text is None:
            return dt.datetime.combine(date, dt.time()), True
        compact = _COMPACT_TIME.match(time_text)
        clock = (dt.time(int(compact[1]), int(compact[2]), int(compact[3])) if compact
                 else dt.time.fromisoformat(time_text))
        return dt.datetime.combine(date, clock), False
    except ValueError:
        return None, False


def _named_zone(name: str, column: str) -> dt.tzinfo:
    offset = ZONE_ABBREVIATIONS.get(name.upper())
    if offset is not None:
        return dt.timezone(dt.timedelta(hours=offset))
    try:
        return zone(name)
    except UsageError:
        raise RowError(column, f"unknown time zone {name!r}") from None


def iso(moment: dt.datetime) -> str:
    """RFC 3339 with the offset the time was read in (the stored instant is the same)."""
    return moment.isoformat(timespec="microseconds" if moment.microsecond else "seconds")


def session_time(text_value: str, option: str) -> dt.time:
    try:
        return dt.time.fromisoformat(text_value)
    except ValueError:
        raise UsageError(f"invalid {option} {text_value!r}: use HH:MM") from None


# -- ids ---------------------------------------------------------------------

def digest(*parts) -> str:
    """A short, stable hash of the parts (16 hex characters)."""
    joined = "\x1f".join("" if p is None else str(p) for p in parts)
    return hashlib.blake2b(joined.encode(), digest_size=8).hexdigest()


def id_part(value: str) -> str:
    """A source key as a piece of an event id: as is when it is id-safe, else its hash."""
    value = value.strip()
    return value if ID_SAFE.match(value) else digest(value)


def slug(value: str, limit: int = 24) -> str:
    cleaned = re.sub(r"[^A-Za-z0-9_.-]+", "-", value.strip()).strip("-.")[:limit]
    return cleaned or "x"


class Occurrences:
    """How many times a content key has been seen in this file (1 for the first)."""

    def __init__(self):
        self._seen: Counter = Counter()

    def next(self, *content) -> int:
        key = digest(*content)
        self._seen[key] += 1
        return self._seen[key]


# -- events ------------------------------------------------------------------

def event(event_type: str, event_id: str, occurred_at: dt.datetime, workflow_id: str, payload: dict, *,
          version: int = 1, parent: Optional[str] = None, entity: Optional[dict] = None,
          app: str = "msp import") -> dict:
    """A canonical workflow event (envelope + payload) as an importer makes it."""
    correlation = {"workflow_id": workflow_id}
    if parent:
        correlation["parent_event_id"] = parent
    out = {
        "event_id": event_id,
        "event_type": event_type,
        "event_version": version,
        "occurred_at": iso(occurred_at),
        "context": {"app": {"name": app}},
        "correlation": correlation,
        "payload": payload,
    }
    if entity:
        out["entity"] = entity
    return out


def evidence(fmt: str, row: dict, tz: Optional[str] = None, **extra) -> dict:
    """The source row an event was made from, kept in its payload so a trader can
    trace the event back to the line (the stored event also records the file and
    line it was first imported from).  No file name or row number: a re-exported
    or renamed file must produce the same event."""
    found = {"format": fmt, "row": {k if k is not None else "(extra)": v for k, v in row.items()}}
    if tz:
        found["tz"] = tz
    found.update(extra)
    return {"import": found}
