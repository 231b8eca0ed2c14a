"""Poison events: an event that an automation cannot apply (the database refuses
what it would write) is set aside with its reason, the checkpoint moves past it,
and every other event is swept exactly once — in its workspace and, with
``--all-workspaces``, in every other one.  A workspace that cannot be swept at
all is named (exit 3) and never starves the others.  (Issue 11.)"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest

from snapshot import snapshot
from support import invoke, poison_event, store_directly

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "trading_day.jsonl"
INDEX_ROW = "index row size 8024 exceeds btree version 4 maximum 2704 for index \"positions_pkey\""


def run(url, workspace, *args, fmt="json"):
    return invoke(["--database-url", url, "--workspace", workspace, "--format", fmt, *map(str, args)])


def load(url: str, workspace: str, tmp_path: Path, *, poison: bool) -> None:
    """The fixture day, with the poison event stored after its first 30 lines."""
    lines = FIXTURE.read_text().splitlines(keepends=True)
    head, tail = tmp_path / f"{workspace}-head.jsonl", tmp_path / f"{workspace}-tail.jsonl"
    head.write_text("".join(lines[:30]))
    tail.write_text("".join(lines[30:]))
    assert run(url, workspace, "ingest", head).exit_code == 0
    if poison:
        store_directly(url, workspace, poison_event(1))
    assert run(url, workspace, "ingest", tail).exit_code == 0


def without_poison(state: dict) -> dict:
    return {**state, "events": [row for row in state["events"] if row[0] != "evt-poison-1"]}


def checkpoint_and_last_seq(url: str, workspace: str) -> tuple:
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT (SELECT last_seq FROM automation_checkpoints WHERE workspace = %(w)s), "
                            "(SELECT max(seq) FROM workflow_events WHERE workspace = %(w)s)",
                            {"w": workspace}).fetchone()


@pytest.mark.parametrize("batch_size", [1, 7, 20_000])
def test_a_poison_event_is_set_aside_and_everything_else_is_swept_exactly_once(scratch_database, tmp_path,
                                                                              batch_size):
    url = scratch_database
    load(url, "desk", tmp_path, poison=True)
    load(url, "ref", tmp_path, poison=False)
    assert run(url, "ref", "automate").exit_code == 0

    sweep = run(url, "desk", "automate", "--batch-size", batch_size)
    assert sweep.exit_code == 0, sweep.stderr
    result = sweep.json()
    assert result["set_aside"] == [{"failure_id": 1, "workspace": "desk", "event_id": "evt-poison-1",
                                    "event_type": "trade.executed", "automation": "lifecycle",
                                    "reason": INDEX_ROW}]
    assert "failed_workspaces" not in result
    assert sweep.stderr.splitlines() == [
        f"msp: workspace desk: event evt-poison-1 (trade.executed) set aside as automation failure 1 "
        f"(lifecycle: {INDEX_ROW}); see msp automate failures list"]
    assert (result["auto_plans_created"], result["auto_alerts_created"], result["auto_coach_analyses_generated"]) \
        == (7, 6, 4)
    checkpoint, last = checkpoint_and_last_seq(url, "desk")
    assert checkpoint == last  # past the poison and everything after it
    with psycopg.connect(url) as conn:
        assert without_poison(snapshot(conn, "desk")) == snapshot(conn, "ref")

    again = run(url, "desk", "automate")
    assert again.exit_code == 0 and again.stderr == ""
    assert again.json()["events_scanned"] == 0 and "set_aside" not in again.json()

    listed = run(url, "desk", "automate", "failures", "list").json()
    assert [(f["failure_id"], f["event_id"], f["event_type"], f["automation"], f["sqlstate"], f["message"],
             f["attempts"], f["status"]) for f in listed] == [
        (1, "evt-poison-1", "trade.executed", "lifecycle", "54000", INDEX_ROW, 1, "failed")]
    shown = run(url, "desk", "automate", "failures", "show", 1).json()
    assert shown["event"]["event_id"] == "evt-poison-1" and shown["seq"] == listed[0]["seq"]
    assert run(url, "desk", "automate", "failures", "show", 2).exit_code == 1
    assert run(url, "ref", "automate", "failures", "show", 1).exit_code == 1  # another workspace's failure

    replay = run(url, "desk", "automate", "--replay", "--since", "2026-11-01", "--batch-size", batch_size)
    assert replay.exit_code == 0, replay.stderr  # a replay passes over it too (and counts the attempt)
    assert [(s["failure_id"], s["event_id"]) for s in replay.json()["set_aside"]] == [(1, "evt-poison-1")]
    assert checkpoint_and_last_seq(url, "desk")[0] == checkpoint

    retried = run(url, "desk", "automate", "failures", "retry", "--all")
    assert retried.exit_code == 1  # it still cannot be applied
    assert retried.json() == {"retried": 1, "applied": 0, "still_failed": 1}
    assert [(f["attempts"], f["status"]) for f in run(url, "desk", "automate", "failures", "list").json()] == \
        [(3, "failed")]
    with psycopg.connect(url) as conn:
        assert without_poison(snapshot(conn, "desk")) == snapshot(conn, "ref")  # the failed retry left nothing


def test_a_set_aside_event_is_applied_by_a_retry_once_it_can_be(scratch_database, tmp_path):
    """After a fix (here: the index that refused the row made able to hold it), a
    retry applies the event, marks it retried, and the next sweep follows up."""
    url = scratch_database
    load(url, "desk", tmp_path, poison=True)
    assert run(url, "desk", "automate").json()["set_aside"][0]["failure_id"] == 1
    with psycopg.connect(url, autocommit=True) as conn:  # the "fix": a small poison the index can hold
        conn.execute("ALTER TABLE workflow_events DISABLE TRIGGER USER")
        conn.execute("UPDATE workflow_events SET event = jsonb_set(event, '{payload,trade_id}', '\"trd-fixed\"') "
                     "WHERE event_id = 'evt-poison-1'")
        conn.execute("ALTER TABLE workflow_events ENABLE TRIGGER USER")
    retried = run(url, "desk", "automate", "failures", "retry", 1)
    assert retried.exit_code == 0, retried.stderr
    assert retried.json() == {"retried": 1, "applied": 1, "still_failed": 0}
    assert [f["status"] for f in run(url, "desk", "automate", "failures", "list", "--status", "all").json()] == \
        ["retried"]
    assert run(url, "desk", "automate", "failures", "list").json() == []
    assert run(url, "desk", "automate", "failures", "retry", 1).exit_code == 1  # nothing waits under that id
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT count(*) FROM positions WHERE workspace = 'desk' AND trade_id = 'trd-fixed'"
                            ).fetchone()[0] == 1


def test_all_workspaces_sweeps_every_workspace_past_a_poison_event(scratch_database, tmp_path):
    url = scratch_database
    for name in ("alpha", "mid", "zulu"):
        load(url, name, tmp_path, poison=name == "mid")
    sweep = run(url, "alpha", "automate", "--all-workspaces")
    assert sweep.exit_code == 0, sweep.stderr
    assert [(s["workspace"], s["event_id"]) for s in sweep.json()["set_aside"]] == [("mid", "evt-poison-1")]
    with psycopg.connect(url) as conn:
        alerts = dict(conn.execute("SELECT workspace, count(*) FROM alerts GROUP BY workspace").fetchall())
        assert alerts == {"alpha": 6, "mid": 6, "zulu": 6}
        assert without_poison(snapshot(conn, "mid")) == snapshot(conn, "zulu") == snapshot(conn, "alpha")


def test_all_workspaces_names_a_workspace_it_cannot_sweep_and_sweeps_the_others(scratch_database, tmp_path):
    """An error that is not the event's (here a trigger raising for one
    workspace's alerts: SQLSTATE P0001) stops that workspace's sweep; the
    workspaces after it are swept all the same, and the command exits 3."""
    url = scratch_database
    for name in ("alpha", "mid", "zulu"):
        load(url, name, tmp_path, poison=False)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE FUNCTION test_refuse() RETURNS trigger LANGUAGE plpgsql AS "
                     "$$ BEGIN RAISE EXCEPTION 'alerts are switched off here'; END $$")
        conn.execute("CREATE TRIGGER test_refuse BEFORE INSERT ON alerts FOR EACH ROW "
                     "WHEN (NEW.workspace = 'mid') EXECUTE FUNCTION test_refuse()")
    sweep = run(url, "alpha", "automate", "--all-workspaces")
    assert sweep.exit_code == 3
    assert sweep.json()["failed_workspaces"] == [
        {"workspace": "mid", "error": "alerts are switched off here (SQLSTATE P0001)"}]
    assert sweep.stderr.splitlines() == [
        "msp: error: workspace mid could not be swept: alerts are switched off here (SQLSTATE P0001)"]
    with psycopg.connect(url) as conn:
        alerts = dict(conn.execute("SELECT workspace, count(*) FROM alerts GROUP BY workspace").fetchall())
        assert alerts == {"alpha": 6, "zulu": 6}
        assert conn.execute("SELECT count(*) FROM automation_failures").fetchone()[0] == 0  # not the events' fault


def test_every_says_one_line_per_set_aside_event(scratch_database, tmp_path):
    url = scratch_database
    load(url, "desk", tmp_path, poison=True)
    errors = tmp_path / "stderr"
    with open(errors, "wb") as err:
        proc = subprocess.Popen([sys.executable, "-m", "msp", "--database-url", url, "--workspace", "desk",
                                 "automate", "--every", "1"], stdout=subprocess.DEVNULL, stderr=err)
    try:
        deadline = time.monotonic() + 120
        while checkpoint_and_last_seq(url, "desk")[0] != checkpoint_and_last_seq(url, "desk")[1]:
            assert proc.poll() is None and time.monotonic() < deadline, errors.read_text()
            time.sleep(0.1)
        time.sleep(2.5)  # let the loop sweep again (however often it does, the event is set aside once)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
    assert proc.returncode == 0
    assert [line for line in errors.read_text().splitlines()] == [
        f"msp: workspace desk: event evt-poison-1 (trade.executed) set aside as automation failure 1 "
        f"(lifecycle: {INDEX_ROW}); see msp automate failures list"]
