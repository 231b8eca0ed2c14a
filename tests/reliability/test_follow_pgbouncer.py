"""``--follow`` through PgBouncer in transaction pooling mode (issue 15): LISTEN
is accepted but notifications never arrive, so ``automate --follow`` says so
in one line and polls; followers and a following ingest stay exactly-once."""

from __future__ import annotations

import json
import select
import signal
import subprocess
import sys
import time

import psycopg
import workload

from snapshot import snapshot
from support import invoke

WAIT_SECONDS = 90


def start(url, *args) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "msp", "--database-url", url, "--workspace", "desk",
                             "--format", "json", *map(str, args)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def first_stderr_line(proc) -> str:
    """The process's first line on stderr (waiting up to WAIT_SECONDS for it)."""
    ready, _, _ = select.select([proc.stderr], [], [], WAIT_SECONDS)
    assert ready, "nothing on stderr"
    return proc.stderr.readline().decode()


def scalar(url, sql):
    with psycopg.connect(url, autocommit=True) as conn:
        return conn.execute(sql).fetchone()[0]


def wait_for(check, what):
    deadline = time.monotonic() + WAIT_SECONDS
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def test_followers_through_pgbouncer_fall_back_to_polling_and_stay_exactly_once(pooled_database, reference_database,
                                                                               tmp_path):
    path = tmp_path / "live.jsonl"
    n = workload.write_jsonl(path, 1_200, prefix="pb", seed=8)
    lines = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(b"")
    followers = [start(pooled_database, "automate", "--follow", "--poll-seconds", "0.3", "--batch-size", "200")
                 for _ in range(2)]
    try:
        _follow_and_compare(followers, pooled_database, reference_database, tmp_path, path, lines, n)
    finally:  # a failed assertion leaves no process behind
        for proc in followers:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()


def _follow_and_compare(followers, pooled_database, reference_database, tmp_path, path, lines, n):
    notices = [first_stderr_line(proc) for proc in followers]  # each said so, once its token did not come back
    assert notices == ["msp: notifications do not reach this connection (a pooler in transaction mode?): "
                       "polling every 0.3s\n"] * 2
    ingest = start(pooled_database, "ingest", "--follow", path, "--flush-ms", "50", "--automate")
    followers.append(ingest)  # killed too if what follows fails
    for k in range(4):  # the scanner appends in four bursts
        with open(path, "ab") as f:
            f.write(b"".join(lines[k * len(lines) // 4:(k + 1) * len(lines) // 4]))
        time.sleep(0.3)
    count = "SELECT count(*) FROM workflow_events WHERE workspace = 'desk' AND source <> 'msp:automate'"
    wait_for(lambda: scalar(pooled_database, count) == n, "the ingest")
    caught_up = ("SELECT (SELECT max(last_seq) FROM automation_checkpoints WHERE workspace = 'desk') = "
                 "(SELECT max(seq) FROM workflow_events WHERE workspace = 'desk')")
    wait_for(lambda: scalar(pooled_database, caught_up), "the sweeps")
    outcomes = []
    for proc in followers:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=WAIT_SECONDS)
        outcomes.append((proc.returncode, out.decode(), err.decode()))
    for code, _, err in outcomes[:2]:
        assert (code, err) == (0, "")  # nothing more than the notice
    code, out, err = outcomes[2]
    assert code == 0, err
    summary = json.loads(out)
    assert (summary["read"], summary["ingested"], summary["duplicates"]) == (n, n, 0)
    # the same events loaded and swept once, on a direct connection
    base = ["--database-url", reference_database, "--workspace", "desk", "--format", "json"]
    (tmp_path / "all.jsonl").write_bytes(b"".join(lines))
    assert invoke(base + ["ingest", str(tmp_path / "all.jsonl")]).exit_code == 0
    assert invoke(base + ["automate"]).exit_code == 0
    direct = psycopg.conninfo.conninfo_to_dict(reference_database)
    direct["dbname"] = pooled_database.rsplit("/", 1)[1]
    with psycopg.connect(psycopg.conninfo.make_conninfo(**direct)) as p, psycopg.connect(reference_database) as d:
        followed, alone = snapshot(p, "desk"), snapshot(d, "desk")
    assert {k: len(v) for k, v in followed.items()} == {k: len(v) for k, v in alone.items()}
    assert followed == alone
