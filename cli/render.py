"""Rendering: rich on a terminal, plain text / CSV / JSON for pipes.

Commands build plain data (dicts and lists) in the engine and hand it here.
JSON goes to stdout as one document; CSV has a header row.  Tables, panels and
trees are built once as rich renderables; ``Output.print`` shows them with rich
on a terminal and, in a pipe, as plain aligned text (``tabulate``) holding every
value whole.  Every string from data reaches a table, panel or CSV cell through
``safe_text`` (control characters made visible), and is never read as markup.
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


def to_json_line(data: Any) -> str:
    """One compact JSON document on one line (JSON Lines, for streams)."""
    import orjson

    return orjson.dumps(data, default=_default).decode()


def emit_json(data: Any) -> None:
    click.echo(to_json(data))


def emit_model(result: Any) -> None:
    """A result of the Python API as ``--format json`` prints it: a pydantic model's
    ``model_dump(mode="json")`` (plain data, from commands not yet on models, as it is)."""
    emit_json(result.model_dump(mode="json") if hasattr(result, "model_dump") else result)


def plain_data(result: Any) -> Any:
    """A result of the API as plain Python data (dicts, lists) for tables and CSV."""
    return result.model_dump() if hasattr(result, "model_dump") else result


def emit_csv(columns: Sequence[str], rows: Iterable[Sequence[Any]], header: bool = True) -> None:
    """A header row (unless ``header=False``: more rows of a stream) and the rows, each cell escaped."""
    import io

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    if header:
        writer.writerow(columns)
    for row in rows:
        writer.writerow([csv_cell(v) for v in row])
    click.echo(buffer.getvalue(), nl=False)


def csv_cell(value: Any) -> str:
    """A CSV cell: numbers exact (0.0 stays 0.0, 57.14 is not rounded), text
    escaped by ``safe_text`` (JSON is the channel for exact strings)."""
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, decimal.Decimal):
        return str(value)
    return safe_text(value)


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}" if abs(value) >= 1e15 else f"{round(value, 2):g}"
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    return str(value)


def cell(value: Any) -> str:
    """A value as table text."""
    return "" if value is None else _cell(value)


def is_terminal(stream=None) -> bool:
    """Whether output goes to a terminal (rich) rather than a pipe or file (plain text)."""
    stream = stream if stream is not None else sys.stdout
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # a closed or odd stream is no terminal
        return False


PIPE_UNLIMITED_WIDTH = 1_000_000  # Output.width in a pipe


class Output:
    """Where a command prints.  On a terminal: rich (colour, boxes, wrapped to the
    window).  In a pipe or file: plain aligned text, every value whole — no box
    drawing, no cut at a width, no "…" — tables laid out by ``tabulate``.
    Markup is never interpreted: strings from data print as they are (escaped)."""

    def __init__(self, stream=None):
        self.stream = stream if stream is not None else sys.stdout
        self.terminal = is_terminal(self.stream)
        self._rich = None
        self._printed = self._after_block = False

    @property
    def rich(self):
        """The rich console of a terminal (for live displays)."""
        if self._rich is None:
            from rich.console import Console

            self._rich = Console(file=self.stream, highlight=False, soft_wrap=False)
        return self._rich

    @property
    def width(self) -> int:
        """Columns to lay out for: the terminal's; in a pipe there is no width to fit,
        so views that drop columns to fit a window keep them all."""
        return self.rich.width if self.terminal else PIPE_UNLIMITED_WIDTH

    def print(self, renderable: Any = "", *, style: str | None = None) -> None:
        if self.terminal:
            self.rich.print(rich_text(renderable) if isinstance(renderable, str) else renderable, style=style)
            return
        from rich.text import Text

        block = not isinstance(renderable, (str, Text))  # a table, panel, group or tree
        if self._printed and (block or self._after_block):
            self.stream.write("\n")  # a blank line around each block, as the boxes separate them on a terminal
        self.stream.write(plain_text(renderable) + "\n")
        self._printed, self._after_block = True, block


def reader_gone(stream=None) -> bool:
    """Whether the reading end of a pipe on ``stream`` has closed (``| head -1``
    is done) — known without writing, so a stream with nothing to say can stop."""
    import select

    stream = stream if stream is not None else sys.stdout
    try:
        poller = select.poll()
        poller.register(stream.fileno(), select.POLLOUT)
        return any(events & (select.POLLERR | select.POLLHUP) for _, events in poller.poll(0))
    except (AttributeError, OSError, ValueError):  # no file descriptor (a test's buffer), or no poll
        return False


def console(stderr: bool = False) -> Output:
    """The output of a command: stdout (or stderr), rich on a terminal, plain in a pipe."""
    return Output(sys.stderr if stderr else sys.stdout)


def rich_text(value: Any, style: str = ""):
    """A rich Text of a value, escaped by ``safe_text`` (never markup)."""
    from rich.text import Text

    return Text(safe_text(value), style=style)


def plain_text(renderable: Any) -> str:
    """A rich renderable (text, table, panel, group, tree) as plain lines for a pipe."""
    return "\n".join(line.rstrip() for line in _plain_lines(renderable)).rstrip("\n")


def _plain_lines(obj: Any) -> list[str]:
    from rich.console import Group
    from rich.padding import Padding
    from rich.panel import Panel
    from rich.table import Table
    from rich.text import Text
    from rich.tree import Tree

    if obj is None:
        return []
    if hasattr(obj, "__plain__"):  # a renderable that lays itself out for a terminal says what a pipe gets
        return _plain_lines(obj.__plain__())
    if isinstance(obj, Text):
        return obj.plain.split("\n")
    if isinstance(obj, str):
        return safe_text(obj).split("\n")
    if isinstance(obj, Table):
        return _plain_table(obj)
    if isinstance(obj, Panel):
        title = [_plain_cell(obj.title)] if obj.title else []
        return title + _plain_lines(obj.renderable) + [""]
    if isinstance(obj, Group):
        return [line for part in obj.renderables for line in _plain_lines(part)]
    if isinstance(obj, Padding):
        return _plain_lines(obj.renderable)
    if isinstance(obj, Tree):
        return _plain_tree(obj)
    raise TypeError(f"no plain form for {type(obj).__name__}")  # a new view must say how it reads in a pipe


def _plain_cell(value: Any) -> str:
    from rich.text import Text

    if isinstance(value, Text):
        return value.plain
    if isinstance(value, str):
        return safe_text(value)
    return "\n".join(_plain_lines(value))


def _plain_table(t) -> list[str]:
    from tabulate import tabulate

    columns = t.columns
    rows = list(zip(*[[_plain_cell(c) for c in column.cells] for column in columns]))
    headers = [_plain_cell(column.header) for column in columns] if t.show_header else ()
    body = tabulate(rows, headers=headers, tablefmt="plain", disable_numparse=True,
                    colalign=["right" if column.justify == "right" else "left" for column in columns])
    title = [_plain_cell(t.title)] if t.title else []
    return title + (body.split("\n") if body else []) + ([""] if title else [])


def _plain_tree(tree, depth: int = 0) -> list[str]:
    lines = [("  " * depth) + line for line in _plain_cell(tree.label).split("\n")]
    for child in tree.children:
        lines += _plain_tree(child, depth + 1)
    return lines


def panel(body: Any, title: Any):
    """A rich Panel with an escaped title (a str title would be read as markup)."""
    from rich.panel import Panel

    return Panel(body, title=title if hasattr(title, "__rich_console__") else rich_text(title), title_align="left")


def table(title: str | None, columns: Sequence[str], rows: Iterable[Sequence[Any]], **kwargs):
    """A rich Table of escaped plain-text cells (no markup is interpreted)."""
    from rich.table import Table

    t = Table(title=rich_text(title) if title else None, title_justify="left", **kwargs)
    for column in columns:
        t.add_column(column)
    for row in rows:
        t.add_row(*[v if hasattr(v, "__rich_console__") else rich_text(v) for v in row])
    return t


def safe_text(value: Any) -> str:
    """Text with control characters (terminal escapes) made visible and harmless."""
    return visible_text(cell(value))


def issue_printer(kind: str = "", live=None):
    """A callback printing a located line issue as ``FILE:LINE: [kind: ]path: message`` on stderr.

    ``live`` is the rich console of a progress bar on stderr: the line is printed
    through it, above the bar, rather than glued to the bar's last frame."""
    label = f"{kind}: " if kind else ""

    def _print(issue) -> None:
        line = (f"{safe_text(issue.source)}:{issue.line}: {label}{safe_text(issue.path or '(root)')}: "
                f"{safe_text(issue.message)}").replace("\n", "\\n")  # one line an issue, whatever the input held
        if live is not None:
            live.print(line, markup=False, highlight=False, soft_wrap=True)
        else:
            sys.stderr.write(line + "\n")
            sys.stderr.flush()  # in order with anything else on stderr, and seen at once

    return _print


def flat_record(record: dict, prefix: str = "") -> dict:
    """A record with nested records flattened to dotted keys (``journal.journal_id``), for one CSV row."""
    flat: dict = {}
    for key, value in record.items():
        if isinstance(value, dict):
            flat.update(flat_record(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = " ".join(map(cell, value)) if isinstance(value, list) else value
    return flat


def emit_result(fmt: str, record: Any, text: str) -> None:
    """The result of an action (a result model of the API, or a dict): the record
    as JSON, or as CSV (a header and one row, nested records flattened), or a
    sentence for people."""
    if fmt == "json":
        emit_model(record)
    elif fmt == "csv":
        flat = flat_record(plain_data(record))
        emit_csv(list(flat), [list(flat.values())])
    else:
        click.echo(text)


def refuse_csv(fmt: str, command: str, why: str) -> None:
    """Usage error (exit 2) for ``--format csv`` where the output is neither a table nor a record."""
    if fmt == "csv":
        from msp.engine.errors import UsageError

        raise UsageError(f"--format csv does not apply to msp {command} ({why}); use --format json or table")


def emit_counts(fmt: str, result: Any, *, plain: bool = True) -> None:
    """A result of flat counters as JSON, CSV (header + one row) or ``key value, …`` text."""
    if fmt == "json":
        emit_model(result)
        return
    counts = plain_data(result)
    if fmt == "csv":
        emit_csv(list(counts), [list(counts.values())])
    elif plain:
        click.echo(", ".join(f"{k} {v}" for k, v in counts.items()))


def render_rows(fmt: str, title: str, columns: Sequence[str], result, empty: str = "Nothing to show.") -> None:
    """A list result of the API as a table, CSV or JSON (JSON keeps every field)."""
    if fmt == "json":
        emit_model(result)
        return
    rows = plain_data(result)
    if fmt == "csv":
        emit_csv(columns, ([row.get(c) for c in columns] for row in rows))
    elif not rows:
        console().print(empty)
    else:
        console().print(table(title, columns, ([safe_text(row.get(c)) for c in columns] for row in rows)))


def render_record(fmt: str, title: str, result) -> None:
    """One result of the API as field/value rows; a list of dicts becomes a table of its own."""
    if fmt == "json":
        emit_model(result)
        return
    record = plain_data(result)
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
