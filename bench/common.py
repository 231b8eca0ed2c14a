"""Shared set-up for the benchmarks: a scratch database on the server under test."""

from __future__ import annotations

import os
import sys
import uuid
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "RESULTS.md"


def server_url(cli_value: str | None) -> str:
    """--database-url, else MSP_BENCH_DATABASE_URL, else msp's embedded server."""
    url = cli_value or os.environ.get("MSP_BENCH_DATABASE_URL")
    if url:
        return url
    from msp.engine.embedded import embedded_url

    return embedded_url()


def _create_database(url: str, label: str, template: str | None = None) -> str:
    """A new, uniquely named database on the server of ``url`` (a copy of
    ``template`` if given); its URL."""
    name = f"msp_bench_{label}_{uuid.uuid4().hex[:6]}"
    copy_of = f' TEMPLATE "{template}"' if template else ""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"{copy_of}')
    info = psycopg.conninfo.conninfo_to_dict(url)
    info["dbname"] = name
    return psycopg.conninfo.make_conninfo(**info)


def scratch_database(url: str, label: str) -> str:
    scratch = _create_database(url, label)
    from msp.engine.migrations import migrate

    with psycopg.connect(scratch, autocommit=True) as conn:
        migrate(conn)
    return scratch


def clone_database(url: str, scratch: str, label: str) -> str:
    """A copy of a scratch database (which nobody may be connected to)."""
    return _create_database(url, label, template=psycopg.conninfo.conninfo_to_dict(scratch)["dbname"])


def drop_database(url: str, scratch: str) -> None:
    name = psycopg.conninfo.conninfo_to_dict(scratch)["dbname"]
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def server_version(url: str) -> str:
    with psycopg.connect(url) as conn:
        return conn.execute("SHOW server_version").fetchone()[0]


def record(title: str, lines: list[str]) -> None:
    """Print a result block and append it to bench/RESULTS.md."""
    block = "\n".join([f"### {title}", "", *lines, ""])
    print(block)
    with open(RESULTS, "a") as f:
        f.write(block + "\n")


def msp_command() -> list[str]:
    return [sys.executable, "-m", "msp"]
