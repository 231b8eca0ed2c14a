"""``msp demo`` — migrate, load the example trading day, automate, and show the loop."""

from __future__ import annotations

import click

from ..context import pass_app


@click.command("demo")
@pass_app
def command(app):
    """Set everything up on the embedded database (or --database-url), load the
    bundled example week and trading day, run the automations and show today,
    presence and the coach queue. Safe to re-run.

    \b
    Example:
      msp demo
      msp demo --workspace demo --format json
    """
    from msp.engine.demo import DEMO_DATE

    from ..render import console, emit_model, refuse_csv
    from ..views import presence_view, tasks_view, today_view

    refuse_csv(app.format, "demo", "it shows several reports; msp today, presence and tasks list each give CSV")
    ws = app.workspace
    demo = ws.demo()
    if app.format == "json":
        emit_model(demo)
        return
    result = demo.model_dump()
    out = console()
    ingest, automate = result["ingest"], result["automate"]
    out.print(f"msp demo — workspace {ws.name}, example day {DEMO_DATE}", style="bold")
    out.print(f"ingested {ingest['ingested']} new events ({ingest['duplicates']} already there, "
              f"{ingest['rejected']} rejected); automations: {automate['auto_plans_created']} plans, "
              f"{automate['auto_alerts_created']} alerts, {automate['auto_journal_drafts_created']} journal drafts, "
              f"{automate['auto_coach_analyses_generated']} coach analyses, "
              f"{automate['auto_coach_action_tasks_created']} tasks")
    out.print(today_view(result["today"]))
    out.print(presence_view(result["presence"]))
    out.print(tasks_view(result["tasks"], commands=True) if result["tasks"] else "No pending tasks.")
    out.print("Next: msp trace <workflow_id>, msp tasks accept <task_id>, msp --help", style="dim")
