"""Operator reports (README.md#reports) on real rows, through the Python API: today, conversion, presence,
tasks, state, trace.  What only the command line does (option parsing, exit codes, formats) is tested through it."""

import datetime as dt
import subprocess
import sys

import pytest
from freezegun import freeze_time

import events as ev
import msp as package
from support import FIXTURES

NY = "America/New_York"


@pytest.fixture
def loaded(api):
    result = api.ingest([FIXTURES / "history_week.jsonl", FIXTURES / "trading_day.jsonl"], automate=True)
    assert (result.ingested, result.rejected) == (100, 0)
    return api


def test_today_on_the_example_day(loaded):
    report = loaded.today(date="2026-11-20", tz=NY).model_dump(mode="json")
    assert report["date"] == "2026-11-20" and report["tz"] == NY
    assert report["counts"] == {
        "signals": 10, "candidates": 10, "plans": 7, "executions": 4, "closed": 4, "coach_analyses": 4,
        "tasks_suggested": 4, "tasks_accepted": 0, "tasks_rejected": 0, "auto_alerts": 6,
        "auto_journal_drafts": 7, "coach_journal_updates": 4}
    assert report["conversion"] == {"signal_to_candidate": 100.0, "candidate_to_plan": 70.0,
                                    "plan_to_execution": 57.1, "execution_to_closed": 100.0,
                                    "closed_to_coach": 100.0, "task_accept": 0.0}
    insight = report["last_coach_insight"]
    assert insight["symbol"] == "AMD" and insight["sample_size"] == 19
    assert set(insight) == {"analysis_id", "occurred_at", "symbol", "sample_size", "win_rate", "avg_win",
                            "avg_loss", "expectancy", "recommendations"}
    assert [r["action"] for r in insight["recommendations"]] == ["keep_size_consistent"]


def test_today_on_an_empty_workspace_is_zeros_and_null(api):
    report = api.today(date="2026-11-20").model_dump(mode="json")
    assert set(report["counts"].values()) == {0} and set(report["conversion"].values()) == {0.0}
    assert report["last_coach_insight"] is None and report["tz"] == "UTC"


def test_duplicates_never_inflate_counts(api):
    api.ingest([ev.signal(event_id="one")])
    api.ingest([ev.signal(event_id="one")])
    assert api.today(date="2026-11-20").counts.signals == 1


def test_day_boundary_follows_the_time_zone(api):
    # 23:30 in New York on the 20th is 04:30 UTC on the 21st
    api.ingest([ev.signal(event_id="late", at="2026-11-20T23:30:00-05:00")])
    ny = api.today(date="2026-11-20", tz=NY)
    utc = api.today(date="2026-11-20", tz="UTC")
    assert (ny.counts.signals, utc.counts.signals) == (1, 0)
    assert api.today(date="2026-11-21").counts.signals == 1


def test_default_date_is_today_in_the_zone(api):
    api.ingest([ev.signal(event_id="s", at="2026-11-20T18:00:00-05:00")])
    with freeze_time("2026-11-21T03:30:00Z"):  # still the 20th in New York
        ny = api.today(tz=NY)
        utc = api.today()
    assert (ny.date, ny.counts.signals) == ("2026-11-20", 1)
    assert (utc.date, utc.counts.signals) == ("2026-11-21", 0)


def test_dst_day_is_25_hours_long(api):
    # 2026-11-01: New York falls back; 00:30 EDT and 23:30 EST are both on that local day
    api.ingest([ev.signal(event_id="early", at="2026-11-01T00:30:00-04:00"),
                ev.signal(event_id="late", at="2026-11-01T23:30:00-05:00"),
                ev.signal(event_id="next", at="2026-11-02T00:10:00-05:00")])
    with freeze_time("2026-11-01T20:00:00Z"):
        report = api.today(tz=NY)
    assert (report.date, report.counts.signals) == ("2026-11-01", 2)


def test_tz_falls_back_to_the_operator_state_zone(api, database_url, workspace):
    api.ingest([ev.signal(event_id="late", at="2026-11-20T23:30:00-05:00")])
    api.state_set(timezone=NY)
    report = api.today(date="2026-11-20")
    assert (report.tz, report.counts.signals) == (NY, 1)
    with package.connect(database_url, workspace, tz="UTC") as settings_zone:  # --tz / MSP_TZ
        assert settings_zone.today(date="2026-11-20").tz == "UTC"
    with pytest.raises(package.UsageError, match="unknown time zone 'Mars/Olympus'"):
        api.today(tz="Mars/Olympus")


def test_the_cli_zone_comes_from_msp_tz_and_a_bad_one_is_a_usage_error(msp):
    msp("state", "set", "--timezone", NY)
    assert msp("today", "--date", "2026-11-20", "--format", "json").json()["tz"] == NY
    env_wins = msp("today", "--date", "2026-11-20", "--format", "json", env={"MSP_TZ": "UTC"}).json()
    assert env_wins["tz"] == "UTC"
    assert msp("today", "--tz", "Mars/Olympus").exit_code == 2


def test_conversion_counts_and_cohorts(loaded):
    counts = loaded.conversion(days=1, date="2026-11-20", tz=NY)
    assert counts.conversion.candidate_to_plan == 70.0 and counts.mode == "counts"
    week = loaded.conversion(days=8, date="2026-11-20", tz=NY)
    assert week.counts.closed == 19 and week.conversion.closed_to_coach == 100.0
    cohort = loaded.conversion(cohort=True, days=1, date="2026-11-20", tz=NY)
    stages = {s.rate: (s.converted, s.reached) for s in cohort.stages}
    assert stages["signal_to_candidate"] == (10, 10)
    assert stages["candidate_to_plan"] == (7, 10)
    assert stages["plan_to_execution"] == (4, 7)
    assert all(v <= 100 for v in cohort.conversion.model_dump().values())


def test_conversion_rates_are_zero_without_data_and_bad_days_are_usage_errors(api, msp):
    assert set(api.conversion().conversion.model_dump().values()) == {0.0}
    assert msp("conversion", "--days", "0").exit_code == 2


def test_presence_rules(api):
    now = dt.datetime.now(dt.timezone.utc)
    iso = lambda delta: (now - delta).isoformat()
    api.ingest([ev.signal(direction="long", at=iso(dt.timedelta(hours=1)), event_id="s1"),
                           ev.signal(direction="long", at=iso(dt.timedelta(hours=2)), event_id="s2"),
                           ev.signal(direction="short", at=iso(dt.timedelta(hours=3)), event_id="s3"),
                           ev.signal(direction="short", at=iso(dt.timedelta(hours=9)), event_id="old"),
                           ev.candidate("NVDA", confidence=90, at=iso(dt.timedelta(hours=1)), risk=80,
                                        candidate_id="c1", workflow="wf-nvda"),
                           ev.candidate("AAPL", confidence=90, at=iso(dt.timedelta(hours=2)), risk=70,
                                        candidate_id="c2", workflow="wf-aapl"),
                           ev.candidate("AAPL", confidence=60, at=iso(dt.timedelta(hours=3)), risk=75,
                                        candidate_id="c3", workflow="wf-aapl2"),
                           ev.candidate("TSLA", confidence=95, at=iso(dt.timedelta(hours=30)), risk=10,
                                        candidate_id="c4", workflow="wf-old")])
    report = api.presence().model_dump(mode="json")
    assert report["market_state"] == "risk_on"  # 2 bullish ≥ 1.2 × 1 bearish in the last 8 h
    assert report["volatility"] == "expansion"  # median risk of the last 24 h: 75
    assert report["risk_load"] == 50 and report["pending_tasks"] == 0
    assert [(t["symbol"], t["hits"]) for t in report["top_attention"]] == [("AAPL", 2), ("NVDA", 1)]
    assert report["suggested_actions"][0] == {"label": "Review AAPL", "command": "msp trace wf-aapl",
                                              "reason": "Top attention: confidence 90 over 2 candidate(s)"}
    with pytest.raises(package.UsageError, match="cognitive load must be at most 100, not 120"):
        api.state_set(attention_score=30, cognitive_load=120)  # out of range: nothing set
    assert api.state_show().attention_score is None
    api.state_set(attention_score=30)
    report = api.presence(top=1)
    assert report.volatility == "compression" and report.risk_load == 30
    assert len(report.top_attention) == 1


def test_presence_empty_suggests_a_market_scan(api):
    report = api.presence()
    assert report.market_state == "neutral" and len(report.top_attention) == 0
    assert [a.label for a in report.suggested_actions] == ["Run a market scan"]


def test_market_state_thresholds():
    from msp.engine.reports.presence import market_state

    assert [market_state(b, s) for b, s in [(0, 0), (11, 10), (10, 11), (12, 10), (10, 12), (1, 0), (0, 1), (5, 5)]] == [
        "neutral", "balanced", "balanced", "risk_on", "risk_off", "risk_on", "risk_off", "balanced"]


def test_tasks_list_accept_reject(loaded, conn, workspace):
    pending = loaded.tasks_list(limit=100)
    assert len(pending) == 23 and pending[0].priority == "high"
    task = pending[0].task_id
    assert loaded.tasks_accept(task).message == f"task {task} accepted"
    again = loaded.tasks_accept(task)
    assert again.changed is False and again.message == f"task {task} was already accepted; nothing changed"
    with pytest.raises(package.InputRejected, match="cannot be rejected now"):
        loaded.tasks_reject(task)
    with pytest.raises(package.NotFound, match="task not found: task_nope"):
        loaded.tasks_reject("task_nope")
    assert len(loaded.tasks_list(status="resolved")) == 1
    assert conn.execute("SELECT count(*) FROM workflow_events WHERE workspace = %s AND event_type = "
                        "'strategy.rule.applied'", (workspace,)).fetchone()[0] == 1
    # dated when the operator decided: today in the workspace's zone (the UTC date is tomorrow
    # there from 00:00 UTC until New York's midnight, which failed this test every evening)
    assert loaded.today().counts.tasks_accepted == 1


def test_task_decisions_print_their_message_and_exit_code(loaded, msp):
    task = loaded.tasks_list()[0].task_id
    assert msp("tasks", "accept", task).stdout.strip() == f"task {task} accepted"
    again = msp("tasks", "accept", task)
    assert again.exit_code == 0 and "already accepted; nothing changed" in again.stdout
    refused = msp("tasks", "reject", task)
    assert refused.exit_code == 1 and "cannot be rejected now" in refused.stderr
    assert msp("tasks", "reject", "task_nope").exit_code == 1


def test_task_options_reject_bad_values(msp):
    assert msp("tasks", "list", "--limit", "0").exit_code == 2
    assert msp("tasks", "list", "--limit", "x").exit_code == 2
    assert msp("tasks", "list", "--status", "done").exit_code == 2


def test_concurrent_accepts_make_one_decision(loaded, conn, workspace, database_url):
    task = loaded.tasks_list()[0].task_id
    base = [sys.executable, "-m", "msp", "--database-url", database_url, "--workspace", workspace, "tasks"]
    procs = [subprocess.Popen(base + [verb, task], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
             for verb in ("accept", "accept", "accept", "reject")]
    results = [(p.wait(timeout=60), p.stdout.read().decode(), p.stderr.read().decode()) for p in procs]
    assert conn.execute("SELECT count(*) FROM workflow_events WHERE workspace = %s AND event_type = "
                        "'strategy.rule.applied'", (workspace,)).fetchone()[0] == 1
    status = conn.execute("SELECT status FROM coach_tasks WHERE workspace = %s AND task_id = %s",
                          (workspace, task)).fetchone()[0]
    changed = [r for r in results if r[0] == 0 and "nothing changed" not in r[1]]
    assert len(changed) == 1
    assert all("Traceback" not in r[2] for r in results)
    assert status in ("accepted", "rejected")


def test_another_workspaces_task_is_not_found(loaded, msp):
    task = loaded.tasks_list()[0].task_id
    result = msp("tasks", "accept", task, workspace_name="someone-else")
    assert result.exit_code == 1 and result.stderr.strip() == f"msp: error: task not found: {task}"


def test_state_show_and_set(api, msp):
    empty = api.state_show()
    assert empty.focus is None and empty.last_actions == []
    state = api.state_set(focus="semis", attention_score=72, timezone=NY, active_candidates=["c1", "c2"])
    assert (state.focus, state.attention_score, state.timezone) == ("semis", 72.0, NY)
    assert state.active_candidates == ["c1", "c2"]
    state = api.state_set(mode="review")
    assert state.focus == "semis" and state.mode == "review" and len(state.last_actions) == 2
    with pytest.raises(package.UsageError, match="nothing to set"):
        api.state_set()
    assert msp("state", "set").exit_code == 2
    assert msp("state", "set", "--timezone", "Nowhere/Land").exit_code == 2
    parsed = msp("state", "set", "--active-candidates", "c3, c4", "--format", "json").json()
    assert parsed["active_candidates"] == ["c3", "c4"]


def test_operator_context_events_update_the_state(api):
    api.ingest([ev.context_updated(focus="fx", attention_score=80, timezone=NY)], automate=True)
    state = api.state_show()
    assert (state.focus, state.attention_score, state.timezone) == ("fx", 80.0, NY)


def test_trace_tree(loaded, msp):
    tree = loaded.trace("wf-2026-11-20-nvda-0935")
    assert tree.events == 12  # 8 from the file; plan, draft, coach analysis and its one task by msp
    (root,) = tree.roots
    assert root.event_type == "signal.created"
    candidate = root.children[0]
    assert candidate.event_type == "candidate.created"
    assert {c.event_type for c in candidate.children} == {"trade.plan.created", "trade.executed"}
    assert loaded.trace(candidate.event_id) == tree
    with pytest.raises(package.NotFound):
        loaded.trace("nope")
    text = msp("trace", "wf-2026-11-20-nvda-0935").stdout
    # in a pipe the tree is indented plain text, each event on one whole line (no guides, no wrapping)
    lines = text.splitlines()
    assert lines[0] == "workflow wf-2026-11-20-nvda-0935 (12 events)" and len(lines) == 13
    assert lines[1].startswith("  signal.created  evt-1120-0003  ")
    coach = next(line for line in lines if "coach.analysis.generated" in line)
    assert coach.startswith(" " * 12 + "coach.analysis.generated") and "analysis_id=ca_27ac9fe5cc71" in coach
    assert not any(ch in text for ch in "└├│─\x1b")
    assert msp("trace", "nope").exit_code == 1


def test_csv_and_table_formats(loaded, msp):
    csv_text = msp("today", "--date", "2026-11-20", "--tz", NY, "--format", "csv").stdout
    assert csv_text.splitlines()[0] == "section,key,value" and "counts,signals,10" in csv_text
    table = msp("today", "--date", "2026-11-20", "--tz", NY).stdout
    assert "Today's workflow" in table and "\x1b[" not in table
    presence_csv = msp("presence", "--format", "csv").stdout
    assert presence_csv.startswith("section,key,value")
    assert msp("tasks", "list", "--format", "csv").stdout.startswith("task_id,status,priority")


def stage_rows(conn, workspace):
    return conn.execute("SELECT workflow_id, first_at, last_at, signals, candidates, plans, executions, closed, "
                        "coach_analyses, tasks_suggested, tasks_accepted FROM workflow_stages "
                        "WHERE workspace = %s ORDER BY workflow_id", (workspace,)).fetchall()


def test_the_cohort_stages_follow_every_writer_and_never_count_a_duplicate(loaded, conn, workspace, tmp_path):
    """`conversion --cohort` reads workflow_stages, which a trigger keeps in step
    with the rows each insert actually stored: ingest, the automations, a task decision."""
    before = stage_rows(conn, workspace)
    assert len(before) == 25  # the workflows of the fixtures with a loop event
    flags = {row[0]: row[3:] for row in before}
    assert sum(f[4] for f in flags.values()) == 19 and all(f[5] for f in flags.values() if f[4])  # closed → coach
    assert not any(f[7] for f in flags.values())  # nothing accepted yet
    # a stored event again, dated a year later: a conflict, never inserted, moves no stage time
    import json

    stored = next(e for e in map(json.loads, filter(str.strip, (FIXTURES / "trading_day.jsonl").open()))
                  if e.get("event_id") == "evt-1120-0026")  # AMD's close
    later = tmp_path / "later.jsonl"
    later.write_text(json.dumps({**stored, "occurred_at": "2027-11-20T16:00:00-05:00"}) + "\n")
    again = loaded.ingest(later, automate=True)
    assert (again.ingested, again.conflicts) == (0, 1)
    assert stage_rows(conn, workspace) == before
    task, workflow = conn.execute("SELECT task_id, workflow_id FROM coach_tasks WHERE workspace = %s "
                                  "ORDER BY task_id LIMIT 1", (workspace,)).fetchone()
    assert loaded.tasks_accept(task).changed
    after = {row[0]: row[3:] for row in stage_rows(conn, workspace)}
    assert after[workflow][7] is True and sum(f[7] for f in after.values()) == 1
    cohort = loaded.conversion(cohort=True, days=30, date="2026-11-20")
    assert cohort.workflows == 25
    assert {s.rate: (s.converted, s.reached) for s in cohort.stages}["task_accept"] == (1, 19)


def test_the_migration_backfills_the_stages_of_history_exactly_as_the_trigger_keeps_them(loaded, conn, workspace):
    from msp.engine.migrations import load_migrations

    kept = stage_rows(conn, workspace)
    migration = next(m for m in load_migrations() if m.filename == "010_workflow_stages.sql")
    with conn.transaction():
        conn.execute("DELETE FROM workflow_stages WHERE workspace = %s", (workspace,))
        conn.execute(migration.sql)  # idempotent: re-running it only rebuilds what is missing
    assert stage_rows(conn, workspace) == kept and len(kept) == 25


def test_presence_counts_pending_tasks_from_a_count_the_triggers_keep_exact(loaded, conn, workspace):
    def pending():
        return loaded.presence().pending_tasks

    def truth():
        return conn.execute("SELECT count(*) FROM coach_tasks WHERE workspace = %s AND status = 'pending'",
                            (workspace,)).fetchone()[0]

    assert pending() == truth() == 23
    first, second, third = [t.task_id for t in loaded.tasks_list(limit=3)]
    assert loaded.tasks_accept(first).changed
    assert loaded.tasks_reject(second).changed
    with pytest.raises(package.InputRejected):  # refused: decided once
        loaded.tasks_reject(first)
    assert pending() == truth() == 21
    again = loaded.ingest([FIXTURES / "history_week.jsonl", FIXTURES / "trading_day.jsonl"], automate=True)
    assert again.rejected == 0 and pending() == 21  # duplicates suggest nothing twice
    conn.execute("UPDATE coach_tasks SET detail = detail WHERE workspace = %s", (workspace,))
    assert pending() == 21  # an update that moves no status moves no count
    conn.execute("DELETE FROM coach_tasks WHERE workspace = %s AND task_id IN (%s, %s)", (workspace, first, third))
    assert pending() == truth() == 20  # a hand clean-up: the pending one removed counts down, the decided one not
    from msp.engine.migrations import load_migrations

    migration = next(m for m in load_migrations() if m.filename == "011_pending_task_counts.sql")
    with conn.transaction():
        conn.execute("UPDATE pending_task_counts SET pending = 999 WHERE workspace = %s", (workspace,))
        conn.execute(migration.sql)  # re-running it recounts
    assert pending() == truth() == 20


def test_a_cohort_holds_the_workflows_with_a_loop_event_in_the_window_not_those_merely_spanning_it(api):
    """A workflow signalled on Sep 1 and closed on Oct 20 (a swing trade, or a task decided
    weeks later) is in the cohort of a week holding either event, not of a week between."""
    assert api.ingest([ev.signal(workflow="wf-span", at="2026-09-01T10:00:00Z"),
                       ev.closed("t-span", workflow="wf-span", at="2026-10-20T15:00:00Z"),
                       ev.signal("MSFT", workflow="wf-inside", at="2026-09-17T10:00:00Z")]).rejected == 0

    def cohort(date):
        return api.conversion(cohort=True, days=7, date=date, tz="UTC").workflows

    # Sep 1 (the signal), Sep 14–20 (only wf-inside), Oct 15–21 (the close), Nov 14–20 (nothing)
    assert [cohort(d) for d in ("2026-09-03", "2026-09-20", "2026-10-21", "2026-11-20")] == [1, 1, 1, 0]
