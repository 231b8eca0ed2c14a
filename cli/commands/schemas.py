"""``msp schemas list|show TYPE`` — the event types and their rules, from schemas/."""

from __future__ import annotations

import click

from ..context import pass_app
from ..params import TEXT


@click.group("schemas")
def command():
    """List event types or show one type's schema (the single source of every rule).

    \b
    Example:
      msp schemas list
      msp schemas show candidate.created
    """


@command.command("list")
@pass_app
def list_types(app):
    """Every allowed event type with its versions and description."""
    from msp.engine.schema_docs import type_rows

    from ..render import console, emit_csv, emit_json, table

    rows = type_rows()
    if app.format == "json":
        emit_json(rows)
    elif app.format == "csv":
        emit_csv(["event_type", "versions", "description"],
                 [[r["event_type"], " ".join(map(str, r["versions"])), r["description"]] for r in rows])
    else:
        console().print(table("Event types", ["event_type", "versions", "description"],
                              [[r["event_type"], ", ".join(f"v{v}" for v in r["versions"]), r["description"]]
                               for r in rows]))


@command.command("show")
@click.argument("event_type", metavar="TYPE", type=TEXT)
@click.option("--version", "version", type=int, default=None, help="Schema version (default: the newest).")
@pass_app
def show(app, event_type, version):
    """One event type: its fields and rules (envelope, payload, warnings).

    TYPE may also be `envelope` or `decision_packet`.
    """
    from msp.engine.schema_docs import describe, field_rows

    from ..render import console, emit_csv, emit_json, table

    doc = describe(event_type, version)
    if app.format == "json":
        emit_json(doc["schema"])
        return
    rows = field_rows(doc["schema"], doc["resources"])
    if app.format == "csv":
        emit_csv(["field", "type", "required", "rule", "description"], rows)
        return
    out = console()
    out.print(doc["title"], style="bold")
    if doc.get("description"):
        out.print(doc["description"])
    out.print(table(None, ["field", "type", "required", "rule", "description"], rows))
    for warning in doc.get("warnings", []):
        out.print(f"warning rule: {warning}")
    if event_type not in ("envelope", "decision_packet"):
        out.print("Every event also has the shared envelope: msp schemas show envelope", style="dim")
