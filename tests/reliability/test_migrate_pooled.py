"""Migrating through PgBouncer in transaction mode (issue 17): the indexes msp builds
CONCURRENTLY outside the migration transaction, and the no-transaction files, keep no
session state — no advisory lock or setting is left on a pooled server connection."""

from __future__ import annotations

import uuid

import psycopg

from msp.engine.migrations import load_migrations, migrate
from support import drop_database, invoke, make_database, swap_dbname


def test_an_upgrade_through_the_pool_builds_concurrently_and_leaves_nothing_behind(server_url, bouncer):
    name = f"msp_pool_upgrade_{uuid.uuid4().hex[:8]}"  # no collision with another run on the server
    direct = make_database(server_url, name)
    try:
        with psycopg.connect(direct, autocommit=True) as c:
            migrate(c, [m for m in load_migrations() if m.version <= 8])
        pooled = bouncer.url(name)
        dry = invoke(["--database-url", pooled, "migrate", "--dry-run", "--format", "json"])
        assert dry.exit_code == 0, dry.stderr
        assert dry.json()["statements"][0]["statement"].startswith("CREATE INDEX CONCURRENTLY")
        result = invoke(["--database-url", pooled, "migrate"])
        assert result.exit_code == 0, result.stderr
        latest = len(load_migrations())
        assert result.stdout.splitlines()[-1] == f"migration level {latest}"
        with psycopg.connect(swap_dbname(server_url, name), autocommit=True) as c:
            assert c.execute("SELECT indisvalid FROM pg_index WHERE indexrelid = "
                             "'workflow_events_close_seq_idx'::regclass").fetchone() == (True,)
            assert c.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND database = "
                             "(SELECT oid FROM pg_database WHERE datname = current_database())").fetchone() == (0,)
        status = invoke(["--database-url", pooled, "migrate", "--status"])
        assert status.exit_code == 0 and status.stdout.splitlines()[-1] == f"migration level {latest}: in sync"
    finally:
        drop_database(server_url, name)
