"""Documentation of the schema files for ``msp schemas``: types, fields and rules.

Reads the same files the validators are built from, so what is shown is
exactly what is enforced.
"""

from __future__ import annotations

from typing import Any, Optional

from .errors import NotFound
from .schemas import schema_set

RULE_KEYWORDS = ("enum", "const", "pattern", "format", "minimum", "maximum", "exclusiveMinimum",
                 "exclusiveMaximum", "minLength", "maxLength", "minItems", "maxItems")


def type_rows() -> list[dict]:
    schemas = schema_set()
    rows = []
    for event_type in schemas.allowed_types:
        versions = schemas.versions(event_type)
        newest = schemas.get(event_type, versions[-1]) if versions else None
        rows.append({
            "event_type": event_type,
            "versions": versions,
            "description": (newest.payload_schema.get("description", "") if newest else "(no schema file)"),
        })
    return rows


def describe(name: str, version: Optional[int] = None) -> dict:
    """Title, description, the schema itself and the warning rules of a type."""
    schemas = schema_set()
    if name in ("envelope", "decision_packet"):
        schema = schemas.envelope if name == "envelope" else next(
            s for uri, s in schemas.resources.items() if uri.endswith("decision_packet.schema.json"))
        return {"title": schema.get("title", name), "description": schema.get("description", ""),
                "schema": schema, "resources": schemas.resources, "prefix": ""}
    versions = schemas.versions(name)
    if not versions:
        raise NotFound(f"unknown event type {name!r} (see `msp schemas list`)")
    version = version or versions[-1]
    ts = schemas.get(name, version)
    if ts is None:
        raise NotFound(f"no schema for {name} version {version} (known: {', '.join(map(str, versions))})")
    warnings = []
    if ts.warnings_schema:
        warnings = [ts.warnings_schema.get("description", "see the warnings schema")]
    return {
        "title": f"{name} v{version}",
        "description": ts.payload_schema.get("description", ""),
        "schema": {"envelope": schemas.envelope, "payload": ts.payload_schema,
                   **({"warnings": ts.warnings_schema} if ts.warnings_schema else {})},
        "resources": schemas.resources,
        "warnings": warnings,
    }


def describe_output(name: str) -> dict:
    """The published contract of a command's JSON output (``schemas/output/``), shaped as
    ``describe()``'s answer; its ``$defs`` are the resources its ``$ref``s point at."""
    from .output_schemas import load_output_schema

    schema = load_output_schema(name)
    resources = {f"#/$defs/{key}": sub for key, sub in schema.get("$defs", {}).items()}
    return {"title": f"{name} output: {schema.get('title', name)}", "description": schema.get("description", ""),
            "schema": schema, "resources": resources, "warnings": []}


def _resolve(schema: dict, resources: dict, base: str = "") -> dict:
    ref = schema.get("$ref")
    if not ref:
        return schema
    if ref in resources:
        return resources[ref]
    for uri, target in resources.items():  # relative refs such as ../decision_packet.schema.json
        if uri.endswith(ref.lstrip("./").lstrip("/")):
            return target
    return schema


def _type_of(schema: dict) -> str:
    kind = schema.get("type")
    if kind is None and "enum" in schema:
        return "enum"
    if isinstance(kind, list):
        return "|".join(kind)
    if kind == "array" and isinstance(schema.get("items"), dict):
        return f"array of {schema['items'].get('type', 'object')}"
    return kind or ("object" if "properties" in schema else "any")


def _rule(schema: dict) -> str:
    parts = []
    for keyword in RULE_KEYWORDS:
        if keyword in schema:
            value = schema[keyword]
            if keyword == "enum":
                value = " | ".join(map(str, value))
            parts.append(f"{keyword} {value}")
    return "; ".join(parts)


def field_rows(schema: Any, resources: dict) -> list[list]:
    """One row per field: dotted path, type, required, rule, description."""
    rows: list[list] = []
    if "envelope" in schema and "payload" in schema:  # an event type: its payload (the envelope is shared)
        _walk(schema["payload"], resources, "payload.", rows)
    elif schema.get("type") == "array" and isinstance(schema.get("items"), dict):  # an output that is a list
        _walk(schema["items"], resources, "[].", rows)
    else:
        _walk(schema, resources, "", rows)
    return rows


def _walk(schema: dict, resources: dict, prefix: str, rows: list, skip=frozenset(), depth: int = 0) -> None:
    schema = _resolve(schema, resources)
    required = set(schema.get("required", []))
    for name, sub in schema.get("properties", {}).items():
        if name in skip:
            continue
        sub = _resolve(sub, resources)
        rows.append([prefix + name, _type_of(sub), "yes" if name in required else "",
                     _rule(sub), sub.get("description", "")])
        if depth < 4 and (sub.get("properties") or sub.get("$ref")):
            _walk(sub, resources, f"{prefix}{name}.", rows, depth=depth + 1)
        items = sub.get("items")
        if depth < 4 and isinstance(items, dict):
            items = _resolve(items, resources)
            if items.get("properties"):
                _walk(items, resources, f"{prefix}{name}[].", rows, depth=depth + 1)
