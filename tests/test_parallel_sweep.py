"""`msp automate --all-workspaces` sweeps the pending workspaces over up to
`--jobs` connections (engine/automations/parallel.py): each workspace once,
exactly as one connection would, and one that waits does not hold up the rest."""

import threading
import time

import psycopg

import events as ev
from snapshot import snapshot
from support import invoke

NAMES = [f"desk-{k:02d}" for k in range(9)]


def load(url, tmp_path):
    import msp as package

    path = ev.write(tmp_path / "week.jsonl", *ev.week(seed=3, workflows=12))
    for name in NAMES:
        with package.connect(url, name) as ws:
            ws.ingest(path)


def checkpoints(url):
    with psycopg.connect(url) as conn:
        return dict(conn.execute(
            "SELECT w.workspace, coalesce(c.last_seq, 0) = w.head_seq FROM workspaces w "
            "LEFT JOIN automation_checkpoints c USING (workspace) ORDER BY 1").fetchall())


def test_several_connections_sweep_each_workspace_once_as_one_would(fresh_database, tmp_path):
    import msp as package

    url = fresh_database
    load(url, tmp_path)
    with package.connect(url, NAMES[0]) as ws:
        result = ws.automate(all_workspaces=True, jobs=4)
    with package.connect(url, "alone") as ws:  # the same events, swept on their own
        ws.ingest(str(tmp_path / "week.jsonl"))
        alone = ws.automate()

    assert checkpoints(url) == {name: True for name in NAMES + ["alone"]}
    for key, value in alone.model_dump(exclude={"skipped", "skipped_total"}).items():
        assert getattr(result, key) == value * len(NAMES), key
    assert result.skipped_total == alone.skipped_total * len(NAMES)
    with psycopg.connect(url) as conn:
        reference = snapshot(conn, "alone")
        assert reference["alerts"] and reference["analyses"]
        for name in NAMES:
            assert snapshot(conn, name) == reference, name
        assert conn.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                            ).fetchone()[0] == 1  # the helper connections are closed


def test_a_workspace_that_waits_does_not_hold_up_the_others(fresh_database, tmp_path):
    """The first workspace in order is held by a writer that has not committed;
    the others are swept meanwhile (with one connection they would queue behind
    it), then it is swept once the writer commits."""
    import msp as package

    url = fresh_database
    load(url, tmp_path)
    held = psycopg.connect(url)
    held.execute("SELECT pg_advisory_xact_lock(hashtext('msp.events'), hashtext(%s))", (NAMES[0],))
    outcome = {}

    def sweep():
        with package.connect(url, "any") as ws:
            outcome["result"] = ws.automate(all_workspaces=True, jobs=3)

    sweeper = threading.Thread(target=sweep)
    sweeper.start()
    try:
        deadline = time.monotonic() + 60
        while not all(swept for name, swept in checkpoints(url).items() if name != NAMES[0]):
            assert sweeper.is_alive() and time.monotonic() < deadline
            time.sleep(0.05)
        assert checkpoints(url)[NAMES[0]] is False and sweeper.is_alive()
    finally:
        held.rollback()
        held.close()
        sweeper.join(60)
    assert not sweeper.is_alive()
    assert checkpoints(url) == {name: True for name in NAMES}
    assert outcome["result"].failed_workspaces is None


def test_jobs_is_checked_before_connecting():
    args = ["--database-url", "postgresql://nobody@127.0.0.1:1/none", "automate"]
    zero = invoke(args + ["--all-workspaces", "--jobs", "0"])
    assert zero.exit_code == 2 and "--jobs" in zero.stderr
    alone = invoke(args + ["--jobs", "2"])
    assert alone.exit_code == 2
    assert alone.stderr.strip() == ("msp: error: --jobs applies to --all-workspaces "
                                    "(one workspace is swept on one connection)")


def test_the_api_refuses_fewer_than_one_job(api):
    import pytest

    from msp.engine.errors import UsageError

    with pytest.raises(UsageError, match="jobs must be at least 1, not 0"):
        api.automate(all_workspaces=True, jobs=0)
    # a connection count for one workspace is refused, as the CLI refuses it, not ignored
    with pytest.raises(UsageError, match="--jobs applies to --all-workspaces"):
        api.automate(jobs=2)
