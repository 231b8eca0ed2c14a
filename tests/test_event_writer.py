"""Every event msp writes itself, over the fixtures and a generated week:
byte-for-byte the events (ids, payloads, key sets) recorded in
``tests/golden/emitted_events.json``, and each one valid against its schema.

The golden file was recorded from the code before the envelopes were built in
one place (``MSP_RECORD_GOLDEN=1`` rewrites it: only do that for a change
that is meant to alter what msp emits — existing databases are re-swept and
replayed, and a changed event id would store a second plan).
"""

import datetime as dt
import hashlib
import json
import os
from pathlib import Path

import events as ev
from snapshot import snapshot
from support import FIXTURES

GOLDEN = Path(__file__).parent / "golden" / "emitted_events.json"
NOW = "<now>"  # decisions and alert drafts are dated by the database's clock


def _stable(event: dict, source: str) -> dict:
    """The event with the fields dated by now() replaced (after checking they are times)."""
    if source in ("msp:tasks", "msp:alerts"):
        event = json.loads(json.dumps(event))
        dt.datetime.fromisoformat(event["occurred_at"])
        event["occurred_at"] = NOW
        if "decided_at" in event["payload"]:
            dt.datetime.fromisoformat(event["payload"]["decided_at"])
            event["payload"]["decided_at"] = NOW
    return event


def _emit_everything(msp, conn, workspace, tmp_path) -> dict:
    generated = ev.week()
    assert generated == ev.week() and not [e for e in generated if e["event_id"].startswith("ev-")]  # fixed ids
    week = ev.write(tmp_path / "week.jsonl", *generated)
    ingested = msp("ingest", FIXTURES / "history_week.jsonl", FIXTURES / "trading_day.jsonl", week,
                   "--format", "json")
    assert ingested.exit_code == 0, ingested.stderr
    sweep = msp("automate", "--format", "json")
    assert sweep.exit_code == 0, sweep.stderr
    tables = snapshot(conn, workspace)
    del tables["events"]
    alerts = [r[0] for r in conn.execute("SELECT alert_id FROM alerts WHERE workspace = %s ORDER BY alert_id LIMIT 3",
                                         (workspace,)).fetchall()]
    for alert_id in alerts:
        assert msp("alerts", "trigger", alert_id, "--price", "101.25", "--auto-log").exit_code == 0
    tasks = [r[0] for r in conn.execute("SELECT task_id FROM coach_tasks WHERE workspace = %s ORDER BY task_id "
                                        "LIMIT 4", (workspace,)).fetchall()]
    for task_id, verb in zip(tasks, ("accept", "reject", "accept", "reject")):
        assert msp("tasks", verb, task_id).exit_code == 0
    again = msp("automate", "--format", "json")
    assert again.exit_code == 0, again.stderr
    rows = conn.execute("SELECT source, event FROM workflow_events WHERE workspace = %s AND source LIKE 'msp:%%' "
                        "ORDER BY event_id", (workspace,)).fetchall()
    return {"rows": rows, "sweep": sweep.json(), "again": again.json(),
            "tables": json.loads(json.dumps(tables, default=str))}


def test_every_event_msp_emits_is_unchanged_and_valid(msp, conn, workspace, tmp_path):
    from msp.engine.validation import LineChecker

    got = _emit_everything(msp, conn, workspace, tmp_path)
    checker = LineChecker()
    for source, event in got["rows"]:  # every one, not a sample
        checked = checker.check_own(event)  # msp's own ids: refused to input, so checked as msp's
        assert checked.ok and not checked.errors, (event["event_id"], checked.errors)
        assert checker.check(json.dumps(event).encode()).errors[0].path == "/event_id"  # input cannot pose as msp
    current = {
        "events": [_stable(event, source) for source, event in got["rows"]],
        "sources": sorted({source for source, _ in got["rows"]}),
        "first_sweep": got["sweep"],
        "second_sweep": got["again"],
        "tables": got["tables"],
    }
    if os.environ.get("MSP_RECORD_GOLDEN"):
        GOLDEN.write_text(json.dumps(current, indent=1, ensure_ascii=False) + "\n")
    golden = json.loads(GOLDEN.read_text())
    assert current["sources"] == ["msp:alerts", "msp:automate", "msp:tasks"]
    assert len(current["events"]) == len(golden["events"])
    for mine, recorded in zip(current["events"], golden["events"]):
        assert mine == recorded
    assert current == golden


def test_the_envelope_function_is_inlined_into_the_statement(conn):
    """msp_event is a SQL function the planner expands in place: the sweep
    builds its events with no function call per row (a plpgsql function would be one)."""
    plan = conn.execute("EXPLAIN (VERBOSE, FORMAT JSON) SELECT msp_event(kind => 'plan', key => x::text, "
                        "event_type => 'trade.plan.created', occurred_at => 'x', workflow_id => 'w', "
                        "entity_type => 'trade_plan', entity_id => 'p', payload => '{}') "
                        "FROM generate_series(1, 3) AS x").fetchone()[0]
    output = json.dumps(plan)
    assert "msp_event" not in output
    assert "jsonb_build_object" in output and "md5" in output


def test_the_envelope_derives_ids_and_leaves_absent_values_out(conn):
    event = conn.execute("SELECT msp_event(kind => 'decision', key => 'task_a_1', event_type => 'strategy.rule.applied',"
                         " occurred_at => '2026-11-20T10:00:00+00:00', workflow_id => 'wf', entity_type => 'coach',"
                         " entity_id => 'a', actor_type => 'user', payload => jsonb_build_object('k', 1, 'n', NULL))"
                         ).fetchone()[0]
    assert event == {"event_id": "msp.decision." + hashlib.md5(b"task_a_1").hexdigest(),
                     "event_type": "strategy.rule.applied",
                     "event_version": 1, "occurred_at": "2026-11-20T10:00:00+00:00", "actor": {"actor_type": "user"},
                     "entity": {"entity_type": "coach", "entity_id": "a"}, "correlation": {"workflow_id": "wf"},
                     "payload": {"k": 1}}
