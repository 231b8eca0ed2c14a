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
            schema_set.types[(event_type, version)] = TypeSchemas(
                event_type, version, payload, event_schema,
                warnings_schema=warnings.get((event_type, version)),
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
        cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
        return cls(schema, registry=self._ref_registry, format_checker=cls.FORMAT_CHECKER)

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
