"""The operator surface as one rich renderable (``msp operator``).

It is assembled from the report views — the same panels ``msp today`` and
``msp presence`` print — so the surface and the reports never disagree.
"""

from __future__ import annotations

from rich.console import Group
from rich.table import Table

from msp.engine.reports.rates import count_stages

from .render import panel, rich_text
from .views import conversion_bars, counts_strip, insight_panel, presence_view, tasks_view

EMPTY_HELP = ("Nothing here yet for this workspace and day.\n\n"
              "  msp demo                                   load an example trading day and see everything\n"
              "  msp ingest FILE.jsonl --automate           load your own events (see fixtures/README.md)\n"
              "  msp state set --timezone America/New_York  so the day matches your wall clock")


def sources_table(rows: list[dict]):
    table = Table(title=rich_text("Signal sources"), title_justify="left")
    for column in ("source", "signal type", "signals", "pass", "watch", "fail", "plans"):
        table.add_column(column, justify="right" if column not in ("source", "signal type") else "left")
    for r in rows:
        table.add_row(rich_text(r["source"]), rich_text(r["signal_type"] or "—"),
                      *[rich_text(r[k]) for k in ("signals", "passed", "watched", "failed", "plans")])
    return table


def operator_view(view: dict):
    from msp.engine.reports.operator import is_empty

    day = view["today"]
    header = rich_text(f"msp operator — {day['date']} ({day['tz']})", style="bold")
    if is_empty(view):
        return Group(header, panel(rich_text(EMPTY_HELP), "Getting started"))
    queue = view["coach_queue"]
    parts = [
        header,
        panel(counts_strip(day["counts"]), "Today's workflow"),
        panel(conversion_bars(day["conversion"], count_stages(day["counts"])), "Loop conversion"),
        insight_panel(day["last_coach_insight"]),
        tasks_view(queue, title=f"Coach action queue ({view['presence']['pending_tasks']} pending)", commands=True)
        if queue else panel(rich_text("No pending tasks.", style="dim"), "Coach action queue"),
        presence_view(view["presence"]),
    ]
    if view["sources"]:
        parts.append(sources_table(view["sources"]))
    return Group(*parts)
