"""``msp review`` on a hand-computed week: a breakeven, a short, the week DST
ends in New York, an accepted coach task with closes before and after it.

The week is Monday 2026-10-26 – Sunday 2026-11-01 in America/New_York (clocks
go back at 02:00 on the Sunday).  Closes, in order (pnl):

    T0  Sun 10-25 23:50 EDT (Mon 03:50 UTC)  NVDA  -999   outside in New York, inside in UTC
    T1  Mon 10-26 10:30 EDT                  AAPL  +200   long 100 @ 50 → 52, plan stop 49: +2R
    T2  Tue 10-27 11:15 EDT                  MSFT  -150   SHORT 50 @ 300 → 303, plan stop 302: -1.5R
    --  task accepted Wed 10-28 12:00 EDT
    T3  Wed 10-28 15:00 EDT                  AAPL     0   breakeven, no plan
    T4  Fri 10-30 12:00 EDT                  NVDA  -100
    T5  Sun 11-01 23:30 EST (Mon 04:30 UTC)  NVDA   +50   inside in New York, outside in UTC
    T6  Mon 11-02 00:30 EST                  NVDA  +777   outside

By hand, the New York week (T1–T5): trades 5, wins 2, losses 2, breakeven 1,
win rate 2/5 = 40 %, avg win 125, avg loss 125, expectancy 0/5 = 0, profit
factor 250/250 = 1, net 0, best 200, worst -150, cumulative 200, 50, 50, -50,
0 → max drawdown 250, losing streak 1 (the breakeven between the two losses
ends the streak), holds 45 + 70 + 60 + 145 + 210 min → avg 6360 s, avg R
(2 − 1.5)/2 = 0.25.  (The coach's formula would call the breakeven a loss:
expectancy 0.4 × 125 − 0.6 × 125 = −25.)
"""

from __future__ import annotations

import datetime as dt
import re

import pytest

import events as ev

NY = "America/New_York"
WEEK = ("review", "--week", "2026-10-28", "--tz", NY)


def _week_events():
    def trade(n, symbol, pnl, entered, closed, *, side="LONG", qty=10, entry=100.0, close=100.0, plan_id=None,
              close_extra=None):
        wf = f"wf-t{n}"
        execution = ev.executed(f"T{n}", symbol, side, qty, entry, workflow=wf, at=entered, plan_id=plan_id,
                                event_id=f"x{n}")
        closing = ev.closed(f"T{n}", pnl, symbol, workflow=wf, at=closed, side=side, qty=qty, entry=entry,
                            close=close, event_id=f"c{n}")
        if plan_id:
            closing["payload"]["plan_id"] = plan_id
        closing["payload"].update(close_extra or {})
        return [execution, closing]

    plan1 = ev.plan("p1", "AAPL", workflow="wf-t1", at="2026-10-26T09:40:00-04:00", event_id="p1")
    plan1["payload"]["risk"] = {"invalidation": 49.0}
    plan2 = ev.plan("p2", "MSFT", "short", workflow="wf-t2", at="2026-10-27T10:00:00-04:00", event_id="p2")
    plan2["payload"]["risk"] = {"invalidation": 302.0}
    later_plan2 = ev.plan("p2", "MSFT", "short", workflow="wf-t2", at="2026-10-27T10:30:00-04:00", event_id="p2b")
    later_plan2["payload"]["risk"] = {"invalidation": 310.0}  # not the first stop: ignored
    return [
        *trade(0, "NVDA", -999, "2026-10-25T20:00:00-04:00", "2026-10-25T23:50:00-04:00"),
        plan1, *trade(1, "AAPL", 200, "2026-10-26T09:45:00-04:00", "2026-10-26T10:30:00-04:00", qty=100,
                      entry=50.0, close=52.0, plan_id="p1"),
        ev.journal_updated("j1", "AAPL", workflow="wf-t1", at="2026-10-26T09:50:00-04:00", strategy="breakout",
                           tags=["a-setup"]),
        plan2, later_plan2,
        *trade(2, "MSFT", -150, "2026-10-27T10:05:00-04:00", "2026-10-27T11:15:00-04:00", side="SHORT", qty=50,
               entry=300.0, close=303.0, plan_id="p2", close_extra={"tags": ["fomo"]}),
        ev.journal_updated("j2", "MSFT", "short", workflow="wf-t2", at="2026-10-27T10:06:00-04:00", strategy="fade",
                           tags=["late", "fomo"]),
        *trade(3, "AAPL", 0, "2026-10-28T14:00:00-04:00", "2026-10-28T15:00:00-04:00"),
        ev.signal("NVDA", workflow="wf-t4", at="2026-10-30T09:30:00-04:00", event_id="s4"),
        *trade(4, "NVDA", -100, "2026-10-30T09:35:00-04:00", "2026-10-30T12:00:00-04:00"),
        ev.signal("NVDA", workflow="wf-t5", at="2026-11-01T19:55:00-05:00", event_id="s5"),
        *trade(5, "NVDA", 50, "2026-11-01T20:00:00-05:00", "2026-11-01T23:30:00-05:00"),
        *trade(6, "NVDA", 777, "2026-11-02T00:10:00-05:00", "2026-11-02T00:30:00-05:00"),
        # the same trade closed twice (a resent close): counted once, by its first close
        ev.closed("T4", -100, "NVDA", workflow="wf-t4", at="2026-10-30T12:01:00-04:00", event_id="c4-again"),
        # coach tasks: one accepted mid-week, one rejected, one accepted after the week
        _task("task_a_1", "tighten_entry_filter", "2026-10-28T12:00:00-04:00", "accepted"),
        _task("task_b_1", "improve_reward_to_risk", "2026-10-27T12:00:00-04:00", "rejected"),
        _task("task_c_1", "keep_size_consistent", "2026-11-02T09:00:00-05:00", "accepted"),
    ]


def _task(task_id, action, decided, decision):
    return [
        {"event_id": f"sug-{task_id}", "event_type": "strategy.rule.suggested", "event_version": 1,
         "occurred_at": "2026-10-25T12:00:00-04:00", "correlation": {"workflow_id": f"coach-{task_id}"},
         "payload": {"task_id": task_id, "analysis_id": "ca_x", "action": action, "priority": "medium",
                     "detail": f"Detail of {action}."}},
        {"event_id": f"dec-{task_id}", "event_type": "strategy.rule.applied", "event_version": 1,
         "occurred_at": decided, "correlation": {"workflow_id": f"coach-{task_id}"},
         "payload": {"task_id": task_id, "decision": decision, "decided_at": decided}},
    ]


def _flatten(items):
    for item in items:
        if isinstance(item, list):
            yield from item
        else:
            yield item


@pytest.fixture
def week(msp, tmp_path):
    path = ev.write(tmp_path / "week.jsonl", *_flatten(_week_events()))
    result = msp("ingest", path)
    assert result.exit_code == 0, result.stderr
    return msp


TOTALS = {"trades": 5, "wins": 2, "losses": 2, "breakeven": 1, "win_rate": 40.0, "avg_win": 125.0,
          "avg_loss": 125.0, "expectancy": 0.0, "profit_factor": 1.0, "net_pnl": 0.0, "best_trade": 200.0,
          "worst_trade": -150.0, "max_drawdown": 250.0, "longest_losing_streak": 1, "avg_hold": 6360.0,
          "avg_r": 0.25}
METRIC_KEYS = list(TOTALS)


def test_week_metrics_by_hand_in_new_york(week):
    report = week(*WEEK, "--format", "json").json()
    assert list(report) == ["from", "to", "tz", *METRIC_KEYS, "by", "daily", "loop", "edge", "leak", "rules"]
    assert (report["from"], report["to"], report["tz"]) == ("2026-10-26", "2026-11-01", NY)
    assert {k: report[k] for k in METRIC_KEYS} == TOTALS
    assert report["daily"] == [
        {"date": "2026-10-26", "trades": 1, "net_pnl": 200.0}, {"date": "2026-10-27", "trades": 1, "net_pnl": -150.0},
        {"date": "2026-10-28", "trades": 1, "net_pnl": 0.0}, {"date": "2026-10-29", "trades": 0, "net_pnl": 0.0},
        {"date": "2026-10-30", "trades": 1, "net_pnl": -100.0}, {"date": "2026-10-31", "trades": 0, "net_pnl": 0.0},
        {"date": "2026-11-01", "trades": 1, "net_pnl": 50.0}]
    assert [(b["key"], b["trades"], b["net_pnl"]) for b in report["by"]] == [
        ("AAPL", 2, 200.0), ("NVDA", 2, -50.0), ("MSFT", 1, -150.0)]
    aapl = report["by"][0]
    assert list(aapl) == ["key", *METRIC_KEYS]
    assert (aapl["win_rate"], aapl["breakeven"], aapl["profit_factor"], aapl["avg_r"], aapl["avg_loss"]) == (
        50.0, 1, None, 2.0, None)
    msft = report["by"][2]
    assert (msft["avg_r"], msft["profit_factor"], msft["max_drawdown"]) == (-1.5, 0.0, 150.0)


def test_the_same_review_whether_the_sweep_projected_the_closes_or_not(week, tmp_path):
    """The review reads the coach's closed_trades projection where the sweep made
    it, and the events beyond it: before, between and after sweeps, one answer."""
    def figures():
        report = week(*WEEK, "--rule-window", "2", "--format", "json").json()
        return {k: v for k, v in report.items() if k != "loop"}  # the sweep adds coach events to the loop

    before = figures()
    assert week("automate").exit_code == 0
    assert figures() == before
    # a close arriving after the sweep (unprojected), and a repeat of a projected one
    late = [ev.closed("T7", 30.0, "AMD", workflow="wf-t7", at="2026-10-29T11:00:00-04:00", event_id="c7"),
            ev.closed("T1", 999.0, "AAPL", workflow="wf-t1", at="2026-10-29T12:00:00-04:00", event_id="c1-again")]
    assert week("ingest", ev.write(tmp_path / "late.jsonl", *late)).exit_code == 0
    after_ingest = figures()
    assert (after_ingest["trades"], after_ingest["net_pnl"]) == (6, 30.0)
    assert week("automate").exit_code == 0
    assert figures() == after_ingest


FACTS = "SELECT close_event_id, has_facts, strategy, tags, entered_at, stop FROM closed_trades WHERE workspace = %s"


def _facts(conn, workspace) -> dict:
    return {row[0]: row[1:] for row in conn.execute(FACTS, (workspace,)).fetchall()}


def _buckets(week, by):
    report = week(*WEEK, "--by", by, "--format", "json").json()
    return [(b["key"], b["trades"], b["net_pnl"]) for b in report["by"]]


def test_the_sweep_keeps_each_close_s_facts_and_the_review_reads_them(week, conn, workspace, tmp_path):
    """After a sweep every close carries what the review groups it by
    (migrations/019_review_facts.sql), and the review reads it from there; a
    workflow with an event the sweep has not read has its facts computed from
    the events instead, until the next sweep stores them."""
    assert week("automate").exit_code == 0
    facts = _facts(conn, workspace)
    assert sorted(facts) == ["c0", "c1", "c2", "c3", "c4", "c4-again", "c5", "c6"]
    assert all(has for has, *_ in facts.values())
    assert facts["c1"][1:] == ("breakout", ["a-setup"], dt.datetime(2026, 10, 26, 13, 45, tzinfo=dt.timezone.utc), 49)
    assert facts["c2"][1:] == ("fade", ["fomo", "late"], dt.datetime(2026, 10, 27, 14, 5, tzinfo=dt.timezone.utc), 302)
    assert facts["c3"][1:] == (None, [], dt.datetime(2026, 10, 28, 18, 0, tzinfo=dt.timezone.utc), None)

    # read from the projection: a stored fact is what the review shows
    conn.execute("UPDATE closed_trades SET strategy = 'stored' WHERE workspace = %s AND close_event_id = 'c3'",
                 (workspace,))
    assert ("stored", 1, 0.0) in _buckets(week, "strategy")

    # a journal entry the sweep has not read: T3's facts come from the events
    late = ev.journal_updated("j3", "AAPL", workflow="wf-t3", at="2026-10-28T14:05:00-04:00", strategy="scalp",
                              tags=["news"])
    assert week("ingest", ev.write(tmp_path / "late.jsonl", late)).exit_code == 0
    assert _buckets(week, "strategy") == [("breakout", 3, 150.0), ("scalp", 1, 0.0), ("fade", 1, -150.0)]
    unswept = week(*WEEK, "--format", "json").json()
    assert ("news", 1, 0.0) in [(b["key"], b["trades"], b["net_pnl"])
                                for b in week(*WEEK, "--by", "tag", "--format", "json").json()["by"]]

    # the sweep stores them, and the review reads the same from the projection
    assert week("automate").exit_code == 0
    assert _facts(conn, workspace)["c3"][1:3] == ("scalp", ["news"])
    swept = week(*WEEK, "--format", "json").json()
    assert {k: v for k, v in swept.items() if k != "loop"} == {k: v for k, v in unswept.items() if k != "loop"}


def test_many_workflows_facts_are_computed_a_chunk_at_a_time_with_the_same_answer(week, conn, workspace,
                                                                                  monkeypatch):
    """engine/trade_facts.py hands the server WORKFLOWS_PER_STATEMENT workflows at
    a time, in the review (every trade stale before a sweep) and in the sweep."""
    from msp.engine import trade_facts

    def figures():
        report = week(*WEEK, "--by", "tag", "--format", "json").json()
        return {k: v for k, v in report.items() if k != "loop"}

    whole = figures()
    assert whole["trades"] == 5
    monkeypatch.setattr(trade_facts, "WORKFLOWS_PER_STATEMENT", 2)
    assert figures() == whole
    assert week("automate").exit_code == 0
    facts = _facts(conn, workspace)
    assert all(has for has, *_ in facts.values()) and len(facts) == 8
    assert facts["c2"][1:3] == ("fade", ["fomo", "late"])
    assert figures() == whole


def test_an_event_the_sweep_set_aside_leaves_its_workflow_s_facts_computed(week, database_url, workspace, conn):
    """A poison event (engine/automations/runner.py) is passed over with its whole
    batch rolled back, review facts included: its workflow's trades keep being
    computed from the events, as before the sweep."""
    from support import store_directly

    assert week("automate").exit_code == 0
    # stored past the schema, which would refuse it: an entry price the lifecycle cannot read as a number
    poison = ev.journal_updated("j3", "AAPL", workflow="wf-t3", at="2026-10-28T14:05:00-04:00", strategy="scalp",
                                entry_price="abc")
    poison["event_id"] = "j3-poison"
    store_directly(database_url, workspace, poison)
    unswept = _buckets(week, "strategy")
    assert ("scalp", 1, 0.0) in unswept
    swept = week("automate", "--format", "json")
    assert swept.exit_code == 0, swept.stderr
    assert [a["event_id"] for a in swept.json()["set_aside"]] == ["j3-poison"]
    assert _facts(conn, workspace)["c3"][1] is None  # the stored facts never saw it
    assert _buckets(week, "strategy") == unswept


def test_a_close_projected_after_the_floor_was_read_is_counted_once(week, database_url, workspace):
    """The review reads the coach's projection floor in a statement of its own; a
    sweep that projects closes before the next one must not make them count twice
    (they are in closed_trades and above the floor)."""
    import psycopg

    from msp.engine.db import fetch_all
    from msp.engine.reports.window import day_window
    from msp.engine.sql import compose, query

    assert week("automate").exit_code == 0
    params = day_window(dt.date(2026, 11, 1), NY, 7).params(workspace, floor=0)  # read before the sweep
    with psycopg.connect(database_url) as conn:
        rows = fetch_all(conn, compose("review.window_trades", all_closes=query("review.all_closes")), params)
    assert [row["event_id"] for row in rows] == ["c1", "c2", "c3", "c4", "c5"]


def test_the_facts_are_refreshed_on_every_event_type_they_are_read_from():
    from msp.engine.automations.review_facts import TRIGGERS
    from msp.engine.sql import query

    read = re.search(r"AND r\.event_type IN \(([^)]*)\)", query("review.trade_facts")).group(1)
    assert sorted(re.findall(r"'([a-z_.]+)'", read)) == sorted(TRIGGERS)


def test_closes_without_facts_are_filled_a_few_a_batch_and_reviewed_the_same_meanwhile(week, conn, workspace,
                                                                                       tmp_path, monkeypatch):
    """Closes stored before the facts existed (an upgraded database) have none:
    the review computes theirs from the events, and each sweep batch fills the
    oldest BACKLOG of them, whatever workflows the batch touched."""
    from msp.engine.automations import review_facts

    assert week("automate").exit_code == 0
    before = week(*WEEK, "--by", "tag", "--format", "json").json()
    conn.execute("UPDATE closed_trades SET has_facts = false, side = NULL, quantity = NULL, entry_price = NULL, "
                 "entered_at = NULL, stop = NULL, strategy = NULL, tags = NULL WHERE workspace = %s", (workspace,))
    assert week(*WEEK, "--by", "tag", "--format", "json").json() == before
    monkeypatch.setattr(review_facts, "BACKLOG", 3)
    filled = []
    for n in range(3):  # a signal of a workflow without trades: a batch that triggers the automation
        signal = ev.signal("AMD", workflow=f"wf-quiet-{n}", at="2026-10-29T09:00:00-04:00", event_id=f"sq{n}")
        assert week("ingest", ev.write(tmp_path / f"quiet{n}.jsonl", signal)).exit_code == 0
        assert week("automate").exit_code == 0
        facts = _facts(conn, workspace)
        filled.append(sorted(k for k, (has, *_) in facts.items() if has))
        report = week(*WEEK, "--by", "tag", "--format", "json").json()
        assert {k: v for k, v in report.items() if k != "loop"} == {k: v for k, v in before.items() if k != "loop"}
    # by close seq; c4-again (the last close ingested) shares c4's workflow, so it is filled with it
    assert filled == [["c0", "c1", "c2"], ["c0", "c1", "c2", "c3", "c4", "c4-again", "c5"],
                      ["c0", "c1", "c2", "c3", "c4", "c4-again", "c5", "c6"]]
    assert _facts(conn, workspace)["c1"][1:] == (
        "breakout", ["a-setup"], dt.datetime(2026, 10, 26, 13, 45, tzinfo=dt.timezone.utc), 49)


def test_the_zone_decides_the_week(week):
    utc = week("review", "--week", "2026-10-28", "--tz", "UTC", "--format", "json").json()
    assert (utc["trades"], utc["net_pnl"], utc["tz"]) == (5, -1049.0, "UTC")  # T0 in, T5 out
    assert utc["daily"][0] == {"date": "2026-10-26", "trades": 2, "net_pnl": -799.0}


def test_buckets_by_strategy_weekday_hour_and_tag(week):
    def keys(by):
        report = week(*WEEK, "--by", by, "--format", "json").json()
        return [(b["key"], b["trades"], b["net_pnl"]) for b in report["by"]]

    # strategy: the journal's, else the signal's signal_type; none at all → (none)
    assert keys("strategy") == [("breakout", 3, 150.0), ("(none)", 1, 0.0), ("fade", 1, -150.0)]
    assert keys("weekday") == [("Monday", 1, 200.0), ("Tuesday", 1, -150.0), ("Wednesday", 1, 0.0),
                               ("Friday", 1, -100.0), ("Sunday", 1, 50.0)]
    # hour: of the entry, local (T5 entered 20:00 EST)
    assert keys("hour") == [("09:00", 2, 100.0), ("10:00", 1, -150.0), ("14:00", 1, 0.0), ("20:00", 1, 50.0)]
    # a trade is in each of its tags (journal's and the close's, once each)
    assert keys("tag") == [("a-setup", 1, 200.0), ("(untagged)", 3, -50.0), ("fomo", 1, -150.0),
                           ("late", 1, -150.0)]


def test_edge_and_leak(week):
    report = week(*WEEK, "--format", "json").json()
    assert report["edge"] == {
        "dimension": "strategy", "key": "breakout", "trades": 3, "net_pnl": 150.0,
        "win_rate": pytest.approx(200 / 3), "expectancy": 50.0,
        "finding": "strategy breakout: 3 trades, +150.00 net, 66.7% won, +50.00 per trade.",
        "next_step": "Keep breakout at full size next week and log every trade of it, so the sample grows."}
    # MSFT, fade and 10:00 each cost 150: the symbol comes first
    assert report["leak"] == {
        "dimension": "symbol", "key": "MSFT", "trades": 1, "cost": 150.0,
        "finding": "symbol MSFT: 1 trades, -150.00 net, 0.0% won.",
        "next_step": "Halve your size in MSFT next week, or skip it, until you have reviewed its 1 trades."}


def test_rules_compare_the_closes_before_and_after_an_accepted_task(week):
    report = week(*WEEK, "--rule-window", "2", "--format", "json").json()
    assert report["rules"] == [{
        "task_id": "task_a_1", "action": "tighten_entry_filter", "detail": "Detail of tighten_entry_filter.",
        "decided_at": "2026-10-28T16:00:00+00:00",
        "before": {"trades": 2, "win_rate": 50.0, "expectancy": 25.0},   # T1, T2
        "after": {"trades": 2, "win_rate": 0.0, "expectancy": -50.0}}]   # T3, T4
    # three closes after it by the week's end: fewer than 10, so not weighed yet
    assert week(*WEEK, "--format", "json").json()["rules"] == []
    # the rejected task never; the one accepted on 11-02 has no close after it yet
    later = week("review", "--week", "2026-11-04", "--tz", NY, "--rule-window", "1", "--format", "json").json()
    assert [(r["task_id"], r["before"], r["after"]) for r in later["rules"]] == [
        ("task_a_1", {"trades": 1, "win_rate": 0.0, "expectancy": -150.0},
         {"trades": 1, "win_rate": 0.0, "expectancy": 0.0})]


def test_loop_is_the_conversion_report_of_the_period(week):
    report = week(*WEEK, "--format", "json").json()
    conversion = week("conversion", "--days", "7", "--date", "2026-11-01", "--tz", NY, "--format", "json").json()
    assert report["loop"] == {"conversion": conversion["conversion"], "tasks_suggested": 0, "tasks_accepted": 1,
                              "tasks_rejected": 1}


def test_csv_and_pipe_table(week):
    lines = week(*WEEK, "--format", "csv").stdout.splitlines()
    assert lines[0] == "symbol," + ",".join(METRIC_KEYS)
    assert lines[1] == "(all),5,2,2,1,40.0,125.0,125.0,0.0,1.0,0.0,200.0,-150.0,250.0,1,6360.0,0.25"  # cells as every CSV of msp
    assert [line.split(",")[0] for line in lines[1:]] == ["(all)", "AAPL", "NVDA", "MSFT"]
    table = week(*WEEK).stdout
    assert "Review 2026-10-26 → 2026-11-01 (America/New_York)" in table
    assert "Edge: strategy breakout" in table and "Leak: symbol MSFT" in table
    assert "Equity" not in table and "Daily P&L" not in table and "⠀" not in table  # a pipe gets no charts
    assert "\x1b[" not in table


def test_empty_period_and_usage_errors(week):
    empty = week("review", "--week", "2026-06-10", "--tz", NY, "--format", "json").json()
    assert {k: empty[k] for k in METRIC_KEYS} == {
        "trades": 0, "wins": 0, "losses": 0, "breakeven": 0, "win_rate": None, "avg_win": None, "avg_loss": None,
        "expectancy": None, "profit_factor": None, "net_pnl": 0.0, "best_trade": None, "worst_trade": None,
        "max_drawdown": 0.0, "longest_losing_streak": 0, "avg_hold": None, "avg_r": None}
    assert (empty["by"], empty["edge"], empty["leak"], len(empty["daily"])) == ([], None, None, 7)
    for args, message in ((("--week", "2026-10-28", "--month", "2026-10"), "choose one period"),
                          (("--from", "2026-10-01"), "--from and --to go together"),
                          (("--from", "2026-10-05", "--to", "2026-10-01"), "is before --from"),
                          (("--month", "2026-13"), "invalid month"),
                          (("--week", "yesterday"), "invalid date")):
        result = week("review", *args)
        assert result.exit_code == 2 and message in result.stderr and "Traceback" not in result.stderr, args


def test_periods():
    from msp.engine.reports.review import review_period

    friday = dt.date(2026, 11, 20)
    assert review_period(friday) == (dt.date(2026, 11, 16), friday)  # no option: this week so far
    assert review_period(friday, week="last") == (dt.date(2026, 11, 9), dt.date(2026, 11, 15))
    assert review_period(friday, week="2026-11-22") == (dt.date(2026, 11, 16), dt.date(2026, 11, 22))
    assert review_period(friday, month="last") == (dt.date(2026, 10, 1), dt.date(2026, 10, 31))
    assert review_period(friday, month="2028-02") == (dt.date(2028, 2, 1), dt.date(2028, 2, 29))
    assert review_period(dt.date(2027, 1, 3), month="last") == (dt.date(2026, 12, 1), dt.date(2026, 12, 31))
    assert review_period(friday, date_from="2026-01-01", date_to="2026-01-01") == (dt.date(2026, 1, 1),) * 2


def test_api_twin_is_the_json_output(week, database_url, workspace):
    import msp

    with msp.connect(database_url, workspace) as ws:
        model = ws.review(week="2026-10-28", tz=NY, rule_window=2)
    assert model.model_dump(mode="json") == week(*WEEK, "--rule-window", "2", "--format", "json").json()
    assert [c.pnl for c in model.closes] == [200.0, -150.0, 0.0, -100.0, 50.0]


def test_terminal_charts_render(week, database_url, workspace):
    from rich.console import Console

    import msp
    from msp.cli.review_charts import daily_bars, equity_chart, month_calendars
    from msp.engine.reports.review_metrics import equity_points

    assert equity_points([200.0, -150.0, 0.0, -100.0, 50.0]) == (
        [0.0, 200.0, 50.0, 50.0, -50.0, 0.0], [0.0, 0.0, -150.0, -150.0, -250.0, -200.0])
    with msp.connect(database_url, workspace) as ws:
        data = ws.review(week="2026-10-28", tz=NY).model_dump(mode="json")
    chart = equity_chart([200.0, -150.0, 0.0, -100.0, 50.0], width=60)
    assert "equity" in chart and "drawdown" in chart and "closed trades" in chart
    import io

    console = Console(width=100, record=True, color_system="truecolor", force_terminal=True, file=io.StringIO())
    console.print(daily_bars(data["daily"]))
    console.print(month_calendars(data["daily"]))
    text = console.export_text(clear=False)
    assert "Mon 2026-10-26" in text and "+200.00" in text and "-150.00" in text
    assert "October 2026" in text and "November 2026" in text and "26  +200" in text
    styled = console.export_text(styles=True)
    assert "48;2;0;220;0m26  +200" in styled and "48;2;190;0;0m27  -150" in styled  # cells coloured by P&L
    assert "28     0" in text  # the breakeven day: traded, no colour


def test_html_report_is_self_contained(week, tmp_path):
    path = tmp_path / "week.html"
    result = week(*WEEK, "--html", path, "--format", "json")
    assert result.exit_code == 0, result.stderr
    document = path.read_text()
    assert document.startswith("<!DOCTYPE html>") and document.count("<svg") == 4  # equity, daily, the two months, by symbol
    assert_no_external_references(document)
    assert "Trading review 2026-10-26 → 2026-11-01" in document and "Halve your size in MSFT" in document


NETWORK = re.compile(r"(?i)^\s*(?:[a-z][a-z0-9+.-]*:|//)")


def assert_no_external_references(document: str) -> None:
    """Nothing the browser would load from outside the file: every src/href/url()
    target is an in-document fragment, and there is no script, link, import or web font."""
    targets = re.findall(r"""(?i)\b(?:src|href|xlink:href|action|poster|data)\s*=\s*["']?([^"'\s>]*)""", document)
    targets += re.findall(r"""(?i)url\(\s*["']?([^"')]*)""", document)
    targets += re.findall(r"""(?i)@import\s+["']?([^"';\s]*)""", document)
    outside = [t for t in targets if not t.startswith("#")]
    assert outside == [], outside
    assert not any(NETWORK.match(t) for t in targets)
    for tag in ("<script", "<link", "<iframe", "<img", "<object", "<embed", "@font-face"):
        assert tag not in document.lower(), tag


HOSTILE = ["\x1b[2J\x1b]0;pwned\x07", "<script>alert(1)</script>", "$x^2$ & \u202eevil", "a\rb"]


def test_hostile_strategy_and_tags_are_shown_harmlessly(msp, tmp_path):
    events = []
    for n, text in enumerate(HOSTILE):
        wf = f"wf-h{n}"
        events += [ev.closed(f"H{n}", 10.0 * (n + 1), "AAPL", workflow=wf, at=f"2026-11-1{n + 6}T15:00:00-05:00"),
                   ev.journal_updated(f"jh{n}", workflow=wf, at=f"2026-11-1{n + 6}T14:00:00-05:00", strategy=text,
                                      tags=[text])]
    assert msp("ingest", ev.write(tmp_path / "h.jsonl", *events)).exit_code == 0
    report = msp("review", "--week", "2026-11-18", "--tz", NY, "--by", "tag", "--format", "json").json()
    assert sorted(b["key"] for b in report["by"]) == sorted(HOSTILE)  # JSON: exact
    for fmt in ("table", "csv"):
        for by in ("strategy", "tag"):
            shown = msp("review", "--week", "2026-11-18", "--tz", NY, "--by", by, "--format", fmt).stdout
            assert not any(c in shown for c in "\x1b\x07\u202e\r"), repr(shown)
    path = tmp_path / "h.html"
    assert msp("review", "--week", "2026-11-18", "--tz", NY, "--by", "tag", "--html", path).exit_code == 0
    document = path.read_text()
    assert "<script" not in document and not any(c in document for c in "\x1b\x07\u202e\r")
    assert "&lt;script&gt;alert(1)&lt;/script&gt; (n=1)" in document  # the bucket chart's label, as text
    assert_no_external_references(document)


def test_an_unwritable_html_path_is_one_line(week, tmp_path):
    result = week(*WEEK, "--html", tmp_path / "missing" / "r.html")
    assert result.exit_code == 1 and result.stderr.startswith("msp: error: cannot write ") \
        and "No such file or directory" in result.stderr and "Traceback" not in result.stderr
