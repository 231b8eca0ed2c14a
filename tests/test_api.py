"""The Python API (``msp.connect`` → ``Workspace``) against a real PostgreSQL: real rows, exact counts."""

from __future__ import annotations

import datetime as dt
import io
import warnings

import pytest

import events as ev
import msp
from msp import results
from support import FIXTURES, invoke


@pytest.fixture
def ws(api):
    return api


def stored(conn, workspace, sql="SELECT count(*) FROM workflow_events WHERE workspace = %s"):
    return conn.execute(sql, (workspace,)).fetchone()[0]


SIGNAL = {"signal_id": "sig-api-1", "symbol": "NVDA", "direction": "long", "confidence": 81,
          "signal_type": "breakout"}


def candidate_payload(result="pass"):
    return ev.candidate("NVDA", result, 82, workflow="wf-api", candidate_id="cand-api-1", entry=148.2)["payload"]


# -- connect -----------------------------------------------------------------------------------

def test_connect_resolves_url_and_workspace_as_the_cli_does(database_url, workspace, monkeypatch):
    monkeypatch.setenv("MSP_DATABASE_URL", database_url)
    monkeypatch.setenv("MSP_WORKSPACE", workspace)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    with msp.connect() as w:
        assert (w.settings.database_url, w.name) == (database_url, workspace)
    with msp.connect(workspace="other") as w:  # an argument wins over the environment
        assert w.name == "other"
    monkeypatch.delenv("MSP_DATABASE_URL")
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.delenv("MSP_WORKSPACE")
    with msp.connect() as w:
        assert (w.settings.database_url, w.name) == (database_url, "default")
    with pytest.raises(msp.UsageError, match="invalid workspace"):
        msp.connect(database_url, "bad name!")


def test_the_first_call_migrates_a_fresh_database(fresh_database):
    with msp.connect(fresh_database, "w") as w:
        assert w.today(date="2026-11-20").counts.signals == 0
        assert w.migrate().applied == [] and w.migrate().level == w.doctor().migrations_available


def test_migrate_applies_and_reports_the_files(fresh_database):
    from msp.engine.migrations import MigrateResult

    with msp.connect(fresh_database, "w") as w:
        first = w.migrate()
        assert first.applied[0] == "001_workflow_events.sql" and first.level == len(first.applied)
        assert w.migrate() == MigrateResult(applied=[], level=first.level)


# -- emit --------------------------------------------------------------------------------------

def test_emit_derives_the_id_ingest_derives_for_the_same_event(ws, database_url, conn, workspace):
    at = "2026-11-20T09:30:00-05:00"
    event_id = ws.emit("signal.created", SIGNAL, workflow_id="wf-api", occurred_at=at)
    line = {"event_type": "signal.created", "event_version": 1, "occurred_at": at,
            "correlation": {"workflow_id": "wf-api"}, "payload": SIGNAL}
    with msp.connect(database_url, workspace + "_b") as other:
        assert other.ingest([line]).ingested == 1
    ids = conn.execute("SELECT workspace, event_id FROM workflow_events WHERE workspace IN (%s, %s) ORDER BY 1",
                       (workspace, workspace + "_b")).fetchall()
    assert ids == [(workspace, event_id), (workspace + "_b", event_id)]
    assert event_id.startswith("h:")
    row = conn.execute("SELECT event_type, workflow_id, actor_type, symbol, source, event FROM workflow_events "
                       "WHERE workspace = %s", (workspace,)).fetchone()
    assert row == ("signal.created", "wf-api", "user", "NVDA", "<emit>", {**line, "event_id": event_id})


def test_emitting_the_same_event_twice_stores_it_once(ws, conn, workspace):
    first = ws.emit("signal.created", SIGNAL, workflow_id="wf-api", occurred_at="2026-11-20T09:30:00-05:00")
    again = ws.emit("signal.created", SIGNAL, workflow_id="wf-api", occurred_at="2026-11-20T09:30:00-05:00")
    assert first == again
    assert stored(conn, workspace) == 1


def test_emit_fills_the_envelope(ws, conn, workspace):
    before = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    parent = ws.emit("signal.created", SIGNAL, workflow_id="wf-api", actor="system",
                     occurred_at=dt.datetime(2026, 11, 20, 14, 30, tzinfo=dt.timezone.utc))
    child = ws.emit("candidate.created", candidate_payload(), workflow_id="wf-api", parent_event_id=parent,
                    actor={"actor_type": "user", "user_id": "trader-1"})
    rows = dict(conn.execute("SELECT event_id, event FROM workflow_events WHERE workspace = %s", (workspace,)))
    assert rows[parent]["occurred_at"] == "2026-11-20T14:30:00+00:00"
    assert rows[parent]["actor"] == {"actor_type": "system"} and rows[parent]["event_version"] == 1
    assert rows[child]["correlation"] == {"workflow_id": "wf-api", "parent_event_id": parent}
    assert rows[child]["actor"] == {"actor_type": "user", "user_id": "trader-1"}
    assert dt.datetime.fromisoformat(rows[child]["occurred_at"]) >= before  # defaults to now


def test_a_bad_event_raises_one_exception_with_every_path_and_message_and_stores_nothing(
        ws, conn, workspace, tmp_path):
    payload = {**SIGNAL, "symbol": "nvda", "confidence": 150}
    with pytest.raises(msp.EventRejected) as raised:
        ws.emit("signal.created", payload, workflow_id="wf-api", occurred_at="2026-11-20T09:30:00")
    error = raised.value
    assert isinstance(error, msp.InputRejected) and error.exit_code == 1
    # the very list `msp validate` prints for the same event as a line
    line = {"event_type": "signal.created", "event_version": 1, "occurred_at": "2026-11-20T09:30:00",
            "correlation": {"workflow_id": "wf-api"}, "payload": payload}
    printed = invoke(["validate", ev.write(tmp_path / "bad.jsonl", line)]).stderr.splitlines()
    prefix = f"{tmp_path / 'bad.jsonl'}:1: "
    assert [f"{prefix}{path or '(root)'}: {message}" for path, message in error.problems] == printed
    assert [path for path, _ in error.problems] == ["/occurred_at", "/payload/confidence", "/payload/symbol"]
    assert str(error).startswith("signal.created event rejected: /occurred_at: ")
    assert stored(conn, workspace) == 0
    assert stored(conn, workspace, "SELECT count(*) FROM rejected_lines WHERE workspace = %s") == 0


def test_an_unknown_event_type_is_rejected_with_the_envelope_rule(ws):
    with pytest.raises(msp.EventRejected) as raised:
        ws.emit("signal.deleted", SIGNAL, workflow_id="wf-api")
    assert raised.value.problems[0][0] == "/event_type"
    assert "is not an allowed value" in raised.value.problems[0][1]


def test_an_emitted_warning_is_stored_and_warned_about(ws, conn, workspace):
    payload = candidate_payload("watch")  # final_confidence 82 says pass: the scanner rule's warning
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        event_id = ws.emit("candidate.created", payload, workflow_id="wf-api")
    assert [type(w.message) for w in caught] == [msp.EventWarning]
    assert event_id in str(caught[0].message) and "/payload/result" in str(caught[0].message)
    assert stored(conn, workspace) == 1


def test_an_emitted_passing_candidate_gets_its_plan_on_automate(ws, conn, workspace):
    signal_id = ws.emit("signal.created", SIGNAL, workflow_id="wf-api", occurred_at="2026-11-20T09:30:00-05:00")
    candidate_id = ws.emit("candidate.created", candidate_payload(), workflow_id="wf-api",
                           parent_event_id=signal_id, occurred_at="2026-11-20T09:31:00-05:00")
    sweep = ws.automate()
    assert isinstance(sweep, results.AutomateResult)
    assert (sweep.events_scanned, sweep.auto_plans_created, sweep.auto_alerts_created,
            sweep.auto_journal_drafts_created) == (4, 1, 1, 1)  # 2 emitted, then the plan and its draft
    plan = conn.execute("SELECT parent_event_id, workflow_id, event #>> '{payload,plan_id}' FROM workflow_events "
                        "WHERE workspace = %s AND event_type = 'trade.plan.created'", (workspace,)).fetchall()
    assert plan == [(candidate_id, "wf-api", "plan_cand-api-1")]
    assert ws.automate().auto_plans_created == 0  # exactly once


# -- ingest ------------------------------------------------------------------------------------

def test_ingest_from_an_iterable_of_dicts_quarantines_the_bad_ones(ws, conn, workspace):
    bad = ev.signal(event_id="bad-1", confidence="high")

    def scanner():  # a generator: read lazily, never listed
        yield ev.signal(event_id="s-1")
        yield bad
        yield ev.candidate(event_id="c-1")
        yield ev.signal(event_id="s-1")

    result = ws.ingest(scanner())
    assert result == results.IngestResult(read=4, ingested=2, duplicates=1, conflicts=0, rejected=1, warnings=0,
                                            checkpoint_skipped=0)  # events have no checkpoint
    assert stored(conn, workspace) == 2
    rejected = ws.rejects_list()
    assert [(r.source, r.line_no, r.path, r.message) for r in rejected] == [
        ("<events>", 2, "/payload/confidence", "'high' is not of type 'number'")]
    assert ws.ingest([]).read == 0


def test_ingest_from_binary_and_text_file_objects(ws, conn, workspace):
    binary = io.BytesIO(ev.jsonl(ev.signal(event_id="b-1"), ev.signal(event_id="b-2")).encode())
    text = io.StringIO(ev.jsonl(ev.signal(event_id="t-1")) + "\n" + ev.jsonl(ev.signal(event_id="b-1")))
    result = ws.ingest([binary, text])
    assert (result.read, result.ingested, result.duplicates) == (4, 3, 1)
    sources = conn.execute("SELECT event_id, source, source_line FROM workflow_events WHERE workspace = %s "
                           "ORDER BY seq", (workspace,)).fetchall()
    assert sources == [("b-1", "<stream>", 1), ("b-2", "<stream>", 2), ("t-1", "<stream>", 1)]
    with open(FIXTURES / "trading_day.jsonl", "rb") as named:  # a real file keeps its name
        day = ws.ingest(named)
    assert (day.read, day.ingested, day.warnings) == (40, 40, 1)
    assert conn.execute("SELECT DISTINCT source FROM workflow_events WHERE workspace = %s AND event_id LIKE 'evt-%%'",
                        (workspace,)).fetchall() == [(str(FIXTURES / "trading_day.jsonl"),)]


def test_ingest_paths_with_automate_and_the_limits(ws, conn, workspace):
    loaded = ws.ingest([FIXTURES / "history_week.jsonl", str(FIXTURES / "trading_day.jsonl")], automate=True)
    assert isinstance(loaded, results.IngestAutomateResult)
    assert (loaded.ingested, loaded.auto_plans_created, loaded.auto_coach_analyses_generated) == (100, 22, 19)
    assert list(loaded.model_dump(mode="json"))[:8] == ["read", "ingested", "duplicates", "conflicts", "rejected",
                                                        "warnings", "checkpoint_skipped", "events_scanned"]
    deep = {"event_type": "signal.created", "nested": [[[[1]]]]}
    tight = ws.ingest([deep], max_depth=3, max_line_bytes=4096, batch_size=1)
    assert tight.rejected == 1
    assert ws.rejects_list()[0].message == "nesting deeper than 3 levels"


def test_a_missing_file_fails_before_anything_is_read(ws, conn, workspace, tmp_path):
    with pytest.raises(msp.InputRejected, match="no-such.jsonl: no such file"):
        ws.ingest([FIXTURES / "trading_day.jsonl", tmp_path / "no-such.jsonl"])
    assert stored(conn, workspace) == 0


def test_validate_needs_no_database():
    ws = msp.connect("postgresql://nobody@127.0.0.1:1/none", "w")
    checked = ws.validate(FIXTURES / "trading_day.jsonl")
    assert checked == results.ValidateResult(read=40, valid=40, invalid=0, warnings=1)
    assert ws.validate([ev.signal(), {"event_type": "nope"}]).invalid == 1
    assert ws._db is None


# -- typed results through the loop -------------------------------------------------------------

@pytest.fixture
def loaded(ws):
    ws.demo()
    return ws


def test_reports_are_typed(loaded):
    today = loaded.today(date=dt.date(2026, 11, 20), tz="America/New_York")
    assert (today.counts.signals, today.counts.plans, today.conversion.candidate_to_plan) == (10, 7, 70.0)
    assert today.last_coach_insight.analysis_id == "ca_8443cd74638d"
    assert loaded.today(date="2026-11-20", tz="America/New_York") == today
    cohort = loaded.conversion(days=7, cohort=True, date="2026-11-20", tz="America/New_York")
    assert cohort.counts is None and cohort.workflows > 0 and "counts" not in cohort.model_dump(mode="json")
    assert cohort.model_dump(mode="json")["from"] == "2026-11-14"
    presence = loaded.presence(now=dt.datetime(2026, 11, 20, 21, 30, tzinfo=dt.timezone.utc))
    assert [a.symbol for a in presence.top_attention] == ["SPY", "NVDA", "MSFT"]
    trace = loaded.trace("evt-1120-0004")
    assert (trace.workflow_id, trace.events) == ("wf-2026-11-20-nvda-0935", 12)
    with pytest.raises(msp.NotFound):
        loaded.trace("no-such-workflow")
    with pytest.raises(msp.UsageError):
        loaded.today(date="yesterday")


def test_tasks_state_alerts_journal_rejects(loaded, conn, workspace):
    tasks = loaded.tasks_list(limit=5)
    assert len(tasks) == 5 and loaded.tasks(limit=5) == tasks
    first = tasks[0]
    assert isinstance(first.occurred_at, dt.datetime) and first.decided_at is None
    decision = loaded.tasks_accept(first.task_id)
    assert (decision.status, decision.changed) == ("accepted", True)
    assert loaded.tasks_accept(first.task_id).changed is False
    with pytest.raises(msp.InputRejected, match="cannot be rejected now"):
        loaded.tasks_reject(first.task_id)
    assert stored(conn, workspace, "SELECT count(*) FROM workflow_events WHERE workspace = %s "
                                   "AND event_type = 'strategy.rule.applied'") == 1

    state = loaded.state_set(active_candidates="c-1, c-2", attention_score=72)
    assert (state.active_candidates, state.attention_score) == (["c-1", "c-2"], 72.0)
    assert loaded.state_show() == state

    alert = loaded.alerts_list(status="active", limit=1)[0]
    triggered = loaded.alerts_trigger(alert.alert_id, price=600.0, auto_log=True)
    assert triggered.journal == results.JournalDraft(journal_id=f"ja_{alert.alert_id}", created=True)
    assert loaded.journal_auto_log(alert.alert_id).created is False
    entry = loaded.journal_show(f"ja_{alert.alert_id}")
    assert entry.alert_id == alert.alert_id and entry.tags[0] == "auto_alert_draft"
    assert loaded.journal_list(limit=1)[0].model_dump(mode="json")["tags"] == " ".join(entry.tags)

    assert loaded.rejects_list() == results.RejectList([])
    with pytest.raises(msp.UsageError, match="name the reject ids"):
        loaded.rejects_retry()
    assert loaded.rejects_retry(all=True) == results.RetryResult(retried=0, ingested=0, duplicates=0,
                                                                 still_rejected=0)


def test_schemas_and_doctor(ws):
    assert "signal.created" in [row.event_type for row in ws.schemas_list()]
    assert ws.schemas_show("signal.created").root["payload"]["title"] == "signal.created v1 payload"
    assert "today" in ws.schemas_list(output=True)
    assert ws.schemas_show("tasks list", output=True).root["type"] == "array"
    assert ws.doctor().row_level_security.workspace_tables > 0
