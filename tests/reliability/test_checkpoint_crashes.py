"""Ingest checkpoints under crashes and races (issue 15): a SIGKILL between a
batch's COPY and its commit leaves the checkpoint where the last commit put
it; at any kill point the checkpoint covers exactly the committed lines; two
ingests of the same file at once store every event once."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import time

import psycopg
import workload

from snapshot import snapshot
from test_crashes import finish, kill_when, msp_process, scalar


def checkpoint(url, workspace, path):
    with psycopg.connect(url, autocommit=True) as conn:
        return conn.execute("SELECT byte_offset, line_no FROM ingest_checkpoints WHERE workspace = %s AND path = %s",
                            (workspace, os.path.abspath(path))).fetchone()


def committed_lines(url, workspace):
    with psycopg.connect(url, autocommit=True) as conn:
        return conn.execute("SELECT count(*), coalesce(max(source_line), 0) FROM workflow_events "
                            "WHERE workspace = %s", (workspace,)).fetchone()


def offset_after(path, lines: int) -> int:
    with open(path, "rb") as f:
        return sum(len(next(f)) for _ in range(lines))


def test_sigkill_between_copy_and_commit_leaves_the_checkpoint_at_the_last_commit(scratch_database, tmp_path):
    path = tmp_path / "day.jsonl"
    n = workload.write_jsonl(path, 3_000, prefix="c", seed=4)
    full = path.read_bytes()
    path.write_bytes(full[:offset_after(path, 1_000)])  # the first 1,000 lines, ingested first
    finish(scratch_database, "w", "ingest", str(path), "--batch-size", "500")
    assert checkpoint(scratch_database, "w", path) == (os.path.getsize(path), 1_000)
    with open(path, "wb") as f:  # the scanner appended the rest
        f.write(full)
    # Hold the checkpoint row: the next batch COPYs its events, then waits to save the checkpoint.
    with psycopg.connect(scratch_database) as holder:
        holder.execute("SELECT 1 FROM ingest_checkpoints WHERE workspace = 'w' FOR UPDATE")
        proc = msp_process(scratch_database, "w", "ingest", str(path), "--batch-size", "500")
        waiting = ("SELECT max(pid) FROM pg_stat_activity WHERE datname = current_database() "
                   "AND application_name = 'msp' AND wait_event_type = 'Lock' AND query LIKE '%%ingest_checkpoints%%'")
        assert kill_when(proc, lambda: scalar(scratch_database, waiting) is not None)
        backend = scalar(scratch_database, waiting)
        holder.rollback()
    deadline = time.monotonic() + 30  # the killed client's server process ends its transaction: rolled back
    while scalar(scratch_database, "SELECT count(*) FROM pg_stat_activity WHERE pid = %s", backend):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert committed_lines(scratch_database, "w") == (1_000, 1_000)
    assert checkpoint(scratch_database, "w", path) == (offset_after(path, 1_000), 1_000)
    rerun = finish(scratch_database, "w", "ingest", str(path), "--batch-size", "500")
    assert (rerun["checkpoint_skipped"], rerun["read"], rerun["ingested"], rerun["duplicates"]) == \
        (1_000, n - 1_000, n - 1_000, 0)
    assert committed_lines(scratch_database, "w") == (n, n)
    assert checkpoint(scratch_database, "w", path) == (os.path.getsize(path), n)


def killed_backends_gone(url: str) -> None:
    """Wait until the killed client's server process has ended its transaction (committed or rolled
    back): the client may die with its COMMIT already sent, and the server finishes it."""
    deadline = time.monotonic() + 30
    while scalar(url, "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                      "AND application_name = 'msp'"):
        assert time.monotonic() < deadline
        time.sleep(0.05)


def test_at_any_kill_point_the_checkpoint_covers_exactly_the_committed_lines(scratch_database, tmp_path):
    path = tmp_path / "day.jsonl"
    n = workload.write_jsonl(path, 12_000, prefix="k", seed=6)
    rng = random.Random(15)
    for point in range(3):
        workspace = f"kill_{point}"
        threshold = int(n * rng.uniform(0.1, 0.8))
        proc = msp_process(scratch_database, workspace, "ingest", str(path), "--batch-size", "500")
        assert kill_when(proc, lambda: committed_lines(scratch_database, workspace)[0] >= threshold)
        killed_backends_gone(scratch_database)  # a COMMIT sent just before the kill still lands
        count, last = committed_lines(scratch_database, workspace)
        assert 0 < count == last < n  # every line is an event: committed lines are 1..last
        assert checkpoint(scratch_database, workspace, path) == (offset_after(path, last), last)
        rerun = finish(scratch_database, workspace, "ingest", str(path), "--batch-size", "500")
        assert (rerun["checkpoint_skipped"], rerun["ingested"], rerun["duplicates"]) == (last, n - last, 0)
        assert committed_lines(scratch_database, workspace) == (n, n)


def test_two_ingests_of_the_same_file_at_once_store_every_event_once(scratch_database, reference_database,
                                                                     tmp_path):
    path = tmp_path / "day.jsonl"
    n = workload.write_jsonl(path, 4_000, prefix="p", seed=1)
    procs = [subprocess.Popen([sys.executable, "-m", "msp", "--database-url", scratch_database, "--workspace", "desk",
                               "--format", "json", "ingest", str(path), "--batch-size", "300"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(2)]
    results = [(p.wait(timeout=600), p.stdout.read(), p.stderr.read().decode()) for p in procs]
    assert all(code == 0 for code, _, _ in results), results
    loads = [json.loads(out) for _, out, _ in results]
    assert sum(x["ingested"] for x in loads) == n
    for x in loads:
        assert x["read"] == x["ingested"] + x["duplicates"] + x["rejected"]
        assert x["checkpoint_skipped"] + x["read"] == n
    assert checkpoint(scratch_database, "desk", path) == (os.path.getsize(path), n)
    finish(reference_database, "desk", "ingest", str(path))
    with psycopg.connect(scratch_database) as a, psycopg.connect(reference_database) as b:
        raced, alone = snapshot(a, "desk")["events"], snapshot(b, "desk")["events"]
    assert len(raced) == n and raced == alone
