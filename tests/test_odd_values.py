"""Odd values an operator types, and what the loop says back (issue 10): numbers
that are not finite or out of range, dates at the ends of the calendar, zone
names of any shape, and the wording of the coach's suggestions and empty lists."""

import json

import pytest

import events as ev
from support import run_process


def one_line_error(result, code):
    assert result.exit_code == code, (result.exit_code, result.stdout, result.stderr)
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("msp: error: "), result.stderr
    return lines[0]


@pytest.fixture
def alert_id(msp, tmp_path):
    msp("ingest", ev.write(tmp_path / "p.jsonl", ev.plan("p1", entry={"zone": 10.0})))
    assert msp("automate").exit_code == 0
    return "alert_p1"


@pytest.mark.parametrize("price", ["nan", "NaN", "inf", "-inf", "1e400", "-5", "0", "", "abc"])
def test_a_trigger_price_must_be_a_finite_number_above_zero(msp, conn, workspace, alert_id, price):
    line = one_line_error(msp("alerts", "trigger", alert_id, f"--price={price}"), 2)
    assert "--price" in line
    assert conn.execute("SELECT status, trigger_price FROM alerts WHERE workspace = %s",
                        (workspace,)).fetchone() == ("active", None)
    assert msp("alerts", "trigger", alert_id, "--price", "10.5").exit_code == 0


def test_the_python_twin_refuses_the_same_prices(msp, database_url, workspace, alert_id):
    from msp.engine.actions.alerts import trigger
    from msp.engine.config import resolve_settings
    from msp.engine.db import Database
    from msp.engine.errors import UsageError

    db = Database(resolve_settings(database_url, workspace))
    try:
        for price in (float("nan"), float("inf"), -5.0, 0):
            with pytest.raises(UsageError):
                trigger(db, alert_id, price)
    finally:
        db.close()


@pytest.mark.parametrize("args", [
    ("state", "set", "--attention-score", "nan"), ("state", "set", "--attention-score", "inf"),
    ("state", "set", "--cognitive-load", "-1"), ("state", "set", "--cognitive-load", "nan"),
    ("operator", "--watch", "nan"), ("operator", "--watch", "inf"), ("operator", "--watch", "0"),
    ("automate", "--every", "99999999999999999999"),
])
def test_every_number_option_refuses_nan_infinity_and_out_of_range(msp, args):
    one_line_error(msp(*args), 2)


def test_a_reject_id_no_row_can_have_is_not_found(msp):
    assert "not found" in one_line_error(msp("rejects", "show", "99999999999999999999"), 1)
    one_line_error(msp("rejects", "retry", "99999999999999999999"), 1)


def test_ingest_automate_has_the_automate_keys(msp, tmp_path):
    path = ev.write(tmp_path / "n.jsonl", ev.plan("p-neutral", direction="neutral", entry={"zone": 5.0}))
    result = msp("ingest", path, "--automate", "--format", "json")
    assert result.exit_code == 0, result.stderr
    body = result.json()
    sweep = msp("automate", "--format", "json").json()
    assert set(sweep) <= set(body)
    assert (body["skipped"], body["skipped_total"]) == \
        ([{"automation": "smart_alert", "item": "p-neutral", "reason": "neutral plan: no alert"}], 1)
    csv = msp("ingest", path, "--automate", "--format", "csv")
    assert csv.stdout.splitlines()[0].endswith(",skipped_total")


@pytest.mark.parametrize("args", [
    ("today", "--date", "9999-12-31"), ("operator", "--date", "9999-12-31"), ("conversion", "--date", "0001-01-01"),
    ("today", "--date", "0001-01-01"), ("conversion", "--date", "0001-01-03", "--days", "7"),
])
def test_a_date_outside_the_calendar_msp_reports_on_is_a_usage_error(msp, args):
    line = one_line_error(msp(*args), 2)
    assert "0001-01-02" in line


@pytest.mark.parametrize("args", [
    ("today", "--date", "0001-01-02", "--tz", "Asia/Tokyo"), ("today", "--date", "9999-12-30", "--tz", "Pacific/Kiritimati"),
    ("today", "--date", "0001-01-02", "--tz", "Pacific/Pago_Pago"), ("conversion", "--date", "9999-12-30", "--cohort"),
    ("conversion", "--date", "0001-01-08", "--days", "7"), ("operator", "--date", "9999-12-30"),
    ("operator", "--date", "0001-01-02", "--tz", "Etc/GMT-14"),
])
def test_the_first_and_last_days_report_without_overflow(msp, args):
    for fmt in ("json", "table") + (() if args[0] == "operator" else ("csv",)):  # operator refuses CSV (exit 2)
        result = msp(*args, "--format", fmt)
        assert result.exit_code == 0, result.stderr
        assert result.stderr == ""


@pytest.mark.parametrize("name", ["A" * 300, "A" * 70_000, "America", "../etc/passwd", "/etc/localtime", "a\x00b",
                                  "America/../UTC", "", " ", "zone.tab", "\udcff\udcfe"])
def test_any_zone_name_that_is_not_one_is_a_usage_error(msp, name):
    one_line_error(msp("--tz", name, "today"), 2) if name.strip() else None
    one_line_error(msp("today", env={"MSP_TZ": name}), 2) if name.strip() and "\x00" not in name else None
    one_line_error(msp("state", "set", "--timezone", name), 2) if name else None


def test_a_zone_from_the_shell_in_any_bytes_is_a_usage_error(database_url, workspace):
    for value in ("A" * 300, b"\xff\xfe/New_York"):
        result = run_process(["--database-url", database_url, "--workspace", workspace, "--tz", value, "today"])
        assert result.returncode == 2 and result.stdout == b""
        assert len(result.stderr.splitlines()) == 1 and result.stderr.startswith(b"msp: error: unknown time zone")
        result = run_process(["--database-url", database_url, "--workspace", workspace, "today"],
                             env={"MSP_TZ": value if isinstance(value, str) else value.decode("latin-1")})
        assert result.returncode == 2 and len(result.stderr.splitlines()) == 1


def test_presence_names_the_coach_action_and_counts_trades_in_the_singular(msp, tmp_path):
    msp("ingest", ev.write(tmp_path / "c.jsonl", ev.executed("t1"), ev.closed("t1", 25.0)))
    assert msp("automate").exit_code == 0
    action = msp("presence", "--format", "json").json()["suggested_actions"][0]
    task_id = msp("tasks", "list", "--format", "json").json()[0]["task_id"]
    assert action == {"label": "Keep logging trades", "command": f"msp tasks accept {task_id}",
                      "reason": f"Pending coach task {task_id} (high): Only 1 closed trade so far: keep logging "
                                "trades before changing the strategy."}


@pytest.mark.parametrize("action, label, command", [
    ("increase_sample_size", "Keep logging trades", "msp tasks accept T"),
    ("improve_reward_to_risk", "Improve reward to risk", "msp tasks accept T"),
    ("tighten_entry_filter", "Tighten the entry filter", "msp tasks accept T"),
    ("keep_size_consistent", "Keep position size consistent", "msp tasks accept T"),
    ("continue_process_discipline", "Keep following the process", "msp tasks accept T"),
    ("set_price_alert", "Create an alert", "msp alerts list --status active"),
    ("run_backtest", "Run a backtest", "msp conversion --cohort --days 30"),
    ("review_exits", "Review exits", "msp tasks accept T"),
])
def test_each_coach_action_has_its_label_and_command(action, label, command):
    from msp.engine.reports.presence import coach_task_action

    assert coach_task_action({"action": action, "task_id": "T"}) == (label, command)


def test_an_empty_task_list_fits_the_status_asked(msp, tmp_path):
    assert msp("tasks", "list", "--status", "resolved").stdout == \
        "No resolved tasks. The coach suggests tasks after trades close (msp automate).\n"
    msp("ingest", ev.write(tmp_path / "c.jsonl", ev.executed("t1"), ev.closed("t1", 25.0)))
    msp("automate")
    assert msp("tasks", "list", "--status", "resolved").stdout == "No resolved tasks (2 pending: msp tasks list).\n"
    assert msp("tasks", "list", "--status", "resolved", "--format", "json").json() == []


def test_events_at_the_ends_of_the_calendar_are_refused_and_old_ones_still_reported(msp, tmp_path, database_url,
                                                                                     workspace):
    """Events dated 9999-12-31T23:59:59-14:00 (the year 10000 in UTC) and
    0001-01-01T00:00:00+14:00 (1 BC in UTC) are refused at validation now (issue 11);
    ones an earlier msp stored (written here past validation, straight through the
    writer) are still read by every report."""
    import psycopg

    from msp.engine.event_store import StagedBatch, write_batch

    late, early = "9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00"
    events = [ev.executed("t-far", workflow="wf-far", at=late, event_id="far-1"),
              ev.journal_updated("j-far", workflow="wf-far", at=late),
              ev.closed("t-far", workflow="wf-far", at=late, event_id="far-2"),
              ev.plan("p-far", workflow="wf-far", entry={"zone": 5.0}, at=late),
              ev.signal(workflow="wf-early", at=early, event_id="early-1")]
    path = ev.write(tmp_path / "far.jsonl", *events)
    refused = msp("ingest", path, "--format", "json")
    assert (refused.exit_code, refused.json()["ingested"], refused.json()["rejected"]) == (1, 0, 5)
    assert [line.split(": ")[1] for line in refused.stderr.splitlines()] == \
        ["/occurred_at"] * 3 + ["/payload/closed_at"] + ["/occurred_at"] * 2  # line 3: the close's time too
    batch = StagedBatch("stored-before", workspace)
    for n, event in enumerate(events, start=1):
        batch.add_event(n, event["event_id"], False, json.dumps(event).encode(), event)
    with psycopg.connect(database_url, autocommit=True) as writer:
        assert write_batch(writer, workspace, batch).ingested == 5
    assert msp("automate").exit_code == 0
    trace = msp("trace", "far-2", "--format", "json")
    assert trace.exit_code == 0, trace.stderr
    assert trace.json()["roots"][0]["occurred_at"] == "10000-01-01T13:59:59+00:00"
    assert msp("trace", "early-1", "--format", "json").json()["roots"][0]["occurred_at"] == \
        "0001-12-31T10:00:00+00:00 BC"
    for args in (("journal", "list"), ("journal", "show", "j-far"), ("alerts", "list"), ("tasks", "list"),
                 ("presence",), ("operator",), ("trace", "wf-far")):
        for fmt in ("json", "table") + (() if args[0] == "operator" else ("csv",)):  # operator refuses CSV
            result = msp(*args, "--format", fmt)
            assert (result.exit_code, result.stderr) == (0, ""), args
