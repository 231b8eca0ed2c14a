"""Turning one input line into an accepted event or a list of errors
(docs/ARCHITECTURE.md#events-and-their-schemas and #ingest).

The hot path is cheap: ``orjson`` parses, a byte count rules out deep
nesting for ordinary lines, and a compiled ``jsonschema-rs`` validator built
from the schema files answers yes/no.  Only a rejected line pays for the
reference ``jsonschema`` library, which lists every error with its JSON
pointer path.  No rule is restated here: limits on size and depth are input
hygiene, every rule about content lives in ``schemas/``.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Optional

import orjson

from .limits import DEFAULT_MAX_DEPTH, DEFAULT_MAX_LINE_BYTES
from .schemas import SchemaSet, TypeSchemas, schema_set

ROOT = ""  # the JSON pointer of the whole document
OWN_ID_PREFIX = "msp."  # msp_event_id (migrations/012): input may not use it (schemas/envelope.schema.json)
_NON_FINITE = re.compile(rb"(?<![\"\w])(-?Infinity|NaN)(?![\"\w])")
# A number a float may not hold exactly: 16 or more digits (a point between them
# counts too) or a 3-digit exponent.  Only such lines — rare — are parsed again
# exactly (``exact_loads``); a string that merely looks like one costs that parse.
# The line is mapped to its "number shape" (digits and "." → 0, e/E → e, +/- → -,
# anything else a space) and searched for plain substrings: a few times cheaper
# than a regular expression scanning every position.
_SHAPE = bytearray(b" " * 256)
_SHAPE[ord("0"):ord("9") + 1] = b"0" * 10
_SHAPE[ord(".")] = _SHAPE[ord("0")]
_SHAPE[ord("e")] = _SHAPE[ord("E")] = ord("e")
_SHAPE[ord("+")] = _SHAPE[ord("-")] = ord("-")
_SHAPE = bytes(_SHAPE)
_EXPONENT = re.compile(rb"[:,\[][ \t\r\n]*-?[0-9][0-9.]*[eE][-+]?[0-9]{3}")


def maybe_inexact(raw: bytes) -> bool:
    """Could a number of this line lose digits as a float?  (False: certainly not.)"""
    shape = raw.translate(_SHAPE)
    if b"0000000000000000" in shape:
        return True
    # "0e000" also matches hex ids ("550e8400"): a number token confirms it
    return (b"0e000" in shape or b"0e-000" in shape) and _EXPONENT.search(raw) is not None
EDGE_YEARS = ("0001", "9999")  # where a date-time's instant in UTC can leave the years 1..9999
NUMERIC_MAX_SCALE = 16383  # digits after the point PostgreSQL's numeric (jsonb's numbers) holds
NUMERIC_MAX_DIGITS = 131072  # digits before the point


@dataclass(frozen=True)
class Problem:
    """One error or warning: a JSON pointer path and a message."""

    path: str
    message: str

    def as_dict(self) -> dict:
        return {"path": self.path, "message": self.message}


def reserved_id_only(checked: "Checked", raw: bytes) -> Optional[str]:
    """The event id of a line refused for one reason only: its id is in msp's
    reserved namespace (``msp.``).  The event writer stores nothing for such a
    line, and counts it a duplicate when msp already holds that exact event (a
    re-import of exported or archived history), else quarantines it
    (docs/RELIABILITY.md, "Input posing as msp's own events")."""
    if len(checked.errors) != 1 or checked.errors[0].path != "/event_id":
        return None
    try:
        event_id = orjson.loads(raw).get("event_id")
    except (orjson.JSONDecodeError, AttributeError):
        return None
    return event_id if isinstance(event_id, str) and event_id.startswith(OWN_ID_PREFIX) else None


@dataclass
class Checked:
    """The outcome for one line: an event (accepted) or errors (rejected)."""

    event: Optional[dict] = None
    event_id: Optional[str] = None
    derived_id: bool = False
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    truncated: bool = False  # the raw line kept is only the head of an over-long line
    exact: bool = False  # ``event`` holds numbers a float cannot (ints beyond 64 bits, Decimals)

    @property
    def ok(self) -> bool:
        return not self.errors


def pointer(parts) -> str:
    """A JSON pointer (RFC 6901) from path parts."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def derive_event_id(event: dict, exact: bool = False) -> str:
    """A deterministic id for an event without one: a hash of its canonical form,
    so the same line (whatever its key order or spacing) always gets the same id.
    An event whose numbers a float holds hashes as it always did; an ``exact`` one
    (numbers kept as given) hashes its exact canonical text, so lines differing in
    a 23rd digit get different ids."""
    canonical = _canonical(event).encode() if exact else orjson.dumps(event, option=orjson.OPT_SORT_KEYS)
    return "h:" + hashlib.blake2b(canonical, digest_size=16).hexdigest()


def _int(text: str):
    return int(text) if len(text) < 4000 else Decimal(text)  # Python refuses int() of 4,300+ digits


def exact_loads(raw) -> Any:
    """JSON with every number exactly as written (int, or Decimal for the rest)."""
    return json.loads(raw, parse_float=Decimal, parse_int=_int)


def _canonical(value) -> str:
    """Sorted keys, no spaces, numbers by value (1.10 and 1.1 alike, as jsonb compares them)."""
    if isinstance(value, dict):
        return "{" + ",".join(orjson.dumps(k).decode() + ":" + _canonical(value[k]) for k in sorted(value)) + "}"
    if isinstance(value, list):
        return "[" + ",".join(_canonical(v) for v in value) + "]"
    if isinstance(value, Decimal) or (type(value) is int):
        return str(Decimal(value).normalize())
    return orjson.dumps(value).decode()


def _lossless(fast: Any, exact: Any) -> bool:
    """Did orjson's parse (``fast``) keep every number of ``exact``?"""
    if isinstance(exact, dict):
        return all(_lossless(fast[k], v) for k, v in exact.items())
    if isinstance(exact, list):
        return all(_lossless(f, v) for f, v in zip(fast, exact))
    if isinstance(exact, Decimal):
        return type(fast) is float and Decimal(repr(fast)) == exact
    if type(exact) is int:
        return type(fast) is int and fast == exact
    return True


def _unstorable_number(value: Any, path: list) -> Optional[list]:
    """Where a number lies beyond PostgreSQL's numeric (too many digits before or after the point)."""
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    elif isinstance(value, Decimal):
        sign, digits, exponent = value.as_tuple()
        if -exponent > NUMERIC_MAX_SCALE or len(digits) + exponent > NUMERIC_MAX_DIGITS:
            return path
        return None
    else:
        return None
    for k, v in items:
        found = _unstorable_number(v, path + [k])
        if found is not None:
            return found
    return None


def _too_deep(value: Any, limit: int) -> Optional[list]:
    """The path of the first container nested deeper than ``limit``, else None."""
    stack = [(value, 1, [])]
    while stack:
        node, depth, path = stack.pop()
        if depth > limit:
            return path
        if isinstance(node, dict):
            stack.extend((v, depth + 1, path + [k]) for k, v in node.items() if isinstance(v, (dict, list)))
        elif isinstance(node, list):
            stack.extend((v, depth + 1, path + [i]) for i, v in enumerate(node) if isinstance(v, (dict, list)))
    return None


def _nul_path(value: Any, path: list) -> Optional[list]:
    """Where a string or key holds U+0000 (PostgreSQL's jsonb cannot store it)."""
    if isinstance(value, str):
        return path if "\x00" in value else None
    if isinstance(value, dict):
        for k, v in value.items():
            if "\x00" in k:
                return path + [k]
            found = _nul_path(v, path + [k])
            if found is not None:
                return found
    elif isinstance(value, list):
        for i, v in enumerate(value):
            found = _nul_path(v, path + [i])
            if found is not None:
                return found
    return None


def _parse_error(raw: bytes, exc: orjson.JSONDecodeError) -> Problem:
    text = str(exc)
    if "UTF-8" in text:
        position = re.search(r"\(char (\d+)\)", text)
        return Problem(ROOT, "invalid UTF-8" + (f" near character {position.group(1)}" if position else ""))
    if "depth limit" in text or "recursion" in text:
        return Problem(ROOT, "nesting too deep to parse")
    if _NON_FINITE.search(raw):
        return Problem(ROOT, "NaN and Infinity are not valid JSON numbers")
    if "infinity" in text:
        return Problem(ROOT, "number too large (it would be Infinity)")
    return Problem(ROOT, f"invalid JSON: {text}")


def _schema_message(error) -> str:
    if error.validator == "enum" and len(error.validator_value) > 8:
        shown = ", ".join(map(repr, error.validator_value[:8]))
        return f"{error.instance!r} is not an allowed value (allowed: {shown}, …)"
    if error.validator == "pattern" and error.validator_value == "\\S":
        return "must not be blank"
    if error.validator in ("pattern", "format") and error.schema.get("description"):
        return f"{error.instance!r} is not valid here: {error.schema['description']}"
    if error.validator == "format" and error.validator_value == "date-time":
        return (f"{error.instance!r} is not a date-time msp can store and read back (RFC 3339 with an offset, "
                "in UTC between 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z)")
    if error.validator == "maxLength" and isinstance(error.instance, str):
        return f"too long: {len(error.instance)} characters, at most {error.validator_value}"
    if error.validator == "not" and error.schema.get("description"):
        return f"{error.instance!r} is not allowed here: {error.schema['description']}"
    if error.validator == "additionalProperties" and not error.path:
        return error.message.replace("Additional properties", "unknown top-level key(s)")
    return error.message


def _schema_problems(validator, event: dict) -> list[Problem]:
    problems = []
    for error in validator.iter_errors(event):
        leaves = [error]
        if error.context:  # anyOf/oneOf: the branch errors say more
            leaves = sorted(error.context, key=lambda e: len(e.absolute_path), reverse=True)[:3]
        for leaf in leaves:
            problems.append(Problem(pointer(leaf.absolute_path), _schema_message(leaf)))
    return sorted(set(problems), key=lambda p: (p.path, p.message))


class LineChecker:
    """Checks lines against one SchemaSet with the configured input limits."""

    def __init__(
        self,
        schemas: Optional[SchemaSet] = None,
        max_line_bytes: int = DEFAULT_MAX_LINE_BYTES,
        max_depth: int = DEFAULT_MAX_DEPTH,
    ):
        self.schemas = schemas or schema_set()
        self.max_line_bytes = max_line_bytes
        self.max_depth = max_depth
        self._fast = {key: self.schemas.fast_validator(ts) for key, ts in self.schemas.types.items()}
        self._date_times = {key: ts.date_times for key, ts in self.schemas.types.items()}
        self._warns = {
            key: self.schemas.warnings_fast_validator(ts)
            for key, ts in self.schemas.types.items()
            if ts.warnings_schema is not None
        }

    def check(self, raw: bytes) -> Checked:
        """Parse and validate one line (without its newline)."""
        if len(raw) > self.max_line_bytes:
            return Checked(errors=[Problem(ROOT, f"line is {len(raw)} bytes, over the {self.max_line_bytes}-byte limit")])
        try:
            event = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            return Checked(errors=[_parse_error(raw, exc)])
        if type(event) is not dict:
            return Checked(errors=[Problem(ROOT, f"an event must be a JSON object, not {type(event).__name__}")])
        if raw.count(123) + raw.count(91) > self.max_depth:  # "{" and "[" (an int needle is the fast path)
            deep = _too_deep(event, self.max_depth)
            if deep is not None:
                return Checked(errors=[Problem(pointer(deep), f"nesting deeper than {self.max_depth} levels")])
        if raw.find(b"\\u0000") >= 0:
            nul = _nul_path(event, [])
            if nul is not None:
                return Checked(errors=[Problem(pointer(nul), "the NUL character (\\u0000) cannot be stored")])
        exact = False
        if maybe_inexact(raw):
            precise = exact_loads(raw)
            if not _lossless(event, precise):  # keep the numbers as written, not as floats
                event, exact = precise, True
                big = _unstorable_number(event, [])
                if big is not None:
                    return Checked(errors=[Problem(pointer(big), "number out of the range PostgreSQL stores "
                                                   f"(at most {NUMERIC_MAX_DIGITS} digits before the point "
                                                   f"and {NUMERIC_MAX_SCALE} after)")])
        event_type, version = event.get("event_type"), event.get("event_version")
        # only a string type and an integer version can name a schema (a list would not even hash)
        key = (event_type, version) if type(event_type) is str and type(version) is int else None
        fast = self._fast.get(key) if key is not None and not exact else None
        valid = fast is not None and fast.is_valid(event)
        # a line that may hold a date-time outside 0001-01-01T00:00:00Z..9999-12-31T23:59:59Z in
        # UTC (one in the year 0001 or 9999) is decided by the reference validator, which
        # applies msp's date-time (engine/schemas.py is_date_time)
        if not valid or self._edge_date_time(key, event):
            errors = self.explain(event)
            if not errors and not valid and not exact and fast is not None:
                # the two validators disagree: the compiled one decides, as on the hot path
                errors = [Problem(ROOT, "does not match its schema")]
            if errors:
                return Checked(errors=errors)
        result = Checked(event=event, exact=exact)
        warn = self._warns.get(key) if key is not None else None
        if warn is not None and not warn.is_valid(event):
            ts = self.schemas.get(*key)
            rule = ts.warnings_schema.get("description", "")
            result.warnings = [Problem(p.path, f"{p.message} — {rule}" if rule else p.message)
                               for p in _schema_problems(self.schemas.warnings_validator(ts), event)]
        event_id = event.get("event_id")
        if event_id is None:
            result.event_id, result.derived_id = derive_event_id(event, exact), True
        else:
            result.event_id = event_id
        return result

    def _edge_date_time(self, key, event: dict) -> bool:
        """Does a date-time field of this (fast-valid) event lie in the year 0001 or 9999?"""
        paths = self._date_times.get(key)
        if paths is None:
            return True  # fields the schema does not name by a plain path: let the reference decide
        for path in paths:
            value = event
            for part in path:
                value = value.get(part) if type(value) is dict else None
            if type(value) is str and value[:4] in EDGE_YEARS:
                return True
        return False

    def check_own(self, event: dict) -> Checked:
        """An event msp built itself (``msp_event``): checked like a line, except that its id
        is one of msp's own (``msp.<kind>.<md5>``), the namespace input may not use."""
        event_id = event.get("event_id")
        if type(event_id) is not str or not event_id.startswith(OWN_ID_PREFIX):
            return Checked(errors=[Problem("/event_id", f"msp's own events have ids starting with {OWN_ID_PREFIX}")])
        checked = self.check(orjson.dumps({k: v for k, v in event.items() if k != "event_id"}))
        if checked.ok:
            checked.event, checked.event_id, checked.derived_id = event, event_id, False
        return checked

    def explain(self, event: dict) -> list[Problem]:
        """Every error of an event that failed the fast check (reference validator)."""
        ts: Optional[TypeSchemas] = self.schemas.get(event.get("event_type"), event.get("event_version"))
        if ts is not None:
            return _schema_problems(self.schemas.event_reference_validator(ts), event)
        problems = _schema_problems(self.schemas.envelope_reference_validator, event)
        event_type = event.get("event_type")
        if event_type in self.schemas.allowed_types and not any(p.path == "/event_version" for p in problems):
            known = ", ".join(map(str, self.schemas.versions(event_type))) or "none"
            problems.append(Problem(
                "/event_version",
                f"no schema for {event_type} version {event.get('event_version')!r} (known versions: {known})",
            ))
        return problems
