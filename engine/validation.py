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
import re
from dataclasses import dataclass, field
from typing import Any, Optional

import orjson

from .limits import DEFAULT_MAX_DEPTH, DEFAULT_MAX_LINE_BYTES
from .schemas import SchemaSet, TypeSchemas, schema_set

ROOT = ""  # the JSON pointer of the whole document
_NON_FINITE = re.compile(rb"(?<![\"\w])(-?Infinity|NaN)(?![\"\w])")


@dataclass(frozen=True)
class Problem:
    """One error or warning: a JSON pointer path and a message."""

    path: str
    message: str

    def as_dict(self) -> dict:
        return {"path": self.path, "message": self.message}


@dataclass
class Checked:
    """The outcome for one line: an event (accepted) or errors (rejected)."""

    event: Optional[dict] = None
    event_id: Optional[str] = None
    derived_id: bool = False
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    truncated: bool = False  # the raw line kept is only the head of an over-long line

    @property
    def ok(self) -> bool:
        return not self.errors


def pointer(parts) -> str:
    """A JSON pointer (RFC 6901) from path parts."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def derive_event_id(event: dict) -> str:
    """A deterministic id for an event without one: a hash of its canonical form,
    so the same line (whatever its key order or spacing) always gets the same id."""
    canonical = orjson.dumps(event, option=orjson.OPT_SORT_KEYS)
    return "h:" + hashlib.blake2b(canonical, digest_size=16).hexdigest()


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
        event_type, version = event.get("event_type"), event.get("event_version")
        # only a string type and an integer version can name a schema (a list would not even hash)
        key = (event_type, version) if type(event_type) is str and type(version) is int else None
        fast = self._fast.get(key) if key is not None else None
        if fast is None or not fast.is_valid(event):
            errors = self.explain(event)
            if errors:
                return Checked(errors=errors)
        result = Checked(event=event)
        warn = self._warns.get(key) if key is not None else None
        if warn is not None and not warn.is_valid(event):
            ts = self.schemas.get(*key)
            rule = ts.warnings_schema.get("description", "")
            result.warnings = [Problem(p.path, f"{p.message} — {rule}" if rule else p.message)
                               for p in _schema_problems(self.schemas.warnings_validator(ts), event)]
        event_id = event.get("event_id")
        if event_id is None:
            result.event_id, result.derived_id = derive_event_id(event), True
        else:
            result.event_id = event_id
        return result

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
