"""The automations (docs/ARCHITECTURE.md#the-automations) against a real server: outcomes, exactly-once, crashes, concurrency."""

import json
from decimal import Decimal
import signal
import subprocess
import sys
import threading
import time

import psycopg
import pytest

import events as ev
from support import FIXTURES
from snapshot import counts, snapshot


def ingest(msp, tmp_path, *events, name="in.jsonl"):
    result = msp("ingest", ev.write(tmp_path / name, *events), "--format", "json")
    assert result.exit_code == 0, result.stderr
    return result.json()


def automate(msp, *args):
    result = msp("automate", "--format", "json", *args)
    assert result.exit_code == 0, result.stderr
    return result.json()


def one(conn, sql, *params):
    return conn.execute(sql, params).fetchone()


def test_a_passing_candidate_becomes_a_plan_an_alert_and_a_draft(msp, conn, workspace, tmp_path):
    cand = ev.candidate("NVDA", "pass", 82, workflow="wf-n", candidate_id="c-n", event_id="cand-ev", entry=148.2,
                        bias="bullish", risk=38)
    ingest(msp, tmp_path, cand, ev.candidate("META", "fail", 40, workflow="wf-m", candidate_id="c-m"),
           ev.candidate("AMD", "watch", 60, workflow="wf-a", candidate_id="c-a"))
    out = automate(msp)
    assert out["auto_plans_created"] == 1 and out["auto_alerts_created"] == 1
    assert out["auto_journal_drafts_created"] == 1
    plan = one(conn, "SELECT event, actor_type, parent_event_id, workflow_id, occurred_at FROM workflow_events "
                     "WHERE workspace = %s AND event_type = 'trade.plan.created'", workspace)
    event, actor, parent, workflow, occurred = plan
    assert (actor, parent, workflow) == ("system", "cand-ev", "wf-n")
    assert event["occurred_at"] == cand["occurred_at"]  # dated by the trigger, not by the run
    payload = event["payload"]
    dp = cand["payload"]["decision_packet"]
    assert payload == {
        "plan_id": "plan_c-n", "symbol": "NVDA", "direction": "long", "timeframe": "1h",
        "setup": {"source": "momentum-scanner", "confidence": 82, "decision_packet_id": dp["id"]},
        "entry": {"zone": 148.2},
        "risk": {"invalidation": 95.0, "targets": [110.0, 120.0], "risk_score": 38, "volatility_regime": "moderate"},
        "links": {"candidate_id": "c-n", "signal_id": "sig-wf-n", "decision_packet_id": dp["id"]}}
    assert one(conn, "SELECT alert_id, condition, level, status, occurred_at FROM alerts WHERE workspace = %s",
               workspace)[:4] == ("alert_plan_c-n", "price_above", Decimal("148.2"), "active")
    draft = one(conn, "SELECT journal_id, status, origin, side, tags, risk_score FROM journal_entries "
                      "WHERE workspace = %s", workspace)
    assert draft == ("jd_plan_c-n", "open", "plan_draft", "long",
                     ["auto_plan_draft", "workflow_wf-n", "plan_plan_c-n", f"dp_{dp['id']}"], 38)
    assert one(conn, "SELECT count(*) FROM workflow_events WHERE workspace = %s AND event_type = "
                     "'journal.draft.created'", workspace) == (1,)


@pytest.mark.parametrize("bias, entry, condition, level", [
    ("bearish", {"zone": 50.0}, "price_below", 50.0),
    ("bullish", {"low": 10.0, "high": 12.0}, "price_above", 11.0),
    ("bullish", {"current_price": 7.5}, "price_above", 7.5),
])
def test_alert_level_and_condition(msp, conn, workspace, tmp_path, bias, entry, condition, level):
    direction = "short" if bias == "bearish" else "long"
    ingest(msp, tmp_path, ev.plan("p1", direction=direction, entry=entry))
    automate(msp)
    assert one(conn, "SELECT condition, level FROM alerts WHERE workspace = %s", workspace) == (condition, level)


def test_neutral_and_levelless_plans_get_no_alert_and_are_reported(msp, conn, workspace, tmp_path):
    ingest(msp, tmp_path, ev.plan("p-neutral", direction="neutral", entry={"zone": 5.0}), ev.plan("p-nolevel"))
    out = automate(msp)
    assert out["auto_alerts_created"] == 0 and out["auto_journal_drafts_created"] == 2
    assert sorted((s["item"], s["reason"]) for s in out["skipped"] if s["automation"] == "smart_alert") == [
        ("p-neutral", "neutral plan: no alert"),
        ("p-nolevel", "plan has no price level (entry zone, low/high or current price)")]


def test_no_second_plan_when_the_candidate_already_has_one(msp, conn, workspace, tmp_path):
    cand = ev.candidate(candidate_id="c-1", event_id="c-ev")
    manual = ev.plan("my-plan", candidate_id="c-1", entry={"zone": 1.0})
    ingest(msp, tmp_path, cand, manual)
    out = automate(msp)
    assert out["auto_plans_created"] == 0
    assert out["skipped"][0] == {"automation": "plan_from_candidate", "item": "c-1",
                                 "reason": "a plan for this candidate already exists"}


def test_lifecycle_positions_and_journal(msp, conn, workspace, tmp_path):
    ingest(msp, tmp_path,
           ev.executed("t1", qty=10, price=100.0), ev.updated("t1", 104.0, at="2026-11-20T11:00:00-05:00"),
           ev.updated("t1", 103.0, at="2026-11-20T10:30:00-05:00"),  # an older quote arriving late
           ev.executed("t2", side="SHORT", qty=5, price=50.0), ev.updated("t2", 48.0),
           ev.journal_updated("j1", entry_price=100.0, notes="first"), ev.journal_completed("j1", "win", 30.0))
    automate(msp)
    rows = conn.execute("SELECT trade_id, status, last_price, unrealized_pnl FROM positions WHERE workspace = %s "
                        "ORDER BY trade_id", (workspace,)).fetchall()
    assert rows == [("t1", "open", 104, 40), ("t2", "open", 48, 10)]
    ingest(msp, tmp_path, ev.closed("t1", pnl=55.0, close=105.5), name="close.jsonl")
    automate(msp)
    assert one(conn, "SELECT status, realized_pnl, close_price, unrealized_pnl FROM positions "
                     "WHERE workspace = %s AND trade_id = 't1'", workspace) == ("closed", 55, 105.5, None)
    assert one(conn, "SELECT status, outcome, realized_pnl, notes FROM journal_entries WHERE workspace = %s "
                     "AND journal_id = 'j1'", workspace) == ("completed", "win", 30, "first")


def closes(*pnls, start_hour=10):
    return [ev.closed(f"t{i}", pnl, workflow=f"wf-{i}", event_id=f"close-{i}",
                      at=f"2026-11-20T{start_hour + i:02d}:00:00-05:00") for i, pnl in enumerate(pnls)]


def analysis(conn, workspace, close_event_id):
    return one(conn, "SELECT sample_size, win_rate, avg_win, avg_loss, expectancy, recommendations "
                     "FROM coach_analyses WHERE workspace = %s AND close_event_id = %s", workspace, close_event_id)


def test_coach_statistics_and_recommendations_exactly(msp, conn, workspace, tmp_path):
    ingest(msp, tmp_path, *closes(100, -50, 30, -20, 0, -40))
    out = automate(msp)
    assert out["auto_coach_analyses_generated"] == 6
    # first close: 1 trade, a win
    size, win_rate, avg_win, avg_loss, expectancy, recs = analysis(conn, workspace, "close-0")
    assert (size, float(win_rate), float(avg_win), float(avg_loss), float(expectancy)) == (1, 100, 100, 0, 100)
    assert [(r["priority"], r["action"]) for r in recs] == [("high", "increase_sample_size"),
                                                           ("medium", "keep_size_consistent")]
    # sixth close: wins 100, 30; losses 50, 20, 40; breakeven 0 → win rate 2/6
    size, win_rate, avg_win, avg_loss, expectancy, recs = analysis(conn, workspace, "close-5")
    assert size == 6
    assert round(float(win_rate), 4) == round(200 / 6, 4)
    assert float(avg_win) == 65 and round(float(avg_loss), 6) == round(110 / 3, 6)
    expected = (200 / 6 / 100) * 65 - (1 - 200 / 6 / 100) * (110 / 3)  # ≈ -2.78: negative
    assert round(float(expectancy), 6) == round(expected, 6)
    assert [(r["priority"], r["action"]) for r in recs] == [("medium", "tighten_entry_filter")]
    # tasks: the first three recommendations of each analysis
    assert out["auto_coach_action_tasks_created"] == sum(
        min(3, len(r[0])) for r in conn.execute("SELECT recommendations FROM coach_analyses WHERE workspace = %s",
                                                (workspace,)).fetchall())


def test_reward_to_risk_and_discipline_recommendations(msp, conn, workspace, tmp_path):
    ingest(msp, tmp_path, *closes(10, -100, 10, -100, 10, 10))
    automate(msp)
    recs = analysis(conn, workspace, "close-5")[5]
    assert [r["action"] for r in recs] == ["improve_reward_to_risk"]
    other = f"{workspace}-b"
    msp("ingest", ev.write(tmp_path / "even.jsonl", *closes(50, -50, 50, -50, 50, -50)),
        workspace_name=other)
    msp("automate", workspace_name=other)
    recs = analysis(conn, other, "close-5")[5]
    assert [(r["priority"], r["action"]) for r in recs] == [("medium", "continue_process_discipline")]


def test_sample_is_the_last_20_closes_by_close_time(msp, conn, workspace, tmp_path):
    pnls = [(-10 if i < 5 else 10) for i in range(25)]
    events = [ev.closed(f"t{i}", p, workflow=f"wf-{i}", event_id=f"close-{i:02d}",
                        at=f"2026-11-{1 + i:02d}T10:00:00-05:00") for i, p in enumerate(pnls)]
    ingest(msp, tmp_path, *reversed(events))  # ingest order must not matter
    automate(msp)
    size, win_rate, *_ = analysis(conn, workspace, "close-24")
    assert (size, float(win_rate)) == (20, 100)
    size, win_rate, *_ = analysis(conn, workspace, "close-19")
    assert (size, float(win_rate)) == (20, 75)


def test_tasks_and_journal_enrichment(msp, conn, workspace, tmp_path):
    cand = ev.candidate(candidate_id="c-1", workflow="wf-e")
    ingest(msp, tmp_path, cand, ev.executed("t1", workflow="wf-e", plan_id="plan_c-1"),
           ev.closed("t1", pnl=25.0, workflow="wf-e", event_id="close-e"))
    out = automate(msp)
    assert out["auto_coach_journal_updates"] == 1
    tasks = conn.execute("SELECT task_id, position, priority, action, status FROM coach_tasks WHERE workspace = %s "
                         "ORDER BY position", (workspace,)).fetchall()
    analysis_id = one(conn, "SELECT analysis_id FROM coach_analyses WHERE workspace = %s", workspace)[0]
    assert tasks == [(f"task_{analysis_id}_1", 1, "high", "increase_sample_size", "pending"),
                     (f"task_{analysis_id}_2", 2, "medium", "keep_size_consistent", "pending")]
    assert one(conn, "SELECT count(*) FROM workflow_events WHERE workspace = %s AND event_type = "
                     "'strategy.rule.suggested'", workspace) == (2,)
    notes, tags = one(conn, "SELECT notes, tags FROM journal_entries WHERE workspace = %s AND journal_id = "
                            "'jd_plan_c-1'", workspace)
    assert notes.count(f"Coach {analysis_id}: win rate 100.00%, avg win 25.00, avg loss 0.00, expectancy 25.00 "
                       "over 1 trade.") == 1
    assert "- [high] increase_sample_size:" in notes and "coach_enriched" in tags
    # a replay adds nothing, and the note is not appended twice
    out = automate(msp, "--replay", "--since", "2026-01-01")
    assert all(out[k] == 0 for k in out if k.startswith("auto_"))
    assert one(conn, "SELECT notes FROM journal_entries WHERE workspace = %s AND journal_id = 'jd_plan_c-1'",
               workspace)[0] == notes


def test_fixtures_full_run_then_second_sweep_and_replay_create_nothing(msp, conn, workspace):
    first = msp("ingest", FIXTURES / "history_week.jsonl", FIXTURES / "trading_day.jsonl", "--automate",
                "--format", "json").json()
    assert first["ingested"] == 100 and first["auto_plans_created"] == 22
    assert first["auto_coach_analyses_generated"] == 19
    before = snapshot(conn, workspace)
    second = automate(msp)
    assert second["events_scanned"] == 0 and all(second[k] == 0 for k in second if k.startswith("auto_"))
    replay = automate(msp, "--replay", "--since", "2026-11-01")
    assert all(replay[k] == 0 for k in replay if k.startswith("auto_"))
    assert snapshot(conn, workspace) == before


def test_emitted_events_pass_our_own_schemas(msp, conn, workspace):
    from msp.engine.validation import LineChecker

    msp("ingest", FIXTURES / "history_week.jsonl", FIXTURES / "trading_day.jsonl", "--automate")
    msp("alerts", "trigger", "alert_plan_cand-2026-11-20-NVDA-0935", "--price", "149", "--auto-log")
    checker = LineChecker()
    rows = conn.execute("SELECT event FROM workflow_events WHERE workspace = %s AND actor_type = 'system'",
                        (workspace,)).fetchall()
    assert len(rows) > 50
    for (event,) in rows:
        checked = checker.check_own(event)  # msp's own ids: refused to input, checked as msp's
        assert checked.ok, (event["event_type"], checked.errors)


def test_ingest_order_does_not_change_the_analyses(msp, conn, workspace, tmp_path):
    lines = (FIXTURES / "history_week.jsonl").read_text().splitlines() + \
        (FIXTURES / "trading_day.jsonl").read_text().splitlines()
    forward, backward = tmp_path / "f.jsonl", tmp_path / "b.jsonl"
    forward.write_text("\n".join(lines) + "\n")
    backward.write_text("\n".join(reversed(lines)) + "\n")
    other = f"{workspace}-rev"
    msp("ingest", forward, "--automate")
    msp("ingest", backward, "--automate", workspace_name=other)
    a = snapshot(conn, workspace)
    b = snapshot(conn, other)
    assert a["analyses"] == b["analyses"] and len(a["analyses"]) == 19
    assert a["tasks"] == b["tasks"]


def test_runner_only_touches_its_own_workspace_unless_asked(fresh_database, tmp_path):
    from support import invoke

    def run(workspace, *args):
        result = invoke(["--database-url", fresh_database, "--workspace", workspace, "--format", "json", *args])
        assert result.exit_code == 0, result.stderr
        return result.json()

    run("desk-a", "ingest", ev.write(tmp_path / "a.jsonl", ev.candidate(candidate_id="c-a")))
    run("desk-b", "ingest", ev.write(tmp_path / "b.jsonl", ev.candidate(candidate_id="c-b")))
    run("desk-c", "ingest", ev.write(tmp_path / "c.jsonl", ev.candidate(candidate_id="c-c")))
    assert run("desk-a", "automate")["auto_plans_created"] == 1
    with psycopg.connect(fresh_database) as conn:
        assert one(conn, "SELECT count(*) FROM alerts WHERE workspace <> 'desk-a'") == (0,)
    out = run("desk-a", "automate", "--all-workspaces")
    assert out["auto_plans_created"] == 2
    with psycopg.connect(fresh_database) as conn:
        assert conn.execute("SELECT workspace, plan_id FROM alerts ORDER BY 1").fetchall() == [
            ("desk-a", "plan_c-a"), ("desk-b", "plan_c-b"), ("desk-c", "plan_c-c")]


def test_four_runners_at_once_create_everything_exactly_once(msp, conn, workspace, database_url):
    msp("ingest", FIXTURES / "history_week.jsonl", FIXTURES / "trading_day.jsonl")
    procs = [subprocess.Popen([sys.executable, "-m", "msp", "--database-url", database_url, "--workspace", workspace,
                               "automate", "--batch-size", "7", "--format", "json"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(4)]
    outputs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0, 0], [o[1] for o in outputs]
    totals = {}
    for out, _ in outputs:
        for key, value in json.loads(out).items():
            if isinstance(value, int):
                totals[key] = totals.get(key, 0) + value
    assert totals["auto_plans_created"] == 22 and totals["auto_alerts_created"] == 21
    assert totals["auto_journal_drafts_created"] == 22 and totals["auto_coach_analyses_generated"] == 19
    assert counts(conn, workspace)["alerts"] == 21 and counts(conn, workspace)["analyses"] == 19
    assert counts(conn, workspace)["tasks"] == totals["auto_coach_action_tasks_created"]


def test_sigkill_mid_sweep_loses_nothing_and_the_next_sweep_finishes(msp, conn, workspace, database_url, tmp_path):
    reference = f"{workspace}-ref"
    events = []
    for day in range(1, 29):
        for n in range(6):
            wf = f"wf-{day}-{n}"
            at = f"2026-10-{day:02d}T{10 + n:02d}:00:00-04:00"
            events += [ev.candidate(f"S{n}", "pass", 80, workflow=wf, candidate_id=f"c-{day}-{n}", at=at),
                       ev.closed(f"t-{day}-{n}", (-1) ** n * (10 + n), symbol=f"S{n}", workflow=wf, at=at)]
    path = ev.write(tmp_path / "big.jsonl", *events)
    msp("ingest", path)
    msp("ingest", path, workspace_name=reference)
    msp("automate", workspace_name=reference)
    killed = 0
    for delay in (0.8, 1.2, 1.6):
        proc = subprocess.Popen([sys.executable, "-m", "msp", "--database-url", database_url, "--workspace",
                                 workspace, "automate", "--batch-size", "3"], stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        time.sleep(delay)
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            killed += 1
        proc.wait()
    assert killed >= 1, "the sweep finished before it could be killed; use more events"
    msp("automate")
    mine, ref = snapshot(conn, workspace), snapshot(conn, reference)
    for table in ("alerts", "journal", "analyses", "tasks", "enrichments", "positions"):
        assert mine[table] == ref[table], table
    assert len(mine["events"]) == len(ref["events"])


def test_overlapping_ingests_racing_a_runner_lose_nothing(msp, conn, workspace, database_url, tmp_path):
    shared = [ev.candidate(f"X{i}", "pass", 80, workflow=f"wf-s{i}", candidate_id=f"cs-{i}") for i in range(150)]
    only_a = [ev.candidate(f"A{i}", "pass", 80, workflow=f"wf-a{i}", candidate_id=f"ca-{i}") for i in range(150)]
    only_b = [ev.candidate(f"B{i}", "pass", 80, workflow=f"wf-b{i}", candidate_id=f"cb-{i}") for i in range(150)]
    file_a = ev.write(tmp_path / "a.jsonl", *(shared + only_a))
    file_b = ev.write(tmp_path / "b.jsonl", *(only_b + shared))
    base = [sys.executable, "-m", "msp", "--database-url", database_url, "--workspace", workspace]
    runners_stop = threading.Event()

    def keep_sweeping():
        while not runners_stop.is_set():
            subprocess.run(base + ["automate", "--batch-size", "13"], capture_output=True)

    sweeper = threading.Thread(target=keep_sweeping)
    sweeper.start()
    ingests = [subprocess.Popen(base + ["ingest", f, "--batch-size", "10", "--format", "json"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE) for f in (file_a, file_b)]
    results = [json.loads(p.communicate(timeout=120)[0]) for p in ingests]
    runners_stop.set()
    sweeper.join()
    msp("automate")
    assert sum(r["ingested"] for r in results) == 450
    assert sum(r["duplicates"] for r in results) == 150
    assert one(conn, "SELECT count(*) FROM workflow_events WHERE workspace = %s AND event_type = "
                     "'trade.plan.created'", workspace) == (450,)
    assert one(conn, "SELECT count(*) FROM alerts WHERE workspace = %s", workspace) == (450,)
    assert one(conn, "SELECT last_seq = (SELECT max(seq) FROM workflow_events WHERE workspace = %s) "
                     "FROM automation_checkpoints WHERE workspace = %s", workspace, workspace) == (True,)


def test_every_loop_stops_cleanly_on_sigterm(database_url, workspace, tmp_path):
    proc = subprocess.Popen([sys.executable, "-m", "msp", "--database-url", database_url, "--workspace", workspace,
                             "automate", "--every", "1", "--format", "json"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    guard = threading.Timer(120, proc.kill)  # a loop that never prints must not hang the suite
    guard.start()
    first_two = [proc.stdout.readline(), proc.stdout.readline()]  # two sweeps, one JSON line each (flushed)
    guard.cancel()
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    assert b"Traceback" not in err
    assert all(json.loads(line)["events_scanned"] == 0 for line in first_two + out.splitlines())


def test_alert_trigger_and_auto_log(msp, conn, workspace, tmp_path):
    ingest(msp, tmp_path, ev.candidate(candidate_id="c-1"))
    automate(msp)
    assert msp("alerts", "trigger", "alert_nope", "--price", "1").exit_code == 1
    early = msp("journal", "auto-log", "alert_plan_c-1")
    assert early.exit_code == 1 and "has not been triggered yet" in early.stderr
    result = msp("alerts", "trigger", "alert_plan_c-1", "--price", "101.5", "--format", "json")
    assert result.exit_code == 0 and result.json()["status"] == "triggered"
    again = msp("alerts", "trigger", "alert_plan_c-1", "--price", "102")
    assert again.exit_code == 1 and "already triggered" in again.stderr
    first = msp("journal", "auto-log", "alert_plan_c-1", "--format", "json").json()
    second = msp("journal", "auto-log", "alert_plan_c-1", "--format", "json").json()
    assert (first["created"], second["created"]) == (True, False)
    assert one(conn, "SELECT origin, status, side FROM journal_entries WHERE workspace = %s AND journal_id = "
                     "'ja_alert_plan_c-1'", workspace) == ("alert_draft", "open", "long")
    assert one(conn, "SELECT count(*) FROM workflow_events WHERE workspace = %s AND event_type = "
                     "'journal.draft.created' AND source = 'msp:alerts'", workspace) == (1,)
    shown = msp("journal", "show", "ja_alert_plan_c-1", "--format", "json").json()
    assert shown["alert_id"] == "alert_plan_c-1"


def test_a_bulk_load_and_a_catch_up_sweep_refresh_the_planner_statistics(fresh_database, tmp_path):
    """With autovacuum off or behind, a year imported at once would be planned as
    an empty table: ingest and the runner ANALYZE after bulk changes themselves."""
    import sys

    from support import ROOT, invoke

    sys.path.insert(0, str(ROOT / "bench"))
    import workload

    path = tmp_path / "bulk.jsonl"
    n = workload.write_jsonl(path, 12_000, prefix="bulk", seed=3)
    base = ["--database-url", fresh_database, "--workspace", "bulk", "--format", "json"]
    assert invoke(base + ["migrate"]).exit_code == 0

    def analyzed():
        with psycopg.connect(fresh_database) as c:
            # ANALYZEs run by msp (autovacuum's, where it is on, are counted apart)
            return dict(c.execute("SELECT relname, analyze_count FROM pg_stat_user_tables").fetchall())

    before = analyzed()
    assert invoke(base + ["ingest", str(path)]).json()["ingested"] == n
    after_ingest = analyzed()
    assert after_ingest["workflow_events"] > before["workflow_events"]
    assert after_ingest["coach_tasks"] == before["coach_tasks"]  # ingest touches only the events
    assert invoke(base + ["automate"]).exit_code == 0
    after_sweep = analyzed()
    for table in ("closed_trades", "positions", "alerts", "journal_entries", "coach_tasks"):  # filled from empty
        assert after_sweep[table] > after_ingest[table], table
    # the sweep's own events (about 5,000 on 12,000) did not double the event table, but they are
    # event types the ingest's statistics never saw: one ANALYZE of it, at the end of the sweep
    assert after_sweep["workflow_events"] == after_ingest["workflow_events"] + 1
    with psycopg.connect(fresh_database) as c:
        estimated = c.execute("SELECT reltuples FROM pg_class WHERE relname = 'workflow_events'").fetchone()[0]
        known_types = c.execute("SELECT most_common_vals::text::text[] FROM pg_stats "
                                "WHERE tablename = 'workflow_events' AND attname = 'event_type'").fetchone()[0]
    assert estimated >= n  # the planner knows the table is not empty
    assert {"trade.plan.created", "coach.analysis.generated", "strategy.rule.suggested"} <= set(known_types)
    # a small sweep after it changes too little to ANALYZE anything
    small = tmp_path / "small.jsonl"
    workload.write_jsonl(small, 200, prefix="small", seed=5)
    assert invoke(base + ["ingest", str(small)]).exit_code == 0
    assert invoke(base + ["automate"]).exit_code == 0
    assert analyzed() == after_sweep


def test_a_catch_up_beside_a_larger_workspace_teaches_the_planner_that_workspace(fresh_database, tmp_path,
                                                                                 monkeypatch):
    """A desk's new trader catching up beside another's history never doubles a
    shared table, so doubling alone never refreshed the statistics: the planner,
    sure the new workspace held a row or two, walked all of its rows for each
    look-up (one batch of a 150,000-event catch-up ran for over ten minutes).  The
    sweep also refreshes a table once it has added a twentieth of its rows.
    (A backlog of 1,000 counts as a catch-up here, to keep the test small.)"""
    import sys

    from msp.engine import statistics
    from support import ROOT, invoke

    sys.path.insert(0, str(ROOT / "bench"))
    import workload

    monkeypatch.setattr(statistics, "BULK_ROWS", 1_000)
    for workspace, lines, seed in (("big", 6_000, 3), ("new", 1_500, 5)):
        path = tmp_path / f"{workspace}.jsonl"
        workload.write_jsonl(path, lines, prefix=workspace, seed=seed)
        base = ["--database-url", fresh_database, "--workspace", workspace, "--format", "json"]
        assert invoke(base + ["ingest", str(path)]).exit_code == 0
        assert invoke(base + ["automate", "--batch-size", "300"]).exit_code == 0

    with psycopg.connect(fresh_database) as c:
        known = dict(c.execute("SELECT tablename, most_common_vals::text::text[] FROM pg_stats "
                               "WHERE attname = 'workspace' AND tablename IN ('positions', 'journal_entries', "
                               "'closed_trades', 'alerts', 'coach_tasks')").fetchall())
    # the look-up tables during the sweep, the reports' tables at its end
    assert known.keys() == {"positions", "journal_entries", "closed_trades", "alerts", "coach_tasks"}
    for table, workspaces in known.items():
        assert set(workspaces) == {"big", "new"}, table


def _plan_nodes(node):
    yield node
    for child in node.get("Plans", []):
        yield from _plan_nodes(child)


def test_the_plan_check_probes_its_index_whatever_the_statistics_say(msp, conn, workspace, tmp_path):
    """"A plan for this candidate already exists" is a per-candidate index probe:
    as an anti-join, with statistics that had not yet seen the sweep's own plans,
    the planner rescanned every plan of the workspace once per candidate.  And
    under row-level security (the app role) every probe can use its index: an
    expression with md5 in it could not, and scanned the events per candidate."""
    from msp.engine.automations.base import batch_query
    from msp.engine.db import workspace_transaction
    from msp.engine.sql import compose

    ingest(msp, tmp_path, *[ev.candidate("NVDA", "pass", 80, workflow=f"wf-{i}", candidate_id=f"c-{i}")
                            for i in range(200)])
    automate(msp)
    conn.execute("ANALYZE workflow_events")  # enough rows that reading the workspace costs more than a probe
    candidates = batch_query("plan_from_candidate.candidates")
    for statement in (compose("plan_from_candidate.plan_events", candidates=candidates),
                      compose("plan_from_candidate.skipped", candidates=candidates)):
        with workspace_transaction(conn, workspace):
            assert conn.execute("SELECT current_user").fetchone()[0] == "msp_app"
            conn.execute("SET LOCAL enable_seqscan = off")  # what is left a scan, no index condition could serve
            plan = conn.execute("EXPLAIN (FORMAT JSON) " + statement,
                                {"workspace": workspace, "lo": 0, "hi": 2**62, "since": None}).fetchone()[0]
        nodes = list(_plan_nodes(plan[0]["Plan"]))
        assert not [n for n in nodes if "Anti" in n.get("Join Type", "")]
        probes = [n for sub in nodes if sub.get("Parent Relationship") == "SubPlan" for n in _plan_nodes(sub)
                  if n.get("Relation Name") == "workflow_events"]
        # each probe narrows its index past the workspace: none reads a whole workspace
        whole = [(n["Node Type"], n.get("Index Cond"), n.get("Filter")) for n in probes
                 if " AND " not in n.get("Index Cond", "")]
        assert len(probes) >= 2 and not whole, whole


def test_the_default_batch_size_is_one_number(msp):
    from msp.engine.automations import DEFAULT_BATCH_SIZE
    from msp.engine.automations.runner import run_once, sweep_workspace
    import inspect

    assert f"[default: {DEFAULT_BATCH_SIZE};" in " ".join(msp("automate", "--help").stdout.split())
    for function in (run_once, sweep_workspace):
        assert inspect.signature(function).parameters["batch_size"].default == DEFAULT_BATCH_SIZE


def test_every_declared_unique_key_is_a_unique_index(conn):
    """Exactly-once rests on the unique keys the automations declare: each is a
    unique, non-partial index of exactly those columns in the migrated database."""
    from msp.engine.automations.registry import automations

    declared = [(a.name, key) for a in automations() for key in a.unique_keys]
    assert len(declared) >= 12
    for name, key in declared:
        indexes = conn.execute(
            "SELECT array_agg(a.attname::text ORDER BY a.attname) FROM pg_index i "
            "JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) "
            "WHERE i.indrelid = %s::regclass AND i.indisunique AND i.indisvalid AND i.indpred IS NULL "
            "GROUP BY i.indexrelid", (key.table,)).fetchall()
        assert sorted(key.columns) in [row[0] for row in indexes], (name, key)


def test_the_registry_gives_the_documented_order_and_counters():
    from msp.engine.automations.registry import automations, counters

    assert [a.name for a in automations()] == ["lifecycle", "plan_from_candidate", "smart_alert",
                                              "plan_journal_draft", "coach_analysis", "coach_tasks",
                                              "journal_enrichment", "review_facts"]
    assert counters() == ("events_scanned", "auto_plans_created", "auto_alerts_created",
                          "auto_journal_drafts_created", "auto_coach_analyses_generated",
                          "auto_coach_action_tasks_created", "auto_coach_journal_updates")


def test_the_batch_filter_is_written_once():
    from pathlib import Path

    sql = Path(__file__).resolve().parent.parent / "engine" / "sql"
    pasted = [f.name for f in sql.glob("*.sql") if "seq <= %(hi)s" in f.read_text()]
    assert pasted == ["runner.sql"]
