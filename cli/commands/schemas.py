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
@click.option("--output", is_flag=True, help="List the contracts of the commands' JSON output instead.")
@pass_app
def list_types(app, output):
    """Every allowed event type with its versions and description
    (--output: the published contract of each command's JSON output)."""
    from ..render import console, emit_csv, emit_model, table

    result = app.workspace.schemas_list(output=output)
    if app.format == "json":
        emit_model(result)
    elif output:
        names = result.model_dump()
        if app.format == "csv":
            emit_csv(["output"], [[name] for name in names])
        else:
            console().print(table("Output contracts (msp schemas show --output NAME)", ["output"],
                                  [[name] for name in names]))
    elif app.format == "csv":
        rows = result.model_dump()
        emit_csv(["event_type", "versions", "description"],
                 [[r["event_type"], " ".join(map(str, r["versions"])), r["description"]] for r in rows])
    else:
        rows = result.model_dump()
        console().print(table("Event types", ["event_type", "versions", "description"],
                              [[r["event_type"], ", ".join(f"v{v}" for v in r["versions"]), r["description"]]
                               for r in rows]))


@command.command("show")
@click.argument("event_type", metavar="TYPE", type=TEXT)
@click.option("--version", "version", type=int, default=None, help="Schema version (default: the newest).")
@click.option("--output", is_flag=True,
              help="TYPE names a command (today, tasks_list…): show the JSON Schema of its --format json output.")
@pass_app
def show(app, event_type, version, output):
    """One event type: its fields and rules (envelope, payload, warnings).

    TYPE may also be `envelope` or `decision_packet`; with --output, a command
    whose JSON output contract to show (e.g. `msp schemas show --output today`).
    """
    from msp.engine.schema_docs import field_rows

    from ..render import console, emit_csv, emit_model, table

    result = app.workspace.schemas_show(event_type, version=version, output=output)
    if app.format == "json":
        emit_model(result)
        return
    doc = result.description
    rows = field_rows(result.model_dump(), doc["resources"])
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
    if not output and event_type not in ("envelope", "decision_packet"):
        out.print("Every event also has the shared envelope: msp schemas show envelope", style="dim")
