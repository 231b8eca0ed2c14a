"""No traceback from any command (issue 10, item 4b).

Every command and option of ``msp --help`` — found by walking click's command
tree, so a command added later is driven too — gets hostile values: dates at
and past the ends of the calendar, huge strings, text that is not UTF-8 (as
Python hands it over from the shell) or holds a NUL, NaN, infinities,
negative and huge numbers, empty strings, unknown ids.  Each case expects its
own documented exit code — 2 for a bad option value, 1 for an unknown id or
a missing file, 3 for a database that cannot be reached — and one line on
stderr.  An option this test cannot classify by its type is a failure that
asks for its kind: a new option states what its hostile values must do.
"""

from __future__ import annotations

import click
import pytest

from support import invoke

from msp.cli.main import cli
from msp.cli.params import Day, FiniteNumber, Text

HUGE = "A" * 100_000
NOT_UTF8 = "\udcff\udcfe"  # bytes 0xff 0xfe from the shell, as Python decodes argv
NUL = "a\x00b"

# hostile value → exit code, per kind of value
KIND_CASES = {
    # a stored item named by the user: unknown → 1; text no id can hold → 2
    "id": {"no-such-id": 1, "": 1, HUGE: 1, NOT_UTF8: 2, NUL: 2},
    "file": {"/nonexistent/events.jsonl": 1, "": 1, "A" * 5000: 1, "/": 1, NOT_UTF8 + ".jsonl": 1},
    "date": {"9999-12-31": 2, "0001-01-01": 2, "0000-01-01": 2, "2026-02-30": 2, "": 2, HUGE: 2, NOT_UTF8: 2,
             NUL: 2, "nan": 2, "-1": 2},
    "timestamp": {"": 2, "nan": 2, "99999-01-01": 2, "2026-13-01": 2, HUGE: 2, NOT_UTF8: 2, NUL: 2},
    "zone": {"A" * 300: 2, HUGE: 2, "America": 2, "../../etc/passwd": 2, "/etc/localtime": 2, NOT_UTF8: 2,
             NUL: 2, "Mars/Base": 2},
    "workspace": {"A" * 300: 2, "a b": 2, NOT_UTF8: 2, NUL: 2, "x;DROP TABLE workflow_events": 2},
    "url": {"postgresql://msp@127.0.0.1:1/nowhere?connect_timeout=3": 3, "not a url": 3,
            "postgresql://[::1": 3, NOT_UTF8: 2, NUL: 2},
    # a file msp writes: one it cannot write is refused (1); text no path can hold is a usage error (2)
    "outfile": {"/nonexistent/dir/report.html": 1, "/": 1, "A" * 5000: 1, NOT_UTF8: 2, NUL: 2},
    # a name msp builds ids from (a strategy): required, any other text is kept
    "name": {HUGE: 0, "": 2, "\x1b[2J\x07": 0, NOT_UTF8: 2, NUL: 2},
    # a time of day (HH:MM), a month (YYYY-MM), a column map (FIELD=COLUMN,…; empty: the default columns):
    # anything else is a usage error
    "clock": {"": 2, HUGE: 2, "\x1b[2J\x07": 2, "25:00": 2, "9:3": 2, NOT_UTF8: 2, NUL: 2},
    "month": {"": 2, HUGE: 2, "\x1b[2J\x07": 2, "2026-13": 2, "0000-01": 2, "10000-01": 2, NOT_UTF8: 2, NUL: 2},
    "mapping": {"": None, HUGE: 2, "\x1b[2J\x07": 2, "symbol": 2, "bogus=x": 2, NOT_UTF8: 2, NUL: 2},
    # free text that is stored as given
    "text": {HUGE: 0, "": 0, "\x1b[2J\x07": 0, NOT_UTF8: 2, NUL: 2},
}

# string options and arguments by (command path, parameter name); other string
# arguments are ids.  A new string option must be added here.
STRING_KINDS = {
    ("", "database_url"): "url", ("", "workspace"): "workspace", ("", "tz"): "zone",
    ("ingest", "files"): "file", ("validate", "files"): "file",
    ("automate", "since"): "timestamp",
    ("state set", "timezone"): "zone", ("state set", "focus"): "text", ("state set", "mode"): "text",
    ("state set", "risk_environment"): "text", ("state set", "active_candidates"): "text",
    ("import backtest", "file"): "file", ("import fills", "file"): "file", ("import tradingview", "file"): "file",
    ("import backtest", "symbol"): "text", ("import backtest", "strategy"): "name",
    ("import backtest", "session_open"): "clock", ("import backtest", "session_close"): "clock",
    ("import fills", "mapping"): "mapping", ("import fills", "session_open"): "clock",
    ("import fills", "session_close"): "clock",
    ("review", "week"): "date", ("review", "month"): "month", ("review", "date_from"): "date",
    ("review", "date_to"): "date", ("review", "html_path"): "outfile",
    ("archive", "to"): "outfile",
}
# what a parameter needs beside it to be read at all
COMPANIONS = {("automate", "since"): ["--replay"], ("import fills", "mapping"): ["--broker=generic"]}
# global options are driven through these commands (the URL only where a database is opened)
GLOBAL_COMMANDS = {"url": ["doctor", "today"]}


def leaf_commands():
    def walk(command, path):
        ctx = click.Context(command)
        if isinstance(command, click.Group):
            if command.invoke_without_command and path:  # a group that runs by itself (`msp automate`)
                yield " ".join(path), command
            for name in command.list_commands(ctx):
                yield from walk(command.get_command(ctx, name), path + [name])
        else:
            yield " ".join(path), command

    return dict(walk(cli, []))


def call(path: str, command, empty_file: str, target=None, value=None) -> list[str]:
    """A call of the command: its required arguments and options filled with valid
    values, and ``target`` (if given) set to ``value``."""
    options, positionals = [], []
    for param in command.params:
        if param is target:
            given = value
        elif param.required:
            given = _valid_value(path, param, empty_file)
        else:
            continue
        if isinstance(param, click.Argument):
            positionals.append(given)
        else:
            options.append(f"{param.opts[0]}={given}")
    return path.split() + options + (["--"] + positionals if positionals else [])


def _valid_value(path, param, empty_file):
    kind = STRING_KINDS.get((path, param.name))
    if kind == "file":
        return empty_file
    if isinstance(param.type, Day):  # a required day (archive --before)
        return "2026-01-01"
    if isinstance(param.type, FiniteNumber):
        return str((param.type.low or 0) + 1)
    if isinstance(param.type, click.IntRange):
        return str(param.type.min or 1)
    if isinstance(param.type, click.Choice):
        return param.type.choices[0]
    return "1" if param.type is click.INT else "no-such-id"


def int_cases(param_type) -> dict:
    cases = {"abc": 2, "": 2, "nan": 2, "inf": 2, "1e3": 2, "1.5": 2, NOT_UTF8: 2}
    if isinstance(param_type, click.IntRange):
        if param_type.min is not None:
            cases[str(param_type.min - 1)] = 2
            cases[str(-(2**70))] = 2
        cases[str(param_type.max + 1) if param_type.max is not None else str(2**70)] = \
            2 if param_type.max is not None else None  # None: what a valid call gives
    else:  # a plain integer names something stored (a reject id, a schema version): no such thing → 1
        cases.update({str(2**70): 1, "0": 1})
    return cases


def float_cases(param_type: FiniteNumber) -> dict:
    cases = {"nan": 2, "NaN": 2, "inf": 2, "-inf": 2, "1e400": 2, "": 2, "abc": 2, NOT_UTF8: 2}
    if param_type.low is not None:
        cases[str(param_type.low - 1)] = 2
        if param_type.low_open:
            cases[str(param_type.low)] = 2
    if param_type.high is not None:
        cases[str(param_type.high + 1)] = 2
    return cases


def cases_for(path: str, param) -> dict:
    if isinstance(param.type, FiniteNumber):
        return float_cases(param.type)
    if isinstance(param.type, (click.IntRange, click.types.IntParamType)):
        return int_cases(param.type)
    if isinstance(param.type, click.Choice):
        return {"bogus": 2, "": 2, NOT_UTF8: 2, HUGE: 2}
    if isinstance(param.type, Day):
        return KIND_CASES["date"]
    if isinstance(param.type, (click.types.StringParamType, Text)):
        kind = STRING_KINDS.get((path, param.name))
        if kind is None and isinstance(param, click.Argument):
            kind = "id"
        if kind is None:
            raise AssertionError(f"classify {param.opts[0]} of `msp {path}` in STRING_KINDS "
                                 f"(one of {sorted(KIND_CASES)}) so its hostile values have an exit code")
        return KIND_CASES[kind]
    raise AssertionError(f"no hostile values for {param.opts[0]} of `msp {path}` ({param.type!r}): add them")


def all_cases(empty_file: str):
    commands = leaf_commands()
    for path, command in commands.items():
        for param in command.params:
            if getattr(param, "is_flag", False):
                continue
            for value, code in cases_for(path, param).items():
                args = call(path, command, empty_file, param, value)
                depth = len(path.split())
                args = args[:depth] + COMPANIONS.get((path, param.name), []) + args[depth:]
                yield path, param.opts[0], value, code, args
    for param in cli.params:
        if getattr(param, "is_flag", False):
            continue
        kind = STRING_KINDS.get(("", param.name))
        cases = KIND_CASES[kind] if kind else cases_for("", param)
        for path in GLOBAL_COMMANDS.get(kind, commands):
            for value, code in cases.items():
                if value == "":  # an empty global option means "not set": the default applies
                    continue
                yield path, param.opts[0], value, code, [f"{param.opts[0]}={value}"] + call(path, commands[path],
                                                                                          empty_file)


def shown(value: str) -> str:
    return repr(value if len(value) <= 20 else value[:20] + f"…({len(value)})")


@pytest.fixture(scope="module")
def empty_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("input") / "empty.jsonl"
    path.write_text("")
    return str(path)


def test_every_command_answers_hostile_values_with_one_line_and_its_exit_code(database_url, workspace,
                                                                             empty_file):
    env = {"MSP_DATABASE_URL": database_url, "MSP_WORKSPACE": workspace, "MSP_TZ": None, "MSP_FORMAT": None,
           "COLUMNS": "100"}
    base_codes = {}
    for path, command in leaf_commands().items():
        result = invoke(call(path, command, empty_file), env=env)
        assert "Traceback" not in result.stderr, (path, result.stderr)
        base_codes[path] = result.exit_code
    wrong = []
    count = 0
    for path, option, value, code, args in all_cases(empty_file):
        expected = base_codes[path] if code is None else code
        count += 1
        try:
            result = invoke(args, env=env)
        except Exception as exc:  # escaped msp's handlers: a traceback for the user
            wrong.append(f"msp {path} {option} {shown(value)}: raised {type(exc).__name__}: {str(exc)[:200]}")
            continue
        lines = result.stderr.splitlines()
        one_line = expected == 0 or (len(lines) == 1 and lines[0].startswith("msp: error: "))
        if result.exit_code != expected or not one_line or "Traceback" in result.stderr:
            wrong.append(f"msp {path} {option} {shown(value)}: exit {result.exit_code} (expected {expected}): "
                         f"{result.stderr[:300]!r}")
    assert count > 300
    assert not wrong, f"{len(wrong)} of {count} cases:\n" + "\n".join(wrong)


def test_an_unexpected_exception_is_not_swallowed_by_a_catch_all(msp, monkeypatch):
    """No handler turns every exception into one exit code: a bug surfaces as the bug."""
    import msp.engine.reports.presence as presence

    class Unexpected(Exception):
        pass

    def boom(*args, **kwargs):
        raise Unexpected("a bug")

    monkeypatch.setattr(presence, "presence", boom)
    with pytest.raises(Unexpected):
        msp("presence")
