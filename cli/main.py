"""The ``msp`` command group: global options, command registry, error boundary (DESIGN §8).

Every expected failure becomes one line on stderr and its exit code: 1 input
rejected or not found, 2 usage, 3 database unreachable or misconfigured.
"""

from __future__ import annotations

import importlib
import sys

import click

from msp import __version__
from msp.engine.errors import EXIT_DATABASE, EXIT_USAGE, MspError

from . import context
from .context import AppContext
from .params import TEXT

# command name → (module in cli/commands, one-line help, an example) — shown by `msp --help`
COMMANDS = {
    "demo": ("demo", "Set up, load the example day, run the automations and show the loop.", "msp demo"),
    "ingest": ("ingest", "Load workflow events from JSONL files or stdin (-).",
               "msp ingest fixtures/trading_day.jsonl --automate"),
    "import": ("import_", "Import a backtest's trades, broker fills or TradingView alerts as workflows.",
               "msp import fills trades.csv --broker ibkr --tz America/New_York"),
    "validate": ("validate", "Check JSONL files against the schemas, without a database.",
                 "msp validate events.jsonl"),
    "schemas": ("schemas", "List event types or show one type's schema.", "msp schemas show candidate.created"),
    "rejects": ("rejects", "List, show or retry quarantined input lines.", "msp rejects list"),
    "automate": ("automate", "Apply the automations to new events (once, or --every N seconds).",
                 "msp automate --every 60"),
    "alerts": ("alerts", "List smart alerts, or trigger one at a price.", "msp alerts list --status active"),
    "journal": ("journal", "List and show journal entries; draft one from a triggered alert.",
                "msp journal list --status open"),
    "today": ("today", "Today's loop: counts, conversion and the last coach insight.",
              "msp today --tz America/New_York"),
    "conversion": ("conversion", "Loop conversion rates, as window ratios or per-workflow cohorts.",
                   "msp conversion --days 30 --cohort"),
    "presence": ("presence", "Market state, volatility, risk load and where to look now.", "msp presence --top 5"),
    "tasks": ("tasks", "The coach action queue: list, accept or reject tasks.", "msp tasks list"),
    "state": ("state", "Show or set the operator state.", "msp state set --timezone America/New_York"),
    "trace": ("trace", "Show a workflow's event chain as a tree.", "msp trace wf-2026-11-20-nvda-0935"),
    "archive": ("archive", "Move finished workflows before a date to a compressed file, out of the hot tables.",
                "msp archive --before 2026-01-01 --dry-run"),
    "operator": ("operator", "The whole operator surface on one screen (--watch to refresh).",
                 "msp operator --watch 5"),
    "migrate": ("migrate", "Apply database migrations, --check them (CI), show --status or a --dry-run.",
                "msp migrate --status"),
    "review": ("review", "The weekly/monthly review: metrics, charts, edge, leak, accepted rules.",
               "msp review --week 2026-11-20"),
    "doctor": ("doctor", "Show the database, server version, workspace and migration level in use.", "msp doctor"),
    "server": ("server", "Show or stop msp's own embedded PostgreSQL server.", "msp server status"),
}

EPILOG = """\b
Examples:
  msp demo                          # everything, on the embedded database
  msp ingest fixtures/trading_day.jsonl --automate
  cat events.jsonl | msp ingest -
  msp today --tz America/New_York --format json
  msp tasks accept task_ca_1a2b3c_1
"""


class PipeClosed(Exception):
    """The reader of stdout went away (``msp demo | head -1``).  Not an OSError, so
    click (which turns EPIPE into exit 1) lets it through to ``main``."""


class LazyGroup(click.Group):
    """Imports a command's module only when that command runs (fast --help)."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except BrokenPipeError:
            raise PipeClosed() from None

    def list_commands(self, ctx):
        return list(COMMANDS)

    def get_command(self, ctx, name):
        if name not in COMMANDS:
            return None
        module = importlib.import_module(f"msp.cli.commands.{COMMANDS[name][0]}")
        return module.command

    def format_commands(self, ctx, formatter):
        rows = [(name, f"{COMMANDS[name][1]}  e.g. {COMMANDS[name][2]}") for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows, col_max=12)


@click.group(cls=LazyGroup, epilog=EPILOG, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--database-url", envvar=None, default=None, metavar="URL", type=TEXT,
              help="PostgreSQL URL [env MSP_DATABASE_URL, DATABASE_URL; default: embedded server].")
@click.option("--workspace", default=None, metavar="NAME", type=TEXT, help="Workspace [env MSP_WORKSPACE; default: default].")
@click.option("--tz", default=None, metavar="ZONE", type=TEXT, help="Time zone for day windows [env MSP_TZ].")
@click.option("--format", "output_format", default=None, type=click.Choice(["table", "json", "csv"]),
              help="Output format [env MSP_FORMAT; default: table].")
@click.version_option(__version__, prog_name="msp")
@click.pass_context
def cli(ctx, database_url, workspace, tz, output_format):
    """msp — a trader's operator workflow as validated events in PostgreSQL.

    observe → evaluate → execute → review: signals become candidates, passing
    candidates become plans, plans become trades, and every close feeds a coach.
    """
    from msp.engine.config import resolve_settings

    app = AppContext(resolve_settings(database_url, workspace, tz, output_format))
    ctx.obj = app
    ctx.call_on_close(app.close)


GLOBAL_OPTIONS = ("--database-url", "--workspace", "--tz", "--format")


def hoist_global_options(argv: list[str]) -> list[str]:
    """Let global options follow the command too (``msp today --format json``):
    they are moved in front of it.  Everything after ``--`` is left alone."""
    front, rest = [], []
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--":
            rest.extend(argv[i:])
            break
        name = arg.split("=", 1)[0]
        if name in GLOBAL_OPTIONS:
            if "=" in arg:
                front.append(arg)
            else:
                front.extend(argv[i:i + 2])
                i += 1
        else:
            rest.append(arg)
        i += 1
    return front + rest


def _driver_errors() -> tuple:
    """The driver's connection-level errors (imported only when an error reaches us)."""
    import psycopg

    return psycopg.OperationalError, psycopg.InterfaceError


def _server_errors() -> tuple:
    """Any other error the server reported (a schema that does not match, say)."""
    import psycopg

    return (psycopg.DatabaseError,)


def _one_line(exc: "click.ClickException") -> str:
    """click's message on one line (its usage block dropped), naming the help to read."""
    message = " ".join(exc.format_message().split()).rstrip(".")
    message = message[:1].lower() + message[1:]
    ctx = getattr(exc, "ctx", None)
    if isinstance(exc, click.UsageError) and ctx is not None:
        message += f" (see {ctx.command_path} --help)"
    return message


def main(argv=None) -> None:
    """Entry point: run the group, turning expected failures into one line + exit code."""
    try:
        args = hoist_global_options(list(sys.argv[1:] if argv is None else argv))
        code = cli.main(args=args, prog_name="msp", standalone_mode=False)
        sys.stdout.flush()  # here, so a reader gone by now is a closed pipe like any other
        sys.exit(code if isinstance(code, int) else 0)
    except SystemExit as exit_:
        _flush_or_pipe_closed(exit_)
        raise  # before the clauses below: evaluating them imports the driver (190 ms of `msp --help`)
    except (PipeClosed, BrokenPipeError):
        _pipe_closed()
    except click.exceptions.Abort:
        click.echo("msp: interrupted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        click.echo(f"msp: error: {_one_line(exc)}", err=True)
        sys.exit(EXIT_USAGE if isinstance(exc, click.UsageError) else exc.exit_code)
    except MspError as exc:
        click.echo(f"msp: error: {exc.message}", err=True)
        sys.exit(exc.exit_code)
    except _driver_errors() as exc:
        from msp.engine.db import database_error

        error = database_error(exc, context.last_database_url())
        click.echo(f"msp: error: {error.message}", err=True)
        sys.exit(EXIT_DATABASE)
    except _server_errors() as exc:
        from msp.engine.db import describe_target

        lines = (exc.diag.message_primary or str(exc)).splitlines()
        reason = lines[0] if lines else type(exc).__name__
        code = f" (SQLSTATE {exc.sqlstate})" if exc.sqlstate else ""
        click.echo(f"msp: error: {describe_target(context.last_database_url())} refused a statement: "
                   f"{reason}{code}; `msp doctor` shows the server and migration level in use", err=True)
        sys.exit(EXIT_DATABASE)
    except KeyboardInterrupt:
        click.echo("msp: interrupted", err=True)
        sys.exit(130)


EXIT_PIPE_CLOSED = 128 + 13  # killed by SIGPIPE, as the shell reports it: `cmd | head -1` stays quiet


def _pipe_closed() -> None:
    """The reader of stdout is gone: exit 141, silently.  stdout is pointed at
    /dev/null first, so the interpreter's last flush cannot complain either."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass
    sys.exit(EXIT_PIPE_CLOSED)


def _flush_or_pipe_closed(exit_: SystemExit) -> None:
    """A command that ends with sys.exit (ingest's exit 1, say) still flushes what it printed."""
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        _pipe_closed()
    except (OSError, ValueError, AttributeError):
        pass
