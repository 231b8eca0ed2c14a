"""The operator surface as one rich renderable (``msp operator``).

It is assembled from the report views — the same panels ``msp today`` and
``msp presence`` print — so the surface and the reports never disagree.
"""

from __future__ import annotations

from rich.console import Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from .views import conversion_bars, counts_strip, insight_panel, presence_view, tasks_view

EMPTY_HELP = ("Nothing here yet for this workspace and day.\n\n"
              "  msp demo                                   load an example trading day and see everything\n"
              "  msp ingest FILE.jsonl --automate           load your own events (see fixtures/README.md)\n"
              "  msp state set --timezone America/New_York  so the day matches your wall clock")


def sources_table(rows: list[dict]):
    table = Table(title="Signal sources", title_justify="left")
    for column in ("source", "signal type", "signals", "pass", "watch", "fail", "plans"):
        table.add_column(column, justify="right" if column not in ("source", "signal type") else "left")
    for r in rows:
        table.add_row(Text(r["source"]), Text(r["signal_type"] or "—"), str(r["signals"]), str(r["passed"]),
                      str(r["watched"]), str(r["failed"]), str(r["plans"]))
    return table


def operator_view(view: dict):
    from msp.engine.reports.operator import is_empty

    day = view["today"]
    header = Text(f"msp operator — {day['date']} ({day['tz']})", style="bold")
    if is_empty(view):
        return Group(header, Panel(Text(EMPTY_HELP), title="Getting started", title_align="left"))
    queue = view["coach_queue"]
    parts = [
        header,
        Panel(counts_strip(day["counts"]), title="Today's workflow", title_align="left"),
        Panel(conversion_bars(day["conversion"]), title="Loop conversion", title_align="left"),
        insight_panel(day["last_coach_insight"]),
        tasks_view(queue, title=f"Coach action queue ({view['presence']['pending_tasks']} pending)", commands=True)
        if queue else Panel(Text("No pending tasks.", style="dim"), title="Coach action queue", title_align="left"),
        presence_view(view["presence"]),
    ]
    if view["sources"]:
        parts.append(sources_table(view["sources"]))
    return Group(*parts)
