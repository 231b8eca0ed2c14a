"""Views of the operator reports: rich renderables for a terminal, rows for CSV.

Each report has a ``*_panel`` (a rich renderable, reused by ``msp operator``)
and a ``render_*`` that prints it in the chosen format.  Text from the
database goes through ``safe_text`` (``rich_text``, ``table``, ``panel``) —
never rich markup — so stored strings cannot restyle or escape the terminal.
``render.Output`` prints the same renderables as plain text in a pipe; a
renderable that lays itself out for a terminal says what a pipe gets
(``__plain__``).
"""

from __future__ import annotations

from typing import Any

from msp.engine.reports.rates import count_stages

from .render import cell, console, emit_csv, emit_model, panel, plain_data, rich_text, safe_text, table

STATE_STYLE = {"risk_on": "bold green", "risk_off": "bold red", "balanced": "yellow", "neutral": "dim",
               "expansion": "bold magenta", "compression": "cyan", "normal": "white"}
PRIORITY_STYLE = {"high": "bold red", "medium": "yellow", "low": "dim"}
COUNT_LABELS = [("signals", "Signals"), ("candidates", "Candidates"), ("plans", "Plans"),
                ("executions", "Executions"), ("closed", "Closed"), ("coach_analyses", "Coach"),
                ("tasks_suggested", "Tasks suggested"), ("tasks_accepted", "Accepted"),
                ("tasks_rejected", "Rejected"), ("auto_alerts", "Auto alerts"),
                ("auto_journal_drafts", "Journal drafts"), ("coach_journal_updates", "Coach notes")]


_text = rich_text


def fmt_number(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:,.2f}"
    return str(value)


# -- today ---------------------------------------------------------------------

class CountsStrip:
    """Two rows of counters — the loop itself, then the follow-up work it triggered —
    stacked into more rows when the window is too narrow for a row, so no label is
    ever cut.  In a pipe (``__plain__``) each row is whole, whatever the width."""

    def __init__(self, counts: dict):
        self.groups = [[(label, counts[k]) for k, label in labels if k in counts]
                       for labels in (COUNT_LABELS[:6], COUNT_LABELS[6:])]

    @staticmethod
    def _strip(cells):
        from rich.table import Table

        strip = Table(box=None, show_header=True, header_style="bold", pad_edge=False, expand=False)
        for label, _ in cells:
            strip.add_column(label, justify="right", min_width=8, no_wrap=True)
        strip.add_row(*[_text(value, "bold cyan" if value else "dim") for _, value in cells])
        return strip

    def _rows(self, width: int | None):
        for cells in self.groups:
            row, used = [], 0
            for label, value in cells:
                need = max(len(label), len(str(value)), 8) + (2 if row else 0)  # a column and its gap
                if row and width is not None and used + need > width:
                    yield self._strip(row)
                    row, used = [], 0
                    need -= 2
                row.append((label, value))
                used += need
            if row:
                yield self._strip(row)

    def __plain__(self):
        from rich.console import Group

        return Group(*self._rows(None))

    def __rich_console__(self, console, options):
        yield from self._rows(options.max_width)


def counts_strip(counts: dict) -> CountsStrip:
    return CountsStrip(counts)


def rate_cell(pct: float, stage: dict | None) -> str:
    """A rate as table text: ``n/a`` when it had nothing to divide (JSON and CSV keep 0.0)."""
    return "n/a" if stage is not None and not stage["reached"] else f"{pct:.1f}%"


class ConversionGrid:
    """The six rates: name, bar, percent and converted/reached.  On a terminal the
    bars take what width is left (24 cells at most, none below 8) so nothing is
    cut; in a pipe (``__plain__``) the figures alone, whole."""

    BAR_MAX, BAR_MIN = 24, 8

    def __init__(self, conversion: dict, stages: list | None = None):
        by_rate = {s["rate"]: s for s in stages or []}
        self.rows = [(name, pct, rate_cell(pct, by_rate.get(name)),
                      f"{by_rate[name]['converted']}/{by_rate[name]['reached']}" if name in by_rate else "")
                     for name, pct in conversion.items()]

    def _grid(self, bar_width: int):
        from rich.table import Table

        grid = Table(box=None, show_header=False, pad_edge=False)
        grid.add_column("rate", no_wrap=True)
        if bar_width:
            grid.add_column("bar", no_wrap=True)
        grid.add_column("pct", justify="right", no_wrap=True)
        grid.add_column("of", style="dim", justify="right", no_wrap=True)
        for name, pct, shown, of in self.rows:
            cells = [_text(name)]
            if bar_width:
                filled = int(round(min(pct, 100.0) / 100 * bar_width))
                bar = _text("█" * filled, "green" if pct >= 50 else "yellow" if pct >= 20 else "red")
                bar.append("░" * (bar_width - filled), style="dim")
                cells.append(bar)
            grid.add_row(*cells, _text(shown), _text(of))
        return grid

    def __plain__(self):
        return self._grid(0)

    def __rich_console__(self, console, options):
        widths = [max((len(row[i]) for row in self.rows), default=0) for i in (0, 2, 3)]
        room = options.max_width - sum(widths) - 2 * len(widths)  # the bar column and its gap
        yield self._grid(min(self.BAR_MAX, room) if room >= self.BAR_MIN else 0)

    def __rich_measure__(self, console, options):
        from rich.measure import Measurement

        widths = [max((len(row[i]) for row in self.rows), default=0) for i in (0, 2, 3)]
        least = sum(widths) + 2 * (len(widths) - 1)
        return Measurement(least, least + 2 + self.BAR_MAX).with_maximum(options.max_width)


def conversion_bars(conversion: dict, stages: list | None = None) -> ConversionGrid:
    return ConversionGrid(conversion, stages)


def insight_panel(insight: dict | None):
    from rich.table import Table

    if insight is None:
        return panel(_text("No coach analysis yet today. Close a trade and run `msp automate`.", "dim"),
                     "Last coach insight")
    body = Table.grid(padding=(0, 2))
    body.add_column()
    body.add_column()
    body.add_row("analysis", _text(f"{insight['analysis_id']} ({insight.get('symbol') or '—'})"))
    body.add_row("sample", _text(insight["sample_size"]))
    body.add_row("win rate", _text(f"{fmt_number(insight['win_rate'])}%"))
    body.add_row("avg win / loss", _text(f"{fmt_number(insight['avg_win'])} / {fmt_number(insight['avg_loss'])}"))
    expectancy = insight["expectancy"] or 0
    body.add_row("expectancy", _text(fmt_number(insight["expectancy"]), "green" if expectancy > 0 else "red"))
    for rec in insight["recommendations"]:
        line = _text(f"[{rec['priority']}] ", PRIORITY_STYLE.get(rec["priority"], ""))
        line.append(safe_text(f"{rec['action']}: {rec['detail']}"))
        body.add_row("", line)
    return panel(body, "Last coach insight")


def today_view(report: dict):
    from rich.console import Group

    return Group(
        panel(counts_strip(report["counts"]), f"Today's workflow — {report['date']} ({report['tz']})"),
        panel(conversion_bars(report["conversion"], count_stages(report["counts"])), "Loop conversion"),
        insight_panel(report["last_coach_insight"]),
    )


def render_today(fmt: str, report) -> None:
    """``today``'s result as JSON (its ``model_dump(mode="json")``), CSV or a rich view."""
    if fmt == "json":
        emit_model(report)
        return
    report = plain_data(report)
    if fmt == "csv":
        rows = [("counts", k, v) for k, v in report["counts"].items()]
        rows += [("conversion", k, v) for k, v in report["conversion"].items()]
        insight = report["last_coach_insight"] or {}
        rows += [("last_coach_insight", k, v) for k, v in insight.items() if k != "recommendations"]
        emit_csv(["section", "key", "value"], rows)
    else:
        console().print(today_view(report))


# -- conversion ------------------------------------------------------------------

def render_conversion(fmt: str, report) -> None:
    """``conversion``'s result as JSON (its ``model_dump(mode="json")``), CSV or a rich view."""
    if fmt == "json":
        emit_model(report)
        return
    report = plain_data(report)
    if fmt == "csv":
        emit_csv(["rate", "percent", "converted", "reached"],
                 [(s["rate"], report["conversion"][s["rate"]], s["converted"], s["reached"]) for s in report["stages"]])
    else:
        mode = "per-workflow cohorts" if report["mode"] == "cohort" else "count ratios"
        title = f"Loop conversion, {report['from']} → {report['to']} ({report['tz']}, {mode})"
        console().print(panel(conversion_bars(report["conversion"], report["stages"]), title))


# -- presence --------------------------------------------------------------------

def presence_view(report: dict):
    from rich.console import Group
    from rich.table import Table

    head = Table.grid(padding=(0, 2))
    for _ in range(4):
        head.add_column()
    head.add_row("market", _text(report["market_state"], STATE_STYLE.get(report["market_state"], "")),
                 "volatility", _text(report["volatility"], STATE_STYLE.get(report["volatility"], "")))
    load = report["risk_load"]
    head.add_row("risk load", _text(f"{load:g}", "red" if load >= 70 else "green" if load <= 35 else "yellow"),
                 "pending tasks", _text(report["pending_tasks"], "bold yellow" if report["pending_tasks"] else "dim"))
    parts = [head]
    if report["top_attention"]:
        parts.append(table("Top attention", ["symbol", "confidence", "hits", "last seen"],
                           [[r["symbol"], r["confidence"], r["hits"], r["last_seen"]] for r in report["top_attention"]]))
    actions = table("Suggested actions", ["action", "run", "why"],
                    [[a["label"], _text(a["command"], "bold"), a["reason"]] for a in report["suggested_actions"]])
    parts.append(actions)
    return panel(Group(*parts), "Operator presence")


def render_presence(fmt: str, report) -> None:
    """``presence``'s result as JSON (its ``model_dump(mode="json")``), CSV or a rich view."""
    if fmt == "json":
        emit_model(report)
        return
    report = plain_data(report)
    if fmt == "csv":
        rows = [("presence", k, report[k]) for k in ("market_state", "volatility", "risk_load", "pending_tasks")]
        rows += [("top_attention", r["symbol"], f"{r['confidence']}|{r['hits']}|{r['last_seen']}")
                 for r in report["top_attention"]]
        rows += [("suggested_action", a["label"], a["command"]) for a in report["suggested_actions"]]
        emit_csv(["section", "key", "value"], rows)
    else:
        console().print(presence_view(report))


# -- tasks -----------------------------------------------------------------------

TASK_COLUMNS = ["task_id", "status", "priority", "action", "symbol", "detail", "occurred_at", "decided_at"]


def tasks_view(tasks: list[dict], title: str = "Coach action queue", commands: bool = False):
    from rich.table import Table

    t = Table(title=_text(title), title_justify="left")
    if commands:  # the queue as a to-do list: what to do and the exact command to decide it
        for column in ("priority", "action", "symbol", "decide with"):
            t.add_column(column, no_wrap=column == "decide with")
        for task in tasks:
            t.add_row(_text(task["priority"], PRIORITY_STYLE.get(task["priority"], "")), _text(task["action"]),
                      _text(task.get("symbol")), _text(f"msp tasks accept|reject {task['task_id']}", "bold"))
        return t
    for column in ("task_id", "priority", "action", "symbol", "status", "detail"):
        t.add_column(column, no_wrap=column == "task_id")
    for task in tasks:
        t.add_row(_text(task["task_id"]), _text(task["priority"], PRIORITY_STYLE.get(task["priority"], "")),
                  _text(task["action"]), _text(task.get("symbol")),
                  _text(task["status"], "bold yellow" if task["status"] == "pending" else "dim"),
                  _text(task["detail"]))
    return t


NO_TASKS_YET = "The coach suggests tasks after trades close (msp automate)."


def empty_queue_message(status: str, pending: int) -> str:
    """What an empty `msp tasks list --status STATUS` says, given the pending count."""
    if status == "pending" or pending == 0:
        return f"No {'' if status == 'all' else status + ' '}tasks. {NO_TASKS_YET}"
    return f"No {'' if status == 'all' else status + ' '}tasks ({pending} pending: msp tasks list)."


def render_tasks(fmt: str, tasks, empty: str = f"No tasks. {NO_TASKS_YET}") -> None:
    """``tasks``'s result as JSON (its ``model_dump(mode="json")``), CSV or a rich view."""
    if fmt == "json":
        emit_model(tasks)
        return
    tasks = plain_data(tasks)
    if fmt == "csv":
        emit_csv(TASK_COLUMNS, ([t.get(c) for c in TASK_COLUMNS] for t in tasks))
    elif not tasks:
        console().print(empty)
    else:
        console().print(tasks_view(tasks))


# -- trace -----------------------------------------------------------------------

def _label(node: dict):
    text = _text(node["event_type"], "bold")
    text.append(f"  {safe_text(node['event_id'])}", style="dim")
    text.append(f"  {node['occurred_at']}", style="cyan")
    if node["actor"] == "system":
        text.append("  [msp]", style="magenta")
    if node["summary"]:
        text.append(f"  {safe_text(node['summary'])}")
    return text


def trace_view(report: dict):
    from rich.tree import Tree

    title = f"workflow {report['workflow_id']} ({report['events']} events)"
    if report.get("cycle_breaks"):
        title += f" — parent links form a cycle, cut above {', '.join(report['cycle_breaks'])}"
    tree = Tree(_text(title, "bold"))

    def add(parent, node):
        branch = parent.add(_label(node))
        for child in node["children"]:
            add(branch, child)

    for root in report["roots"]:
        add(tree, root)
    for part in report.get("archived") or ():
        tree.add(_text(f"{part['events']} events archived on {cell(part['archived_at'])[:10]} "
                       f"to {part['file']}", "dim"))
    return tree


def _flatten(nodes: list[dict], depth: int = 0):
    for node in nodes:
        yield depth, node
        yield from _flatten(node["children"], depth + 1)


def render_trace(fmt: str, report) -> None:
    """``trace``'s result as JSON (its ``model_dump(mode="json")``), CSV or a rich view."""
    if fmt == "json":
        emit_model(report)
        return
    report = plain_data(report)
    if fmt == "csv":
        emit_csv(["depth", "event_id", "event_type", "occurred_at", "actor", "summary"],
                 ([d, n["event_id"], n["event_type"], n["occurred_at"], n["actor"], n["summary"]]
                  for d, n in _flatten(report["roots"])))
    else:
        console().print(trace_view(report))


__all__ = ["render_today", "render_conversion", "render_presence", "render_tasks", "render_trace", "cell"]
