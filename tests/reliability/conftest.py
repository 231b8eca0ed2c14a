"""Fixtures of the reliability suite: a cluster of its own (to restart, with
password authentication), PgBouncer in transaction mode in front of the test
server, and large realistic inputs from the benchmarks' generator."""

from __future__ import annotations

import os
import sys
import uuid
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # support, events, snapshot of the main suite
sys.path.insert(0, str(HERE.parent.parent / "bench"))  # workload: the realistic event generator

from support import drop_database, make_database, swap_dbname  # noqa: E402
from servers import Cluster, PgBouncer, migrated  # noqa: E402


@pytest.fixture(scope="session")
def cluster(tmp_path_factory):
    """A PostgreSQL server owned by this test run: it can be restarted and asks for a password."""
    server = Cluster(tmp_path_factory.mktemp("cluster")).init()
    server.start()
    yield server
    try:
        server.stop("immediate")
    except Exception:
        pass


@pytest.fixture
def cluster_database(cluster):
    """A fresh migrated database on the restartable cluster (URL with the password)."""
    name = f"msp_rel_{uuid.uuid4().hex[:8]}"
    url = migrated(cluster.create_database(name))
    yield url
    try:
        with psycopg.connect(cluster.url(), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    except psycopg.OperationalError:
        pass


@pytest.fixture(scope="session")
def bouncer(server_url, tmp_path_factory):
    """PgBouncer (transaction pooling) in front of the test server."""
    if not PgBouncer.available():
        message = "pgbouncer is not installed: apt-get install pgbouncer (.ci/run does)"
        if os.environ.get("MSP_REQUIRE_PGBOUNCER"):
            pytest.fail(message)
        pytest.skip(message)
    pool = PgBouncer(tmp_path_factory.mktemp("pgbouncer"), server_url)
    pool.start()
    yield pool
    pool.stop()


@contextmanager
def fresh_migrated(server_url: str, prefix: str):
    """A fresh migrated database on the test server (its name), dropped afterwards."""
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    migrated(make_database(server_url, name))
    try:
        yield name
    finally:
        drop_database(server_url, name)


@pytest.fixture
def pooled_database(server_url, bouncer):
    """A fresh migrated database, reached only through PgBouncer."""
    with fresh_migrated(server_url, "msp_pool") as name:
        yield bouncer.url(name)


@pytest.fixture
def scratch_database(server_url):
    """A fresh migrated database on the test server; its direct URL."""
    with fresh_migrated(server_url, "msp_rel") as name:
        yield swap_dbname(server_url, name)


@pytest.fixture
def reference_database(server_url):
    """A second one, for the same work done the plain way."""
    with fresh_migrated(server_url, "msp_ref") as name:
        yield swap_dbname(server_url, name)


def pytest_terminal_summary(terminalreporter):
    """How many fuzz cases ran (docs/RELIABILITY.md quotes these)."""
    fuzz = sys.modules.get("test_fuzz")
    if fuzz is not None and fuzz.TALLY["files"]:
        terminalreporter.write_line(f"fuzz tally: {fuzz.TALLY}")
