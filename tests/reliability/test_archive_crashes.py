"""``msp archive`` under SIGKILL (issue 16 item 3): killed at any step — before
the file, while writing it, with the file complete but not committed, just
before the commit, after the commit but before the rename — and run again,
every event is in the hot table XOR in the archive's file, the archived ids are
exactly the file's, no work file is left, and the reports after the cutoff are
those of an uninterrupted run.  The process kills itself (SIGKILL, no cleanup)
when the engine reaches the named step, so each point is hit exactly."""

from __future__ import annotations

import gzip
import json
import signal
import subprocess
import sys
import time

import psycopg
import pytest

import msp as package
from test_crashes import scalar
from test_archive import ARCHIVED, CUTOFF, decide_old_tasks, load, reports

KILLER = """
import datetime as dt, os, signal, sys
from msp.engine.archive import archive
from msp.engine.config import resolve_settings
from msp.engine.db import Database
url, workspace, to, step = sys.argv[1:]
def hook(name):
    if name == step:
        os.kill(os.getpid(), signal.SIGKILL)
with Database(resolve_settings(url, workspace)) as db:
    archive(db, dt.date(2099, 1, 1), to=to, tz="America/New_York", crash_hook=hook)
print("finished")
"""
STEPS = ("before_file", "file_started", "file_written", "before_commit", "committed")


def wait_for_backends_to_end(url):
    """The killed client's server process ends its transaction (rolled back) when it notices."""
    deadline = time.monotonic() + 30
    with psycopg.connect(url, autocommit=True) as conn:
        while conn.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                           "AND application_name = 'msp'").fetchone()[0]:
            assert time.monotonic() < deadline
            time.sleep(0.05)


def state(url, workspace):
    with psycopg.connect(url, autocommit=True) as conn:
        hot = {r[0]: r[1] for r in conn.execute("SELECT event_id, event FROM workflow_events WHERE workspace = %s",
                                                (workspace,))}
        archived = {r[0] for r in conn.execute("SELECT event_id FROM archived_events WHERE workspace = %s",
                                               (workspace,))}
        archives = conn.execute("SELECT archive_no, path, workflows, events FROM archives WHERE workspace = %s",
                                (workspace,)).fetchall()
    return hot, archived, archives


def file_events(path) -> dict:
    with gzip.open(path, "rb") as f:
        return {e["event_id"]: e for e in map(json.loads, f)}


@pytest.mark.parametrize("step", STEPS)
def test_sigkill_at_each_step_then_rerun_moves_every_event_exactly_once(scratch_database, tmp_path, step):
    workspace = f"kill_{step}"
    with package.connect(scratch_database, workspace) as ws:
        load(ws, tmp_path)
        decide_old_tasks(ws)
        ws.automate()
        expected_reports = reports(ws)
    everything, _, _ = state(scratch_database, workspace)
    to_move = {i for i, e in everything.items() if e["correlation"]["workflow_id"] in ARCHIVED}
    assert len(to_move) == 60
    target = tmp_path / "old.jsonl.gz"
    partial = tmp_path / "old.jsonl.gz.partial"

    killed = subprocess.run([sys.executable, "-c", KILLER, scratch_database, workspace, str(target), step],
                            capture_output=True, timeout=300)
    assert killed.returncode == -signal.SIGKILL, killed.stderr.decode()
    wait_for_backends_to_end(scratch_database)

    hot, archived, archives = state(scratch_database, workspace)
    assert not target.exists()  # the file gets its name only after the commit
    if step == "committed":  # committed: the events left the hot table, the file still has its work name
        assert (set(hot), archived, archives) == (set(everything) - to_move, to_move,
                                                  [(1, str(target), 15, 60)])
        assert set(file_events(partial)) == to_move
    else:  # not committed: nothing changed
        assert (hot, archived, archives) == (everything, set(), [])
        assert partial.exists() == (step != "before_file")

    with package.connect(scratch_database, workspace) as ws:
        rerun = ws.archive(before=CUTOFF, to=str(target), tz="America/New_York")
        if step == "committed":  # the rerun finishes the rename; nothing is left to archive
            assert (rerun.renamed, rerun.workflows, rerun.file) == ([str(target)], 0, None)
        else:
            assert (rerun.renamed, rerun.workflows, rerun.events, rerun.file) == ([], 15, 60, str(target))
        assert reports(ws) == expected_reports

    hot, archived, archives = state(scratch_database, workspace)
    in_file = file_events(target)
    assert set(hot) | set(in_file) == set(everything)  # nothing lost
    assert not set(hot) & set(in_file)  # nothing in both
    assert in_file == {i: everything[i] for i in to_move}  # exactly as stored
    assert archived == set(in_file) and archives == [(1, str(target), 15, 60)]
    assert not partial.exists()  # nothing left behind


def test_an_archive_killed_while_waiting_for_the_writer_lock_changed_nothing(scratch_database, tmp_path):
    workspace = "kill_waiting"
    with package.connect(scratch_database, workspace) as ws:
        load(ws, tmp_path)
        decide_old_tasks(ws)
        ws.automate()
    before = state(scratch_database, workspace)
    target = tmp_path / "old.jsonl.gz"
    with psycopg.connect(scratch_database) as holder:  # another writer holds the workspace's lock
        holder.execute("SELECT pg_advisory_xact_lock(hashtext('msp.events'), hashtext(%s))", (workspace,))
        proc = subprocess.Popen([sys.executable, "-m", "msp", "--database-url", scratch_database, "--workspace",
                                 workspace, "archive", "--before", CUTOFF, "--to", str(target)],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 60
        waiting = ("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                   "AND application_name = 'msp' AND wait_event_type = 'Lock'")
        while not scalar(scratch_database, waiting):  # (a connection of its own: a transaction sees one snapshot)
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
        proc.kill()
        proc.wait()
        holder.rollback()
    wait_for_backends_to_end(scratch_database)
    assert state(scratch_database, workspace) == before
    assert list(tmp_path.glob("old.jsonl.gz*")) == []
