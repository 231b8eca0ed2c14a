"""The JSON Schema files of ``schemas/``: the single source of every validation rule.

Layout: ``envelope.schema.json``, ``decision_packet.schema.json``,
``events/<event_type>.v<N>.schema.json`` (one payload schema per type and
version) and ``warnings/<event_type>.v<N>.schema.json`` (event-level rules
whose failures are warnings, not rejections).  ``SchemaSet`` loads them once
and builds, per (type, version), a compiled ``jsonschema-rs`` validator for
the yes/no hot path and a reference ``jsonschema`` validator that lists every
error of a rejected event.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import re
from dataclasses import dataclass, field
from importlib import resources
from typing import Any, Optional

import jsonschema
import jsonschema_rs
import referencing
import referencing.jsonschema

ENVELOPE = "envelope.schema.json"
DECISION_PACKET = "decision_packet.schema.json"
EVENT_FILE = re.compile(r"^(?P<type>[a-z_.]+)\.v(?P<version>[0-9]+)\.schema\.json$")
DRAFT = "https://json-schema.org/draft/2020-12/schema"


# -- how msp reads two keywords (the one place): ----------------------------
# "pattern" is an ECMA-262 regular expression (JSON Schema's dialect), where "$"
# is the end of the string; in Python's re it also matches before a trailing
# newline, so the reference validator translates each pattern once.
def ecma_pattern(pattern: str) -> "re.Pattern":
    """``pattern`` (ECMA-262) as a Python regex with ECMA's anchors and ASCII ``\\d``/``\\w``."""
    out, i, in_class = [], 0, False
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\" and i + 1 < len(pattern):
            nxt = pattern[i + 1]
            if nxt == "d":
                out.append("0-9" if in_class else "[0-9]")
            elif nxt == "w":
                out.append("A-Za-z0-9_" if in_class else "[A-Za-z0-9_]")
            else:
                out.append(ch + nxt)
            i += 2
            continue
        if in_class:
            in_class = ch != "]"
        elif ch == "[":
            in_class = True
        elif ch == "$":
            ch = r"\Z"
        out.append(ch)
        i += 1
    return re.compile("".join(out))


# "format": "date-time" is RFC 3339 with an offset whose instant, in UTC, lies in
# 0001-01-01T00:00:00Z..9999-12-31T23:59:59Z: what PostgreSQL stores *and* every
# report can read back as a Python datetime (9999-12-31T23:59:59-14:00 is in the
# year 10000 in UTC).  The reference validator uses this definition; the compiled
# one keeps its built-in date-time (a Python callback per field would triple the
# hot path's cost), so LineChecker sends a line that could hold an instant outside
# that range — one naming the first or last day, or with \u-escaped digits — to the
# reference validator (engine/validation.py ``LineChecker.check``).
_RFC3339 = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt ]([0-9]{2}):([0-9]{2}):([0-9]{2})(\.[0-9]+)?"
                      r"(?:[Zz]|([+-])([0-9]{2}):([0-9]{2}))")


def is_date_time(value: Any) -> bool:
    """The msp meaning of ``"format": "date-time"`` (True for non-strings: type is another keyword)."""
    if type(value) is not str:
        return True
    m = _RFC3339.fullmatch(value)
    if m is None:
        return False
    year, month, day, hour, minute, second = (int(m[k]) for k in range(1, 7))
    try:
        local = dt.datetime(year, month, day, hour, minute, min(second, 59))
    except ValueError:
        return False
    if second > 60:
        return False
    if m[8] is None:
        return True
    off_h, off_m = int(m[9]), int(m[10])
    if off_h > 23 or off_m > 59:
        return False
    offset = dt.timedelta(hours=off_h, minutes=off_m)
    try:
        local - offset if m[8] == "+" else local + offset  # the instant in UTC, within datetime's years 1..9999
    except OverflowError:
        return False
    return True


def date_time_paths(schema: Any, path: tuple = ()) -> Optional[list]:
    """The property paths of a schema's ``"format": "date-time"`` fields, or None when
    one sits where a plain path cannot name it (in an array, a combinator, a $ref)."""
    if not isinstance(schema, dict):
        return []
    paths = [path] if schema.get("format") == "date-time" else []
    for key, sub in schema.items():
        if key == "properties":
            for name, prop in sub.items():
                found = date_time_paths(prop, path + (name,))
                if found is None:
                    return None
                paths += found
        elif key not in ("format", "description", "title", "type", "pattern", "enum", "const", "required",
                         "examples", "default") and "date-time" in json.dumps(sub):
            return None
    return paths


def _ecma_pattern_keyword(validator, pattern, instance, schema):
    if validator.is_type(instance, "string") and not _compiled(pattern).search(instance):
        yield jsonschema.ValidationError(f"{instance!r} does not match {pattern!r}")


@functools.lru_cache(maxsize=256)
def _compiled(pattern: str):
    return ecma_pattern(pattern)


def _format_checker(cls):
    checker = jsonschema.FormatChecker()
    checker.checkers = dict(cls.FORMAT_CHECKER.checkers)
    checker.checks("date-time")(is_date_time)
    return checker




@dataclass
class TypeSchemas:
    """Everything about one (event_type, version)."""

    event_type: str
    version: int
    payload_schema: dict
    event_schema: dict  # envelope + this payload, the schema an event is checked against
    fast: Any = None  # jsonschema_rs validator (lazy)
    reference: Any = None  # jsonschema validator (lazy)
    warnings_schema: Optional[dict] = None
    warnings_validator: Any = None  # reference (lists the warnings)
    warnings_fast: Any = None  # compiled yes/no
    date_times: Optional[list] = None  # paths of the date-time fields (None: not all nameable)


@dataclass
class SchemaSet:
    envelope: dict
    resources: dict[str, dict]  # $id → schema
    types: dict[tuple[str, int], TypeSchemas] = field(default_factory=dict)

    # -- loading -----------------------------------------------------------
    @classmethod
    def load(cls) -> "SchemaSet":
        root = resources.files("msp") / "schemas"
        envelope = json.loads((root / ENVELOPE).read_text(encoding="utf-8"))
        packet = json.loads((root / DECISION_PACKET).read_text(encoding="utf-8"))
        found: dict[str, dict] = {envelope["$id"]: envelope, packet["$id"]: packet}
        payloads: dict[tuple[str, int], dict] = {}
        for entry in (root / "events").iterdir():
            match = EVENT_FILE.match(entry.name)
            if match:
                schema = json.loads(entry.read_text(encoding="utf-8"))
                found[schema["$id"]] = schema
                payloads[(match["type"], int(match["version"]))] = schema
        warnings: dict[tuple[str, int], dict] = {}
        warnings_dir = root / "warnings"
        if warnings_dir.is_dir():
            for entry in warnings_dir.iterdir():
                match = EVENT_FILE.match(entry.name)
                if match:
                    warnings[(match["type"], int(match["version"]))] = json.loads(
                        entry.read_text(encoding="utf-8")
                    )
        schema_set = cls(envelope=envelope, resources=found)
        for (event_type, version), payload in sorted(payloads.items()):
            event_schema = {
                "$schema": DRAFT,
                "$id": f"urn:msp:event:{event_type}:v{version}",
                "allOf": [
                    {"$ref": envelope["$id"]},
                    {"properties": {"payload": {"$ref": payload["$id"]}}},
                ],
            }
            envelope_times = date_time_paths(envelope)
            payload_times = date_time_paths(payload)
            schema_set.types[(event_type, version)] = TypeSchemas(
                event_type, version, payload, event_schema,
                warnings_schema=warnings.get((event_type, version)),
                date_times=(None if envelope_times is None or payload_times is None
                            else envelope_times + [("payload",) + p for p in payload_times]),
            )
        return schema_set

    # -- look-ups ----------------------------------------------------------
    @property
    def allowed_types(self) -> list[str]:
        """The envelope's allow-list of event types."""
        return list(self.envelope["properties"]["event_type"]["enum"])

    def versions(self, event_type: str) -> list[int]:
        return sorted(v for (t, v) in self.types if t == event_type)

    def get(self, event_type: Any, version: Any) -> Optional[TypeSchemas]:
        if type(version) is not int or type(event_type) is not str:
            return None
        return self.types.get((event_type, version))

    # -- validators --------------------------------------------------------
    @functools.cached_property
    def _rs_registry(self):
        return jsonschema_rs.Registry(list(self.resources.items()))

    @functools.cached_property
    def _ref_registry(self) -> referencing.Registry:
        return referencing.Registry().with_resources(
            (uri, referencing.Resource.from_contents(schema, default_specification=referencing.jsonschema.DRAFT202012))
            for uri, schema in self.resources.items()
        )

    def fast_validator(self, ts: TypeSchemas):
        if ts.fast is None:
            ts.fast = jsonschema_rs.validator_for(
                ts.event_schema, registry=self._rs_registry, validate_formats=True
            )
        return ts.fast

    def reference_validator(self, schema: dict):
        base = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
        cls = jsonschema.validators.extend(base, {"pattern": _ecma_pattern_keyword})
        return cls(schema, registry=self._ref_registry, format_checker=_format_checker(base))

    def event_reference_validator(self, ts: TypeSchemas):
        if ts.reference is None:
            ts.reference = self.reference_validator(ts.event_schema)
        return ts.reference

    @functools.cached_property
    def envelope_reference_validator(self):
        return self.reference_validator(self.envelope)

    def warnings_validator(self, ts: TypeSchemas):
        if ts.warnings_schema is None:
            return None
        if ts.warnings_validator is None:
            ts.warnings_validator = self.reference_validator(ts.warnings_schema)
        return ts.warnings_validator

    def warnings_fast_validator(self, ts: TypeSchemas):
        if ts.warnings_schema is None:
            return None
        if ts.warnings_fast is None:
            ts.warnings_fast = jsonschema_rs.validator_for(ts.warnings_schema, registry=self._rs_registry,
                                                           validate_formats=True)
        return ts.warnings_fast


@functools.lru_cache(maxsize=1)
def schema_set() -> SchemaSet:
    """The process-wide, lazily built schema set."""
    return SchemaSet.load()
