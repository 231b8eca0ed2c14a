"""Rendering: rich on a terminal, plain text / CSV / JSON for pipes.

Commands build plain data (dicts and lists) in the engine and hand it here.
JSON goes to stdout as one document; CSV has a header row; tables use rich,
which drops colour and styling by itself when stdout is not a terminal.
Strings from the database are shown as text, never as markup.
"""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import sys
from typing import Any, Iterable, Sequence

import click

from msp.engine.text import visible_text


def _default(value: Any):
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    raise TypeError(f"cannot serialise {type(value).__name__}")


def to_json(data: Any) -> str:
    import orjson

    return orjson.dumps(data, default=_default, option=orjson.OPT_INDENT_2).decode()


def emit_json(data: Any) -> None:
    click.echo(to_json(data))


def emit_csv(columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    import io

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([safe_text(v) for v in row])  # JSON is the channel for exact strings
    click.echo(buffer.getvalue(), nl=False)


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}" if abs(value) >= 1e15 else f"{round(value, 2):g}"
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    return str(value)


def cell(value: Any) -> str:
    """A value as table text."""
    return "" if value is None else _cell(value)


PIPE_WIDTH = 120  # columns used when the output is not a terminal (and COLUMNS is unset)


def console(stderr: bool = False):
    """A rich console: colour on a terminal, plain text (no escape codes) on a pipe."""
    import os

    from rich.console import Console

    stream = sys.stderr if stderr else sys.stdout
    width = None if stream.isatty() or os.environ.get("COLUMNS") else PIPE_WIDTH
    return Console(file=stream, highlight=False, soft_wrap=False, width=width)


def table(title: str | None, columns: Sequence[str], rows: Iterable[Sequence[Any]], **kwargs):
    """A rich Table of plain-text cells (no markup is interpreted)."""
    from rich.table import Table
    from rich.text import Text

    t = Table(title=title, title_justify="left", **kwargs)
    for column in columns:
        t.add_column(column)
    for row in rows:
        t.add_row(*[v if hasattr(v, "__rich_console__") else Text(safe_text(v)) for v in row])
    return t


def safe_text(value: Any) -> str:
    """Text with control characters (terminal escapes) made visible and harmless."""
    return visible_text(cell(value))


def issue_printer(kind: str = ""):
    """A callback printing a located line issue as ``FILE:LINE: [kind: ]path: message`` on stderr."""
    err = click.get_text_stream("stderr")
    label = f"{kind}: " if kind else ""

    def _print(issue) -> None:
        err.write(f"{safe_text(issue.source)}:{issue.line}: {label}{safe_text(issue.path or '(root)')}: "
                  f"{safe_text(issue.message)}\n")

    return _print


def emit_counts(fmt: str, counts: dict, *, plain: bool = True) -> None:
    """A flat dict of counters as JSON, CSV (header + one row) or ``key value, …`` text."""
    if fmt == "json":
        emit_json(counts)
    elif fmt == "csv":
        emit_csv(list(counts), [list(counts.values())])
    elif plain:
        click.echo(", ".join(f"{k} {v}" for k, v in counts.items()))


def render_rows(fmt: str, title: str, columns: Sequence[str], rows: list[dict], empty: str = "Nothing to show.") -> None:
    """A list of records as a table, CSV or JSON (JSON keeps every field)."""
    if fmt == "json":
        emit_json(rows)
    elif fmt == "csv":
        emit_csv(columns, ([row.get(c) for c in columns] for row in rows))
    elif not rows:
        console().print(empty, markup=False)
    else:
        console().print(table(title, columns, ([safe_text(row.get(c)) for c in columns] for row in rows)))


def render_record(fmt: str, title: str, record: dict) -> None:
    """One record as field/value rows; a list of dicts becomes a table of its own."""
    if fmt == "json":
        emit_json(record)
        return
    nested = {k: v for k, v in record.items() if isinstance(v, list) and v and isinstance(v[0], dict)}
    items = [(k, " ".join(map(cell, v)) if isinstance(v, list)
              else ", ".join(f"{sub}: {cell(x)}" for sub, x in v.items()) if isinstance(v, dict) else v)
             for k, v in record.items() if k not in nested]
    if fmt == "csv":
        emit_csv(["field", "value"], items)
        return
    out = console()
    out.print(table(title, ["field", "value"], [(k, safe_text(v)) for k, v in items]))
    for key, value in nested.items():
        columns = list(value[0].keys())
        out.print(table(key, columns, ([safe_text(item.get(c)) for c in columns] for item in value)))
