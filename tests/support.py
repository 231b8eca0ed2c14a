"""Helpers shared by every test suite (plain functions, importable from any
test directory — conftest modules are not): scratch databases, and driving
the real CLI in-process or as a process."""

from __future__ import annotations

import os
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
