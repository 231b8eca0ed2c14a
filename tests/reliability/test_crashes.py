"""SIGKILL `msp ingest` and `msp automate` at several points of large runs; a
re-run must leave the database equal, row for row, to an uninterrupted run."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import time

import psycopg
import pytest
import workload

from snapshot import snapshot

INGEST_EVENTS = 20_000
AUTOMATE_EVENTS = 6_000
POINTS = 3  # kill points per command, at seeded random fractions of the work


def msp_process(url, workspace, *args) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "msp", "--database-url", url, "--workspace", workspace,
                             "--format", "json", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def finish(url, workspace, *args, exit_code: int = 0) -> dict:
    import json

    proc = msp_process(url, workspace, *args)
    out, err = proc.communicate(timeout=600)
    assert proc.returncode == exit_code, err.decode()
    return json.loads(out)


def kill_when(proc: subprocess.Popen, reached, timeout: float = 120) -> bool:
    """SIGKILL ``proc`` as soon as ``reached()`` is true; False if it finished first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        if reached():
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            return True
        time.sleep(0.02)
    proc.kill()
    raise AssertionError("the run neither finished nor reached the kill point")


def scalar(url, sql, *params):
    with psycopg.connect(url, autocommit=True) as conn:
        return conn.execute(sql, params).fetchone()[0]


def quarantine(url, workspace):
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT source, line_no, raw, errors FROM rejected_lines WHERE workspace = %s "
                            "ORDER BY source, line_no", (workspace,)).fetchall()


@pytest.fixture(scope="module")
def big_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("crash") / "year.jsonl"
    n = workload.write_jsonl(path, INGEST_EVENTS, prefix="k", seed=5)
    with open(path, "ab") as f:  # a few bad lines too: the quarantine must come out equal as well
        f.write(b'{"broken json\n{"event_type": "nope", "occurred_at": "2026-01-01T00:00:00Z"}\n')
    return path, n


def test_sigkill_during_ingest_at_several_points_then_rerun_equals_an_uninterrupted_run(scratch_database, big_file):
    path, n = big_file
    reference = finish(scratch_database, "reference", "ingest", str(path), "--batch-size", "500", exit_code=1)
    assert (reference["ingested"], reference["rejected"]) == (n, 2)
    with psycopg.connect(scratch_database) as conn:
        expected = snapshot(conn, "reference")["events"]
    rng = random.Random(2026)
    killed_at = []
    for point in range(POINTS):
        workspace = f"crash_ingest_{point}"
        threshold = int(n * rng.uniform(0.05, 0.9))
        proc = msp_process(scratch_database, workspace, "ingest", str(path), "--batch-size", "500")
        if kill_when(proc, lambda: scalar(scratch_database, "SELECT count(*) FROM workflow_events "
                                                            "WHERE workspace = %s", workspace) >= threshold):
            killed_at.append(scalar(scratch_database, "SELECT count(*) FROM workflow_events WHERE workspace = %s",
                                    workspace))
        rerun = finish(scratch_database, workspace, "ingest", str(path), "--batch-size", "500", exit_code=1)
        # the re-run reads from the killed run's checkpoint: what it skips plus what it reads is the file
        assert rerun["read"] == rerun["ingested"] + rerun["duplicates"] + rerun["rejected"]
        assert rerun["checkpoint_skipped"] + rerun["read"] == n + 2
        with psycopg.connect(scratch_database) as conn:
            assert snapshot(conn, workspace)["events"] == expected, f"kill point {point}"
        assert quarantine(scratch_database, workspace) == quarantine(scratch_database, "reference")
    assert len(killed_at) == POINTS, f"runs finished before their kill point: killed at {killed_at}"
    assert all(0 < k < n for k in killed_at)  # really mid-run


def test_sigkill_during_automate_at_several_points_then_rerun_equals_an_uninterrupted_run(scratch_database,
                                                                                          tmp_path):
    path = tmp_path / "automate.jsonl"
    n = workload.write_jsonl(path, AUTOMATE_EVENTS, prefix="m", seed=9)
    finish(scratch_database, "reference", "ingest", str(path))
    finish(scratch_database, "reference", "automate")
    with psycopg.connect(scratch_database) as conn:
        expected = snapshot(conn, "reference")
    assert len(expected["analyses"]) > 100 and len(expected["tasks"]) > 100
    rng = random.Random(7)
    killed = 0
    for point in range(POINTS):
        workspace = f"crash_automate_{point}"
        finish(scratch_database, workspace, "ingest", str(path))
        threshold = int(n * rng.uniform(0.1, 0.9))
        proc = msp_process(scratch_database, workspace, "automate", "--batch-size", "100")
        killed += kill_when(proc, lambda: (scalar(scratch_database, "SELECT coalesce(max(last_seq), 0) FROM "
                                                                    "automation_checkpoints WHERE workspace = %s",
                                                  workspace) or 0)
                            - scalar(scratch_database, "SELECT min(seq) FROM workflow_events WHERE workspace = %s",
                                     workspace) >= threshold)
        finish(scratch_database, workspace, "automate")
        with psycopg.connect(scratch_database) as conn:
            assert snapshot(conn, workspace) == expected, f"kill point {point}"
    assert killed == POINTS
