"""Two workspaces in one database never see, count, decide or enrich each other's
data — through every command, and through row-level security even for a query
that forgot its workspace filter.  Hostile strings are stored verbatim and
rendered harmlessly."""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path

import psycopg
import pytest

import events as ev
from support import FIXTURES, invoke
from snapshot import snapshot

DAY = "2026-11-20"
ESCAPE_PAYLOADS = [
    "x'); DROP TABLE workflow_events; --",
    "\x1b[2J\x1b[31mRED\x1b[0m \x1b]0;owned\x07",
    "$(rm -rf ~) `reboot` | tee /etc/passwd && echo \"quoted\"",
    "Robert'); DELETE FROM coach_tasks WHERE ('1'='1",
    "\u202eevil-bidi \u0007bell \r carriage",
]

# Every read command, as a new user would run it, with options that pin the day.
READ_COMMANDS = [
    ("today", "--date", DAY),
    ("conversion", "--date", DAY, "--days", "3"),
    ("conversion", "--date", DAY, "--days", "3", "--cohort"),
    ("presence",),
    ("tasks", "list"),
    ("tasks", "list", "--status", "all"),
    ("state", "show"),
    ("alerts", "list"),
    ("journal", "list"),
    ("rejects", "list"),
    ("operator", "--date", DAY),
    ("trace", "wf-2026-11-20-nvda-0935"),
    ("review", "--week", DAY, "--rule-window", "2"),
]


def run(url, workspace, *args, input=None):
    return invoke(["--database-url", url, "--workspace", workspace, "--format", "json", *args], input=input)


def load(url, workspace, *files):
    for f in files:
        result = run(url, workspace, "ingest", str(f))
        assert result.exit_code in (0, 1), result.stderr
    assert run(url, workspace, "automate").exit_code == 0


def hostile_events():
    """A workflow whose free text is nothing but attack payloads."""
    events = []
    for n, text in enumerate(ESCAPE_PAYLOADS):
        wf = f"wf-hostile-{n}"
        cand = ev.candidate("TSLA", "pass", 80, workflow=wf, candidate_id=f"c-hostile-{n}",
                            at="2026-11-20T10:00:00-05:00")
        cand["payload"]["checks"][0]["detail"] = text
        events.append(cand)
        events.append(ev.journal_updated(f"j-hostile-{n}", "TSLA", workflow=wf, notes=text, strategy=text,
                                         at="2026-11-20T10:05:00-05:00"))
        signal = ev.signal("TSLA", workflow=wf, at="2026-11-20T09:59:00-05:00", signal_id=f"s-hostile-{n}")
        signal["payload"]["source"] = {"module": text, "submodule": text}  # the operator's "Signal sources"
        events.append(signal)
    return events


@pytest.fixture(scope="module")
def two_workspaces(tmp_path_factory, server_url):
    """One database with workspace 'alpha' (the example day) and 'bravo' (the
    week of history, bad lines and hostile strings); a second database with
    'alpha' alone, for comparison."""
    from support import drop_database, make_database
    from servers import migrated

    tmp = tmp_path_factory.mktemp("iso")
    suffix = uuid.uuid4().hex[:8]  # runs against one server at once (CI passes, helpers) must not collide
    shared_name, alone_name = f"msp_iso_shared_{suffix}", f"msp_iso_alone_{suffix}"
    shared = migrated(make_database(server_url, shared_name))
    alone = migrated(make_database(server_url, alone_name))
    hostile = tmp / "hostile.jsonl"
    ev.write(hostile, *hostile_events())
    quarantined = tmp / f"evil{ESCAPE_PAYLOADS[1]}.jsonl"  # a file name and a bad line that are attacks too
    quarantined.write_bytes(ESCAPE_PAYLOADS[1].encode() + b"\n" + ESCAPE_PAYLOADS[4].encode() + b"\n")
    load(shared, "bravo", FIXTURES / "history_week.jsonl", FIXTURES / "bad_lines.jsonl", hostile, quarantined)
    assert run(shared, "bravo", "state", "set", "--focus", ESCAPE_PAYLOADS[1], "--mode", ESCAPE_PAYLOADS[4]
               ).exit_code == 0
    load(shared, "alpha", FIXTURES / "trading_day.jsonl", FIXTURES / "bad_lines.jsonl")
    load(alone, "alpha", FIXTURES / "trading_day.jsonl", FIXTURES / "bad_lines.jsonl")
    yield shared, alone
    drop_database(server_url, shared_name)
    drop_database(server_url, alone_name)


@pytest.mark.parametrize("command", READ_COMMANDS, ids=lambda c: " ".join(c))
def test_every_read_command_shows_exactly_what_it_shows_without_the_other_workspace(two_workspaces, command):
    shared, alone = two_workspaces
    with_neighbour = run(shared, "alpha", *command)
    by_itself = run(alone, "alpha", *command)
    assert with_neighbour.exit_code == by_itself.exit_code == 0, with_neighbour.stderr
    assert comparable(with_neighbour.json()) == comparable(by_itself.json())
    for marker in ("hostile", "DROP TABLE", "wf-2026-11-1"):  # bravo's workflows and strings
        assert marker not in with_neighbour.stdout


def comparable(data):
    """Quarantine ids and times are the database's own (a sequence, now()): drop them."""
    if isinstance(data, list):
        return [comparable(x) for x in data]
    if isinstance(data, dict):
        return {k: comparable(v) for k, v in data.items() if k not in ("reject_id", "rejected_at")}
    return data


def ids(url, workspace, sql):
    with psycopg.connect(url) as conn:
        return [r[0] for r in conn.execute(sql, (workspace,)).fetchall()]


def test_no_command_of_one_workspace_decides_or_changes_the_others_items(two_workspaces):
    shared, _ = two_workspaces
    task = ids(shared, "bravo", "SELECT task_id FROM coach_tasks WHERE workspace = %s AND status = 'pending' LIMIT 1")[0]
    alert = ids(shared, "bravo", "SELECT alert_id FROM alerts WHERE workspace = %s LIMIT 1")[0]
    journal = ids(shared, "bravo", "SELECT journal_id FROM journal_entries WHERE workspace = %s LIMIT 1")[0]
    reject = ids(shared, "bravo", "SELECT reject_id FROM rejected_lines WHERE workspace = %s LIMIT 1")[0]
    with psycopg.connect(shared) as conn:
        before = snapshot(conn, "bravo")
    attempts = {
        ("tasks", "accept", task): "task not found",
        ("tasks", "reject", task): "task not found",
        ("alerts", "trigger", alert, "--price", "1"): "not found",
        ("journal", "show", journal): "not found",
        ("journal", "auto-log", alert): "not found",
        ("rejects", "show", str(reject)): "not found",
        ("trace", "wf-hostile-0"): "no workflow or event with id wf-hostile-0",
    }
    for args, message in attempts.items():
        result = run(shared, "alpha", *args)
        assert result.exit_code == 1, (args, result.stdout, result.stderr)
        assert message in result.stderr.lower(), (args, result.stderr)
    retried = run(shared, "alpha", "rejects", "retry", str(reject))
    assert retried.exit_code == 1 and f"no quarantined line with id {reject} " in retried.stderr, retried
    assert run(shared, "alpha", "state", "set", "--focus", "alpha only").exit_code == 0
    assert run(shared, "alpha", "automate", "--replay", "--since", "2000-01-01T00:00:00Z").exit_code == 0
    with psycopg.connect(shared) as conn:
        assert snapshot(conn, "bravo") == before
        assert conn.execute("SELECT count(*) FROM operator_state WHERE workspace = 'bravo' AND focus = 'alpha only'"
                            ).fetchone()[0] == 0


def test_row_level_security_stops_a_query_that_forgot_its_workspace(two_workspaces):
    """The second wall: msp's transactions run as msp_app, bound by the policies."""
    from msp.engine.db import connect, workspace_transaction

    shared, _ = two_workspaces
    tables = ["workflow_events", "rejected_lines", "automation_checkpoints", "positions", "closed_trades", "alerts",
              "journal_entries", "coach_analyses", "coach_tasks", "journal_enrichments", "operator_state",
              "workflow_stages", "pending_task_counts"]
    with psycopg.connect(shared) as admin:
        truth = {t: dict(admin.execute(f"SELECT workspace, count(*) FROM {t} GROUP BY 1").fetchall())
                 for t in tables}
    assert all(truth[t].get("bravo") for t in tables if t != "operator_state"), truth
    conn = connect(shared)
    try:
        for t in tables:
            with workspace_transaction(conn, "alpha"):
                unscoped = conn.execute(f"SELECT count(*), count(*) FILTER (WHERE workspace <> 'alpha') FROM {t}"
                                        ).fetchone()
            assert unscoped == (truth[t].get("alpha", 0), 0), t
        with workspace_transaction(conn, "alpha"):  # an unscoped UPDATE touches only alpha's rows
            changed = conn.execute("UPDATE coach_tasks SET detail = detail").rowcount
        assert changed == truth["coach_tasks"]["alpha"]
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"):
            with workspace_transaction(conn, "alpha"):
                conn.execute("INSERT INTO operator_state (workspace, focus) VALUES ('bravo', 'smuggled')")
        with workspace_transaction(conn, "alpha"):
            assert conn.execute("SELECT current_user").fetchone()[0] == "msp_app"
    finally:
        conn.close()
    doctor = run(shared, "alpha", "doctor").json()
    assert doctor["row_level_security"] == {"active": True, "role": "msp_app", "tables_with_policy": 17,
                                            "workspace_tables": 17}  # with ingest_checkpoints (issue 15), automation_failures (issue 11), archives + archived_events (issue 16)


def test_hostile_strings_are_stored_verbatim_and_rendered_harmlessly(two_workspaces):
    shared, _ = two_workspaces
    with psycopg.connect(shared) as conn:
        stored = dict(conn.execute(
            "SELECT journal_id, notes FROM journal_entries WHERE workspace = 'bravo' AND journal_id LIKE 'j-hostile-%%'"
        ).fetchall())
        details = [r[0] for r in conn.execute(
            "SELECT event #>> '{payload,checks,0,detail}' FROM workflow_events WHERE workspace = 'bravo' "
            "AND event_type = 'candidate.created' AND workflow_id LIKE 'wf-hostile-%%' ORDER BY workflow_id")]
        assert conn.execute("SELECT to_regclass('workflow_events') IS NOT NULL").fetchone()[0]
    assert [stored[f"j-hostile-{n}"] for n in range(len(ESCAPE_PAYLOADS))] == ESCAPE_PAYLOADS
    assert details == ESCAPE_PAYLOADS
    for n, text in enumerate(ESCAPE_PAYLOADS):
        as_json = run(shared, "bravo", "journal", "show", f"j-hostile-{n}")
        assert as_json.exit_code == 0 and "\x1b" not in as_json.stdout
        assert as_json.json()["notes"] == text  # JSON escapes it and gives it back exactly
        for fmt in ("table", "csv"):
            shown = invoke(["--database-url", shared, "--workspace", "bravo", "--format", fmt,
                            "journal", "show", f"j-hostile-{n}"])
            assert shown.exit_code == 0
            assert not any(c in shown.stdout for c in "\x1b\x07\u202e\r"), repr(shown.stdout)
    trace = invoke(["--database-url", shared, "--workspace", "bravo", "trace", "wf-hostile-1"])
    assert trace.exit_code == 0 and "\x1b" not in trace.stdout


def test_the_wall_stands_for_a_non_superuser_owner_as_on_managed_postgres(tmp_path_factory):
    """On RDS, Neon and the like msp's user owns its database and may create
    roles but is no superuser.  On a fresh server (no msp_app yet) that user
    migrates, creates the app role itself and works behind the wall."""
    from servers import Cluster

    cluster = Cluster(tmp_path_factory.mktemp("managed")).init()
    cluster.start()
    try:
        url = cluster.managed_database()
        assert run(url, "alpha", "migrate").exit_code == 0
        load(url, "alpha", FIXTURES / "trading_day.jsonl")
        load(url, "bravo", FIXTURES / "history_week.jsonl")
        doctor = run(url, "alpha", "doctor").json()
        assert doctor["row_level_security"]["active"] is True, doctor
        today = run(url, "alpha", "today", "--date", DAY).json()
        assert today["counts"]["signals"] == 10
        from msp.engine.db import connect, workspace_transaction

        conn = connect(url)
        try:
            with workspace_transaction(conn, "alpha"):
                assert conn.execute("SELECT count(DISTINCT workspace) FROM workflow_events").fetchone()[0] == 1
        finally:
            conn.close()
    finally:
        cluster.stop("immediate")


CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f\u202a-\u202e\u2066-\u2069]")
JSON_CONTROL = re.compile("[\x00-\x09\x0b-\x1f]")


def hostile_cases(url):
    """Every command and subcommand of `msp --help`, run in workspace bravo (the hostile one)."""
    ids = lambda sql: [r[0] for r in psycopg.connect(url).execute(sql).fetchall()]  # noqa: E731
    alert = ids("SELECT alert_id FROM alerts WHERE workspace = 'bravo' AND level IS NOT NULL ORDER BY 1 LIMIT 1")[0]
    task = ids("SELECT task_id FROM coach_tasks WHERE workspace = 'bravo' AND status = 'pending' ORDER BY 1")
    reject = ids("SELECT reject_id FROM rejected_lines WHERE workspace = 'bravo' AND source LIKE '%%evil%%'")[0]
    failure = hostile_failure(url)
    return {
        "demo": ("--workspace", "bravo-demo", "demo"), "ingest": ("ingest", str(FIXTURES / "bad_lines.jsonl")),
        "validate": ("validate", str(FIXTURES / "bad_lines.jsonl")), "schemas list": ("schemas", "list"),
        "schemas show": ("schemas", "show", "journal.updated"), "rejects list": ("rejects", "list"),
        "rejects show": ("rejects", "show", str(reject)), "rejects retry": ("rejects", "retry", str(reject)),
        "automate": ("automate",), "alerts list": ("alerts", "list"),
        "automate failures list": ("automate", "failures", "list", "--status", "all"),
        "automate failures show": ("automate", "failures", "show", str(failure)),
        "automate failures retry": ("automate", "failures", "retry", str(failure)),
        "alerts trigger": ("alerts", "trigger", alert, "--price", "10"), "journal list": ("journal", "list"),
        "journal show": ("journal", "show", "j-hostile-1"), "journal auto-log": ("journal", "auto-log", alert),
        "today": ("today", "--date", DAY), "conversion": ("conversion", "--date", DAY, "--cohort"),
        "presence": ("presence",), "tasks list": ("tasks", "list", "--status", "all"),
        "tasks accept": ("tasks", "accept", task[0]), "tasks reject": ("tasks", "reject", task[1]),
        "state show": ("state", "show"), "state set": ("state", "set", "--cognitive-load", "40"),
        "trace": ("trace", "wf-hostile-1"), "operator": ("operator", "--date", DAY), "migrate": ("migrate",),
        "review": ("review", "--from", "2026-11-01", "--to", "2026-11-30", "--by", "tag"),
        "doctor": ("doctor",), "server status": ("server", "status"), "server stop": ("server", "stop"),
        "archive": ("archive", "--before", "2026-11-21", "--dry-run"),  # a dry run: the other cases see the data
        **hostile_imports(),
    }


def hostile_failure(url) -> int:
    """An event the sweep sets aside (too large for the positions index) whose id
    holds a terminal escape, a bidi override and a bell: the failure id."""
    from support import poison_event, store_directly

    event = {**poison_event(9), "event_id": "evt-poison-\x1b[2J\u202eevil\x07"}
    with psycopg.connect(url) as conn:
        stored = conn.execute("SELECT failure_id FROM automation_failures WHERE workspace = 'bravo'").fetchone()
    if stored is not None:
        return stored[0]
    store_directly(url, "bravo", event)
    swept = run(url, "bravo", "automate")
    assert swept.exit_code == 0 and not CONTROL.search(swept.stderr), swept.stderr
    assert "event evt-poison-" in swept.stderr and "set aside as automation failure" in swept.stderr
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT failure_id FROM automation_failures WHERE workspace = 'bravo'").fetchone()[0]


def hostile_imports() -> dict:
    """The importers, each fed a file whose cells and keys hold terminal escapes and bidi overrides."""
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix="msp-hostile-"))
    evil = "\x1b[2J\u202eevil\x07"
    (folder / "alerts.jsonl").write_text(json.dumps({"ticker": evil, "confidence": 70, "close": 1,
                                                     "time": "2026-11-20T15:00:00Z", evil: evil}) + "\n")
    header = FIXTURES.joinpath("ibkr_trades.csv").read_text().splitlines()[0]
    (folder / "fills.csv").write_text(header + "\n" + ",".join([evil] * len(header.split(","))) + "\n")
    (folder / "trades.csv").write_text("Size,EntryBar,ExitBar,EntryPrice,ExitPrice,PnL,ReturnPct,EntryTime,ExitTime,"
                                       f"Duration,Tag\n{evil},1,2,10,11,1,0.1,{evil},2026-11-20,1 days,{evil}\n")
    return {
        "import backtest": ("import", "backtest", str(folder / "trades.csv"), "--symbol", "GOOG", "--strategy", evil,
                            "--tz", "America/New_York"),
        "import fills": ("import", "fills", str(folder / "fills.csv"), "--broker", "ibkr", "--tz", "America/New_York"),
        "import tradingview": ("import", "tradingview", str(folder / "alerts.jsonl")),
    }


def test_every_command_renders_hostile_strings_harmlessly(two_workspaces, tmp_path):
    """Tables, panels, trees and CSV cells all go through cli/render.py's
    safe_text: no command, in any format, prints a raw control character
    (terminal escape, bell, carriage return, bidirectional override), and
    the attacks that reach a screen show as visible escapes."""
    from support import command_paths

    shared, _ = two_workspaces
    commands = hostile_cases(shared)
    assert set(commands) == command_paths()
    shown = {}
    env = {"MSP_DATA_DIR": str(tmp_path / "none"), "MSP_DATABASE_URL": "", "DATABASE_URL": ""}
    for path, args in commands.items():
        for fmt in ("table", "csv", "json"):
            result = invoke(["--database-url", shared, "--workspace", "bravo", "--format", fmt, *args], env=env)
            assert "Traceback" not in result.stderr, (path, fmt, result.stderr)
            # JSON gives strings back exactly (a bidi override stays one), with every C0 control escaped
            pattern = JSON_CONTROL if fmt == "json" else CONTROL
            assert not pattern.search(result.stdout), (path, fmt, repr(result.stdout[:3000]))
            assert not CONTROL.search(result.stderr), (path, fmt, repr(result.stderr[:3000]))
            shown[path, fmt] = result.stdout
    escaped = "\\x1b[2J"  # how ESC [2J reads once made visible
    for path in ("journal show", "operator", "state show", "rejects list", "rejects show"):
        assert escaped in shown[path, "table"], (path, shown[path, "table"][:3000])
    assert escaped in shown["operator", "table"].split("Signal sources")[1]  # the source column, escaped


def test_operator_watch_renders_hostile_strings_harmlessly(two_workspaces):
    """`msp operator --watch` in a pipe, refresh after refresh."""
    import subprocess
    import sys
    import time

    shared, _ = two_workspaces
    proc = subprocess.Popen([sys.executable, "-m", "msp", "--database-url", shared, "--workspace", "bravo",
                             "operator", "--date", DAY, "--watch", "1"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    time.sleep(4)
    proc.terminate()
    out, err = proc.communicate(timeout=60)
    text = out.decode()
    assert err == b"" and text.count("Signal sources") >= 2, (err, text[:500])
    assert not CONTROL.search(text) and "\\x1b[2J" in text
