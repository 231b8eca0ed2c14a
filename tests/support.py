"""Helpers shared by every test suite (plain functions, importable from any
test directory — conftest modules are not): scratch databases, and driving
the real CLI in-process or as a process."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import psycopg
from click.testing import CliRunner

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"


def make_database(server_url: str, name: str) -> str:
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    return swap_dbname(server_url, name)


def drop_database(server_url: str, name: str) -> None:
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def swap_dbname(url: str, name: str) -> str:
    info = psycopg.conninfo.conninfo_to_dict(url)
    info["dbname"] = name
    return psycopg.conninfo.make_conninfo(**info)


@dataclass
class Result:
    exit_code: int
    stdout: str
    stderr: str

    def json(self):
        import json

        return json.loads(self.stdout)


def invoke(args, input=None, env=None) -> Result:
    """Run ``msp ARGS`` in this process through its real entry point."""
    from msp.cli.main import main

    runner = CliRunner()
    with runner.isolation(input=input, env=env) as (out, err, *_):
        try:
            main(list(args))
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        return Result(code, out.getvalue().decode(), err.getvalue().decode())


def run_process(args, *, input=None, env=None, timeout=120) -> subprocess.CompletedProcess:
    """Run ``msp ARGS`` as a real process (exit codes, tty-less output, signals)."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run([sys.executable, "-m", "msp", *map(str, args)], input=input,
                          capture_output=True, env=full_env, timeout=timeout)


ESCAPES = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07]*\x07|\x1b[()][A-Z0-9]|\x1b[=>78]")


def run_in_terminal(args, *, columns: int = 80, rows: int = 50, env=None, timeout: float = 300,
                    program=None) -> tuple[int, str]:
    """Run ``msp ARGS`` (or ``program ARGS``) as a process whose stdout and stderr
    are a terminal (a pseudo-terminal ``columns`` wide); return its exit code and
    everything it wrote, terminal escape sequences removed (carriage returns kept)."""
    import fcntl
    import pty
    import select
    import struct
    import termios
    import time

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
    full_env = {**os.environ, "COLUMNS": str(columns), "LINES": str(rows), "TERM": "xterm-256color",
                **(env or {})}
    proc = subprocess.Popen([*(program or [sys.executable, "-m", "msp"]), *map(str, args)], stdin=slave, stdout=slave,
                            stderr=slave, env=full_env, close_fds=True)
    os.close(slave)
    chunks, deadline = [], time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.2)
            if ready:
                try:
                    data = os.read(master, 65536)
                except OSError:  # EIO: the process closed the terminal
                    break
                if not data:
                    break
                chunks.append(data)
            elif proc.poll() is not None:
                break
        code = proc.wait(timeout=max(1.0, deadline - time.monotonic()))
    finally:
        os.close(master)
        if proc.poll() is None:
            proc.kill()
    text = b"".join(chunks).decode("utf-8", "replace").replace("\r\n", "\n")
    return code, ESCAPES.sub("", text)


def servers_under(base: Path, wait: float = 10.0) -> list[str]:
    """PostgreSQL postmasters and PgBouncers still running with their files under
    ``base`` (a test run's temporary directory), after up to ``wait`` seconds for
    servers being stopped to finish."""
    import time

    import psutil

    base_text = str(Path(base).resolve())
    deadline = time.monotonic() + wait
    while True:
        found = []
        for process in psutil.process_iter(["pid", "name", "cmdline"]):
            command = process.info["cmdline"] or []
            if command and Path(command[0]).name in ("postgres", "pgbouncer") \
                    and any(base_text in arg for arg in command[1:]):
                found.append(f"pid {process.info['pid']}: {' '.join(command)}")
        if not found or time.monotonic() >= deadline:
            return found
        time.sleep(0.2)


def command_paths() -> set[str]:
    """Every command and subcommand `msp --help` offers (``"tasks accept"``, ``"today"``)."""
    import click

    from msp.cli.main import COMMANDS, cli

    paths = set()
    ctx = click.Context(cli)

    def walk(command, path):
        if isinstance(command, click.Group):
            if command.invoke_without_command:  # `msp automate` sweeps; `msp automate failures …` too
                paths.add(path)
            for sub in command.list_commands(ctx):
                walk(command.get_command(ctx, sub), f"{path} {sub}")
        else:
            paths.add(path)

    for name in COMMANDS:
        walk(cli.get_command(ctx, name), name)
    return paths


def poison_event(n: int = 1) -> dict:
    """A valid trade.executed (``evt-poison-N``, workflow ``wf-poison-N``) whose
    trade_id — 8,000 random letters, which TOAST cannot shrink — is too large for
    the positions index: an event the lifecycle automation cannot apply."""
    import json
    import random
    import string

    lines = (FIXTURES / "trading_day.jsonl").read_text().splitlines()
    event = next(json.loads(line) for line in lines if '"trade.executed"' in line)
    rng = random.Random(10 + n)
    event["event_id"] = f"evt-poison-{n}"
    event["correlation"] = {"workflow_id": f"wf-poison-{n}"}
    event["payload"]["trade_id"] = "".join(rng.choice(string.ascii_letters) for _ in range(8_000))
    return event


def store_directly(url: str, workspace: str, event: dict) -> None:
    """Store an event as it is, past the schemas (which may refuse it at ingest):
    what a test of the sweep needs is an event already stored."""
    import json

    import psycopg

    from msp.engine.event_store import insert_events, lock_writers
    from msp.engine.sql import query

    with psycopg.connect(url, autocommit=True) as conn, conn.transaction():
        lock_writers(conn, workspace)
        assert insert_events(conn, workspace, "test:poison", query("events.one_event"),
                             {"event": json.dumps(event)}) == 1
