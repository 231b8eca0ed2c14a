"""`msp automate --all-workspaces` finds the workspaces with new events in one
indexed statement (issue 16 item 2, migrations/017_desk_scale.sql)."""

import json

import psycopg

import events as ev
from support import invoke


def run(url, workspace, *args):
    result = invoke(["--database-url", url, "--workspace", workspace, "--format", "json", *args])
    assert result.exit_code == 0, result.stderr
    return result.json()


def pending(url):
    from msp.engine.automations.runner import workspaces_with_events

    with psycopg.connect(url, autocommit=True) as conn:
        return workspaces_with_events(conn, pending_only=True)


def registry(url):
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT workspace, head_seq = (SELECT max(seq) FROM workflow_events e "
                            "WHERE e.workspace = w.workspace), swept_seq = coalesce((SELECT last_seq FROM "
                            "automation_checkpoints c WHERE c.workspace = w.workspace), 0) "
                            "FROM workspaces w ORDER BY 1").fetchall()


def test_pending_workspaces_are_exactly_those_with_unswept_events(fresh_database, tmp_path):
    url = fresh_database
    run(url, "desk-a", "migrate")
    assert pending(url) == []
    for name in ("desk-a", "desk-b", "desk-c", "desk-d"):
        run(url, name, "ingest", ev.write(tmp_path / f"{name}.jsonl", ev.candidate(candidate_id=f"c-{name}")))
    assert pending(url) == ["desk-a", "desk-b", "desk-c", "desk-d"]  # many
    assert run(url, "desk-a", "automate", "--all-workspaces")["auto_plans_created"] == 4
    assert pending(url) == []  # none: the sweep's own events (plans, alerts) were swept with them
    assert registry(url) == [(name, True, True) for name in ("desk-a", "desk-b", "desk-c", "desk-d")]
    again = run(url, "desk-a", "automate", "--all-workspaces")
    assert (again["events_scanned"], again["auto_plans_created"]) == (0, 0)

    run(url, "desk-c", "ingest", ev.write(tmp_path / "c2.jsonl", ev.candidate(candidate_id="c-c2", workflow="wf-2")))
    assert pending(url) == ["desk-c"]  # one
    one = run(url, "desk-a", "automate", "--all-workspaces")
    assert (one["auto_plans_created"], pending(url)) == (1, [])

    # a sweep of one workspace (no --all-workspaces) clears it from the list too
    run(url, "desk-b", "ingest", ev.write(tmp_path / "b2.jsonl", ev.candidate(candidate_id="c-b2", workflow="wf-2")))
    run(url, "desk-d", "ingest", ev.write(tmp_path / "d2.jsonl", ev.candidate(candidate_id="c-d2", workflow="wf-2")))
    assert pending(url) == ["desk-b", "desk-d"]
    run(url, "desk-d", "automate")
    assert pending(url) == ["desk-b"]

    # a replay still walks every workspace
    with psycopg.connect(url) as conn:
        alerts_before = conn.execute("SELECT count(*) FROM alerts").fetchone()[0]
    replay = run(url, "desk-a", "automate", "--all-workspaces", "--replay", "--since", "2000-01-01T00:00:00Z")
    assert replay["auto_plans_created"] == 1  # desk-b's pending candidate; the others exist already
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT count(*) FROM alerts").fetchone()[0] == alerts_before + 1
    assert pending(url) == []


def test_finding_pending_workspaces_is_one_index_scan_over_a_large_desk(fresh_database, tmp_path):
    """2,000 registered workspaces, 3 pending: the plan reads the partial index,
    whose size is the pending workspaces, not the desk."""
    url = fresh_database
    run(url, "w0000", "migrate")
    with psycopg.connect(url) as conn:
        conn.execute("INSERT INTO workspaces (workspace, head_seq, swept_seq) "
                     "SELECT format('w%s', lpad(i::text, 4, '0')), 10 * i, "
                     "CASE WHEN i IN (7, 1500, 1999) THEN 10 * i - 1 ELSE 10 * i END "
                     "FROM generate_series(1, 2000) AS i")
        conn.execute("ANALYZE workspaces")
        conn.commit()
        from msp.engine.sql import query

        plan = conn.execute("EXPLAIN (FORMAT JSON) " + query("runner.pending_workspaces")).fetchone()[0][0]["Plan"]
        index_bytes = conn.execute("SELECT pg_relation_size('workspaces_pending_idx')").fetchone()[0]
    assert plan["Node Type"] in ("Index Scan", "Index Only Scan"), json.dumps(plan)
    assert plan["Index Name"] == "workspaces_pending_idx" and "Plans" not in plan
    assert index_bytes <= 2 * 8192  # the index holds the 3 pending workspaces (a meta page and a leaf)
    assert pending(url) == ["w0007", "w1500", "w1999"]
