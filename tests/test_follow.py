"""``msp ingest --follow`` and ``msp automate --follow`` (issue 15), as real
processes stopped by signals: exact rows and counts, nothing lost or doubled."""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import threading
import time

import psycopg

import events as ev
from snapshot import snapshot
from support import invoke

WAIT_SECONDS = 60  # generous: these tests wait for outcomes, never for a speed
VIA_POOLER = bool(os.environ.get("MSP_TEST_VIA_PGBOUNCER"))
# Without a pooler a follower must wake by notification: its safety-net poll is longer than any wait here.
POLL = "0.2" if VIA_POOLER else "600"


def start(database_url, workspace, *args) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "msp", "--database-url", database_url, "--workspace", workspace,
                             "--format", "json", *map(str, args)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def stop(proc, sig=signal.SIGTERM) -> tuple[int, str, str]:
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=WAIT_SECONDS)
    return proc.returncode, out.decode(), err.decode()


def scalar(url, sql, *params):
    with psycopg.connect(url, autocommit=True) as conn:
        return conn.execute(sql, params).fetchone()[0]


def wait_for(check, proc=None, what="the outcome"):
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        if check():
            return
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"the process ended first: {proc.stderr.read().decode()}")
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def wait_listening(database_url, procs):
    """Until each ``automate --follow`` process listens (or, through a pooler, has said it polls)."""
    if VIA_POOLER:
        for proc in procs:
            ready, _, _ = select.select([proc.stderr], [], [], WAIT_SECONDS)
            assert ready and proc.stderr.readline().decode().startswith("msp: notifications do not reach")
        return
    listening = ("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                 "AND query = 'LISTEN msp_events'")
    wait_for(lambda: scalar(database_url, listening) >= len(procs), procs[0], "the followers to listen")


def stored(url, workspace):
    return scalar(url, "SELECT count(*) FROM workflow_events WHERE workspace = %s AND source <> 'msp:automate'",
                  workspace)


def append(path, *events, raw=""):
    with open(path, "a") as f:
        f.write("".join(json.dumps(e) + "\n" for e in events) + raw)


def sig(n, prefix="f"):
    return ev.signal(event_id=f"{prefix}{n:03d}", workflow=f"wf-{prefix}{n:03d}")


def test_ingest_follow_survives_rotation_and_truncation_and_stops_cleanly(database_url, workspace, tmp_path):
    path = tmp_path / "live.jsonl"
    append(path, sig(1), sig(2), sig(3))
    proc = start(database_url, workspace, "ingest", "--follow", path, "--flush-ms", "50")
    wait_for(lambda: stored(database_url, workspace) == 3, proc)
    append(path, sig(4), sig(5), raw='{"event_type": "signal.created", "ev')  # a line still being written
    wait_for(lambda: stored(database_url, workspace) == 5, proc)
    os.rename(path, str(path) + ".1")  # rotation: the old file keeps its last lines, a new one starts
    append(str(path) + ".1", raw='ent_id": "late"}\n')
    append(path, sig(6), sig(7))
    wait_for(lambda: stored(database_url, workspace) == 7, proc)
    with open(path, "w") as f:  # truncation in place
        f.write(json.dumps(sig(8)) + "\n" + json.dumps(sig(9))[:20])
    wait_for(lambda: stored(database_url, workspace) == 8, proc)
    code, out, err = stop(proc)
    assert code == 1, err  # the rotated file's last line was not an event
    summary = json.loads(out)
    assert {k: summary[k] for k in ("read", "ingested", "duplicates", "rejected", "checkpoint_skipped")} == \
        {"read": 9, "ingested": 8, "duplicates": 0, "rejected": 1, "checkpoint_skipped": 0}
    ids = [r[0] for r in psycopg.connect(database_url).execute(
        "SELECT event_id FROM workflow_events WHERE workspace = %s ORDER BY seq", (workspace,)).fetchall()]
    assert ids == [f"f{n:03d}" for n in range(1, 9)]
    rejected = psycopg.connect(database_url).execute(
        "SELECT source, line_no FROM rejected_lines WHERE workspace = %s", (workspace,)).fetchall()
    assert rejected == [(str(path), 6)]
    # the unfinished line waits: the checkpoint stops before it, and the next run reads it whole
    assert scalar(database_url, "SELECT line_no FROM ingest_checkpoints WHERE workspace = %s", workspace) == 1
    append(path, raw=json.dumps(sig(9))[20:] + "\n")
    again = invoke(["--database-url", database_url, "--workspace", workspace, "--format", "json", "ingest",
                    str(path)]).json()
    assert (again["checkpoint_skipped"], again["read"], again["ingested"]) == (1, 1, 1)


def test_stopping_mid_stream_loses_nothing_and_the_checkpoint_is_exact(database_url, workspace, tmp_path):
    path = tmp_path / "live.jsonl"
    path.write_text("")
    proc = start(database_url, workspace, "ingest", "--follow", path, "--flush-ms", "20", "--batch-size", "50")
    total = 3_000
    writing = threading.Event()

    def writer():
        with open(path, "a") as f:
            for n in range(total):
                f.write(json.dumps(ev.signal(event_id=f"m{n}", workflow=f"wf-m{n}")) + "\n")
                f.flush()
                if n == 300:
                    writing.set()

    thread = threading.Thread(target=writer)
    thread.start()
    writing.wait(WAIT_SECONDS)
    wait_for(lambda: stored(database_url, workspace) > 0, proc)
    code, out, err = stop(proc, signal.SIGINT)  # while lines are still arriving
    thread.join()
    assert code == 0, err
    first = json.loads(out)
    assert first["read"] == first["ingested"] == stored(database_url, workspace) < total
    rest = invoke(["--database-url", database_url, "--workspace", workspace, "--format", "json", "ingest",
                   str(path)]).json()
    assert (rest["checkpoint_skipped"], rest["ingested"], rest["duplicates"]) == (first["read"], total - first["read"], 0)
    assert stored(database_url, workspace) == total


def test_ingest_follow_automate_creates_the_plan_and_alert_while_following(database_url, workspace, tmp_path):
    path = tmp_path / "live.jsonl"
    path.write_text("")
    proc = start(database_url, workspace, "ingest", "--follow", "--automate", path, "--flush-ms", "50")
    time.sleep(0.5)
    append(path, ev.candidate(candidate_id="c-live", workflow="wf-live"))
    plans = ("SELECT count(*) FROM workflow_events WHERE workspace = %s AND event_type = 'trade.plan.created' "
             "AND plan_candidate_id = 'c-live'")
    wait_for(lambda: scalar(database_url, plans, workspace) == 1, proc, "the plan")
    wait_for(lambda: scalar(database_url, "SELECT count(*) FROM alerts WHERE workspace = %s", workspace) == 1, proc,
             "the alert")
    code, out, err = stop(proc)
    assert code == 0, err
    assert json.loads(out) == {"read": 1, "ingested": 1, "duplicates": 0, "conflicts": 0, "rejected": 0,
                               "warnings": 0, "checkpoint_skipped": 0, "events_scanned": 3, "auto_plans_created": 1,
                               "auto_alerts_created": 1, "auto_journal_drafts_created": 1,
                               "auto_coach_analyses_generated": 0, "auto_coach_action_tasks_created": 0,
                               "auto_coach_journal_updates": 0}


def test_automate_follow_sweeps_when_events_commit_and_stops_on_sigterm(database_url, workspace, tmp_path):
    proc = start(database_url, workspace, "automate", "--follow", "--poll-seconds", POLL)
    wait_listening(database_url, [proc])
    msp = ["--database-url", database_url, "--workspace", workspace, "--format", "json"]
    assert invoke(msp + ["ingest", ev.write(tmp_path / "a.jsonl", ev.candidate(candidate_id="c-1"))]).exit_code == 0
    wait_for(lambda: scalar(database_url, "SELECT count(*) FROM alerts WHERE workspace = %s", workspace) == 1, proc,
             "the alert of a followed sweep")
    code, out, err = stop(proc)
    assert (code, err) == (0, "")
    sweeps = [json.loads(line) for line in out.splitlines()]
    assert sum(s["auto_plans_created"] for s in sweeps) == 1 and sum(s["auto_alerts_created"] for s in sweeps) == 1


def test_several_followers_at_once_create_each_side_effect_once(database_url, workspace, tmp_path):
    followers = 3
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "bench"))
    import workload

    procs = [start(database_url, workspace, "automate", "--follow", "--poll-seconds", POLL, "--batch-size", "150")
             for _ in range(followers)]
    wait_listening(database_url, procs)
    msp = ["--database-url", database_url, "--workspace", workspace, "--format", "json"]
    path = tmp_path / "week.jsonl"
    n = workload.write_jsonl(path, 1_500, prefix="fl", seed=3)
    lines = path.read_bytes().splitlines(keepends=True)
    for k in range(5):  # five commits while the followers run, in time order (no backfilled closes)
        (tmp_path / f"part{k}.jsonl").write_bytes(b"".join(lines[k * len(lines) // 5:(k + 1) * len(lines) // 5]))
        assert invoke(msp + ["ingest", str(tmp_path / f"part{k}.jsonl")]).exit_code == 0
    last = lambda: scalar(database_url, "SELECT max(seq) FROM workflow_events WHERE workspace = %s", workspace)
    done = lambda: scalar(database_url, "SELECT max(last_seq) FROM automation_checkpoints WHERE workspace = %s",
                          workspace) == last()
    wait_for(done, procs[0], "the followers to catch up")
    results = [stop(p) for p in procs]
    assert all(code == 0 for code, _, _ in results), results
    # the same events, one ingest and one sweep, in another workspace
    other = workspace + "_ref"
    ref = ["--database-url", database_url, "--workspace", other, "--format", "json"]
    assert invoke(ref + ["ingest", str(path)]).exit_code == 0 and invoke(ref + ["automate"]).exit_code == 0
    with psycopg.connect(database_url) as conn:
        followed, alone = snapshot(conn, workspace), snapshot(conn, other)
    assert len([e for e in followed["events"] if e[1] == "trade.plan.created"]) > 50
    assert {k: len(v) for k, v in followed.items()} == {k: len(v) for k, v in alone.items()}
    assert followed == alone
    assert stored(database_url, workspace) == n


def test_the_python_api_follows_a_file_and_sweeps_until_stopped(database_url, workspace, tmp_path):
    import msp

    path = tmp_path / "live.jsonl"
    append(path, ev.candidate(candidate_id="c-api", workflow="wf-api"))
    stop_ingest, stop_automate = threading.Event(), threading.Event()
    results = {}
    with msp.connect(database_url, workspace) as ws, msp.connect(database_url, workspace) as other:
        runs = [threading.Thread(target=lambda: results.__setitem__("ingest", ws.ingest_follow(
                    [str(path)], flush_ms=20, stop=stop_ingest))),
                threading.Thread(target=lambda: results.__setitem__("automate", other.automate_follow(
                    poll_seconds=float(POLL), stop=stop_automate)))]
        for run in runs:
            run.start()
        wait_for(lambda: scalar(database_url, "SELECT count(*) FROM alerts WHERE workspace = %s", workspace) == 1)
        stop_ingest.set()
        stop_automate.set()
        for run in runs:
            run.join(WAIT_SECONDS)
    assert results["ingest"].model_dump(mode="json") == {
        "read": 1, "ingested": 1, "duplicates": 0, "conflicts": 0, "rejected": 0, "warnings": 0,
        "checkpoint_skipped": 0, "events_scanned": 0, "auto_plans_created": 0, "auto_alerts_created": 0,
        "auto_journal_drafts_created": 0, "auto_coach_analyses_generated": 0, "auto_coach_action_tasks_created": 0,
        "auto_coach_journal_updates": 0}
    totals = results["automate"]
    assert (totals.notified, totals.auto_plans_created, totals.auto_alerts_created) == (not VIA_POOLER, 1, 1)
