"""Ingest, automate and the reports through PgBouncer in transaction pooling
mode — how Neon and most managed services are reached: every transaction may
land on another server connection, so msp may keep no session state."""

from __future__ import annotations

import psycopg

from snapshot import snapshot
from support import FIXTURES, invoke

REPORTS = [("today", "--date", "2026-11-20"), ("conversion", "--date", "2026-11-20", "--days", "7", "--cohort"),
           ("tasks", "list", "--status", "all"), ("alerts", "list"), ("journal", "list"), ("state", "show"),
           ("trace", "wf-2026-11-20-nvda-0935"), ("operator", "--date", "2026-11-20"), ("rejects", "list")]


def run(url, workspace, *args):
    return invoke(["--database-url", url, "--workspace", workspace, "--format", "json", *map(str, args)])


def test_the_whole_loop_through_pgbouncer_equals_a_direct_connection(pooled_database, scratch_database, bouncer):
    assert str(bouncer.port) in pooled_database
    outcomes = {}
    for label, url in (("pooled", pooled_database), ("direct", scratch_database)):
        ingest = run(url, "desk", "ingest", FIXTURES / "trading_day.jsonl", FIXTURES / "bad_lines.jsonl")
        again = run(url, "desk", "ingest", FIXTURES / "trading_day.jsonl", "--from-start")  # the duplicate path
        sweep = run(url, "desk", "automate")
        second = run(url, "desk", "automate")
        task = run(url, "desk", "tasks", "list").json()[0]["task_id"]
        accept = run(url, "desk", "tasks", "accept", task)
        state = run(url, "desk", "state", "set", "--timezone", "America/New_York")
        assert ingest.exit_code == 1 and again.exit_code == 0 and sweep.exit_code == 0, ingest.stderr + sweep.stderr
        assert accept.exit_code == 0 and state.exit_code == 0, accept.stderr + state.stderr
        reports = {" ".join(r): run(url, "desk", *r) for r in REPORTS}
        assert all(r.exit_code == 0 for r in reports.values()), {k: r.stderr for k, r in reports.items()}
        outcomes[label] = {
            "ingest": ingest.json(), "again": again.json(), "sweep": sweep.json(), "second": second.json(),
            "reports": {k: _without_db_ids(r.json()) for k, r in reports.items()},
        }
    for key in outcomes["pooled"]["reports"]:
        assert outcomes["pooled"]["reports"][key] == outcomes["direct"]["reports"][key], key
    assert outcomes["pooled"] == outcomes["direct"]
    assert outcomes["pooled"]["again"]["duplicates"] == 40 and outcomes["pooled"]["second"]["events_scanned"] == 0
    with psycopg.connect(scratch_database) as d, psycopg.connect(_server_side(pooled_database, scratch_database)) as p:
        pooled, alone = snapshot(p, "desk"), snapshot(d, "desk")
    clocked = {"strategy.rule.applied"}  # dated by the moment of the decision
    for data in (pooled, alone):
        data["events"] = [row for row in data["events"] if row[1] not in clocked]
    assert pooled == alone


def _without_db_ids(data):
    if isinstance(data, list):
        return [_without_db_ids(x) for x in data]
    if isinstance(data, dict):
        return {k: _without_db_ids(v) for k, v in data.items()
                if k not in ("reject_id", "rejected_at", "decided_at", "updated_at", "at")}  # wall-clock and sequence values
    return data


def _server_side(pooled_url: str, direct_url: str) -> str:
    """The pooled database's direct URL (same server, other database name)."""
    info = psycopg.conninfo.conninfo_to_dict(direct_url)
    info["dbname"] = pooled_url.rsplit("/", 1)[1]
    return psycopg.conninfo.make_conninfo(**info)
