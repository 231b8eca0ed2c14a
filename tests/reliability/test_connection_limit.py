"""`msp automate --all-workspaces --jobs N` on a server that cannot spare the
connections (engine/automations/parallel.py): a helper that cannot connect
leaves its share to the others, and says nothing."""

from __future__ import annotations

import json

import psycopg

import events as ev
from servers import Cluster
from support import run_process

NAMES = ["alpha", "bravo", "charlie", "delta", "echo"]


def test_helpers_the_server_cannot_spare_leave_the_work_to_the_connection_it_has(tmp_path_factory, tmp_path):
    """The login role may hold one connection at a time (a managed plan's
    limit, `CONNECTION LIMIT 1`): `--jobs 4` gets no helper, and the one
    connection sweeps every workspace; exit 0, an empty stderr."""
    cluster = Cluster(tmp_path_factory.mktemp("limited")).init()
    cluster.start()
    try:
        url = cluster.managed_database(connection_limit=1)
        week = ev.write(tmp_path / "week.jsonl", *ev.week(seed=4, workflows=6))
        for name in NAMES:
            ingest = run_process(["--database-url", url, "--workspace", name, "ingest", week])
            assert ingest.returncode == 0, ingest.stderr
        sweep = run_process(["--database-url", url, "--workspace", NAMES[0], "--format", "json",
                             "automate", "--all-workspaces", "--jobs", "4"])
        assert (sweep.returncode, sweep.stderr) == (0, b"")
        assert json.loads(sweep.stdout)["auto_plans_created"] > 0
        with psycopg.connect(cluster.url("desk")) as admin:
            assert admin.execute(
                "SELECT w.workspace, w.swept_seq = w.head_seq, c.last_seq = w.head_seq "
                "FROM workspaces w JOIN automation_checkpoints c USING (workspace) ORDER BY 1").fetchall() == [
                (name, True, True) for name in sorted(NAMES)]
            plans = dict(admin.execute("SELECT workspace, count(*) FROM workflow_events "
                                       "WHERE event_type = 'trade.plan.created' GROUP BY 1").fetchall())
            assert len(set(plans.values())) == 1 and sorted(plans) == sorted(NAMES)
    finally:
        cluster.stop("immediate")
