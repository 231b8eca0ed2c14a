"""Migrations where users run them (issue 17): squawk's lock-safety lint in --check,
--status and --dry-run against a real database, lock and statement timeouts with a
named blocker, no-transaction files, and the CI / pre-commit recipes."""

from __future__ import annotations

import hashlib
import shlex
import threading
import time
import uuid
from pathlib import Path

import psycopg
import pytest

from msp.engine.migration_check import catalog_snapshot, run_check
from msp.engine.migration_locks import statement_locks
from msp.engine.migration_files import checksum, load_migrations, split_statements
from msp.engine.migrations import MigrationBlocked, Timeouts, current_level, migrate
from support import ROOT, invoke

# sha256 of each file as main shipped it before issue 17: what every existing database recorded
MAIN_CHECKSUMS = {
    "001_workflow_events.sql": "7d1903ef9e7ef076c7d14be8e95842ef08e5d36986da81a7274f7cec3001c732",
    "002_rejected_lines.sql": "6dd6cb757881643c6b78874dd42a6946b7a321e1a2ecc38a74c6cceae8ffbc75",
    "003_automation_state.sql": "e8435d821d689d2b87200056cde310da9afadfe908b2211177e86e7f37f6a234",
    "004_alerts_and_journal.sql": "201d720ce636fbc2290f694314e3e7f12d2d818874b518dfbd23ef3d20864dfa",
    "005_coach.sql": "5eabe11ec6e37ef364982d55a2aec6de1cd202339edb36d877dfc4ebffe7550e",
    "006_operator_state.sql": "23bfd86895c74e4910ea5b7d2ffa14f3d51aa6d3cc2a41d1938271b95530806a",
    "007_task_queue_order.sql": "ecf6b9ef3f7413af2e97d8d9bf234b2f0afc165db4bb7e9f21d88f34d1d3fd03",
    "008_row_level_security.sql": "811da8c9c2acfcc62ed3815177f5bc293754fbb8803118fff69f8cce19c74196",
    "009_close_seq_index.sql": "04412e3fc099b60d7da3973574deb18d3f8cbb4388126f35fd3c01b36b1ac9ce",
    "010_workflow_stages.sql": "717fd475505dd28672e1876a51c25468f8816fe7964edd6d6698e7cebccc550a",
    "011_pending_task_counts.sql": "31f81f2d75ba13de4c17beb2e2880877dd30429e07974161700092ff81aefb14",
}
TABLE = "CREATE TABLE IF NOT EXISTS t (\n    id bigint PRIMARY KEY,\n    a text\n);\n"
FAST = Timeouts(lock_timeout=0.3, statement_timeout=30, retries=1, backoff=0.05)


def write(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def errors(report):
    return [(f.location, f.rule) for f in report.findings if f.severity == "error"]


def index_flags(c: psycopg.Connection, name: str):
    """(valid, unique) of an index, None when there is none."""
    return c.execute("SELECT indisvalid, indisunique FROM pg_index WHERE indexrelid = to_regclass(%s)",
                     (name,)).fetchone()


def first_applied(url: str, folder: Path) -> list:
    """The migrations of ``folder``, the first of them applied to ``url``."""
    migrations = load_migrations(folder)
    with psycopg.connect(url, autocommit=True) as c:
        migrate(c, migrations[:1])
    return migrations


ALL = [m.filename for m in load_migrations()]  # this msp's files, in order
LATEST = len(ALL)


def migrated_to(url: str, level: int) -> None:
    with psycopg.connect(url, autocommit=True) as c:
        migrate(c, [m for m in load_migrations() if m.version <= level])


# -- lock safety in --check ------------------------------------------------------------------

def test_each_unsafe_migration_of_a_bad_set_is_found_at_its_file_and_line(tmp_path):
    folder = write(tmp_path / "bad", {
        "001_t.sql": TABLE,
        "002_index.sql": "-- an index on a table that holds rows by now\nCREATE INDEX IF NOT EXISTS t_a_idx ON t (a);\n",
        "003_required.sql": "ALTER TABLE t ADD COLUMN IF NOT EXISTS b bigint NOT NULL;\n",
        "004_type.sql": "ALTER TABLE t\n    ALTER COLUMN a TYPE bigint USING a::bigint;\n",
        "005_drop.sql": "DROP TABLE t;\n",
    })
    report = run_check(None, folder)
    assert report.ok is False and report.pg_version == "15.0"
    assert errors(report) == [
        ("002_index.sql:2", "require-concurrent-index-creation"),
        ("003_required.sql:1", "adding-required-field"),
        ("004_type.sql:2", "changing-column-type"),
        ("005_drop.sql:1", "ban-drop-table"),
        ("005_drop.sql:1", "msp-destructive"),
    ]


def test_findings_print_as_file_line_rule_message_with_severity_and_as_a_json_list(tmp_path, capsys):
    from msp.cli.commands.migrate import _render_check

    folder = write(tmp_path / "bad", {"001_t.sql": TABLE, "002_index.sql": "CREATE INDEX IF NOT EXISTS i ON t (a);\n"})
    report = run_check(None, folder)
    with pytest.raises(SystemExit) as exit_:
        _render_check("table", report)
    out, err = capsys.readouterr()
    assert exit_.value.code == 1
    assert err == ("002_index.sql:1: require-concurrent-index-creation: During normal index creation, table updates "
                   "are blocked, but reads are still allowed. [error]\n")
    assert out == "migrations check: FAILED (1 error) (2 files, 2 statements; squawk for PostgreSQL 15.0)\n"
    assert report.model_dump(mode="json")["findings"] == [{
        "file": "002_index.sql", "line": 1, "rule": "require-concurrent-index-creation", "severity": "error",
        "message": "During normal index creation, table updates are blocked, but reads are still allowed."}]


def test_a_finding_is_silenced_in_the_file_with_its_rule_and_a_reason_and_only_so(tmp_path):
    index = "CREATE INDEX IF NOT EXISTS i ON t (a);\n"
    with_reason = "-- squawk-ignore require-concurrent-index-creation -- t holds ten rows\n" + index
    no_reason = "-- squawk-ignore require-concurrent-index-creation\n" + index
    whole_file = "-- squawk-ignore-file require-concurrent-index-creation -- everything\n" + index
    assert errors(run_check(None, write(tmp_path / "a", {"001_t.sql": TABLE, "002_i.sql": with_reason}))) == []
    assert errors(run_check(None, write(tmp_path / "b", {"001_t.sql": TABLE, "002_i.sql": no_reason}))) == [
        ("002_i.sql:1", "msp-ignore-reason")]
    assert ("002_i.sql:1", "msp-ignore-file") in errors(
        run_check(None, write(tmp_path / "c", {"001_t.sql": TABLE, "002_i.sql": whole_file})))


def test_concurrently_needs_a_no_transaction_file(tmp_path):
    concurrent = "CREATE INDEX CONCURRENTLY IF NOT EXISTS i ON t (a);\n"
    report = run_check(None, write(tmp_path / "a", {"001_t.sql": TABLE, "002_i.sql": concurrent}))
    assert ("002_i.sql:1", "msp-concurrently-in-transaction") in errors(report)
    marked = run_check(None, write(tmp_path / "b", {"001_t.sql": TABLE,
                                                   "002_i.sql": "-- msp: no-transaction\n" + concurrent}))
    assert errors(marked) == []


def test_our_own_migrations_pass_squawk_for_every_supported_server_version():
    from msp.engine.migration_check import lint_check
    from msp.engine.migrations import migration_files

    for version in ("15.0", "16.0", "17.0", "18.0"):
        assert lint_check(migration_files(), version) == [], version


def test_check_runs_squawk_for_the_servers_version(database_url):
    result = invoke(["--database-url", database_url, "migrate", "--check", "--format", "json"])
    assert result.exit_code == 0, result.stdout + result.stderr
    with psycopg.connect(database_url) as c:
        major = int(c.execute("SHOW server_version_num").fetchone()[0]) // 10000
    report = result.json()
    assert (report["ok"], report["squawk"], report["dynamic"], report["pg_version"]) == (True, True, True,
                                                                                      f"{major}.0")
    assert {f["rule"] for f in report["findings"]} == {"msp-sqlglot-fallback"}


def test_offline_check_needs_no_database():
    result = invoke(["--database-url", "postgresql://nobody@127.0.0.1:1/none", "migrate", "--check", "--offline"])
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines()[-1] == ("migrations check: OK (19 files, 96 statements; "
                                              "squawk for PostgreSQL 15.0)")


# -- checksums: accepting a finding in an applied file changes nothing ------------------------

def test_databases_migrated_by_main_keep_their_checksums():
    loaded = {m.filename: m.checksum for m in load_migrations()}
    assert {name: loaded.get(name) for name in MAIN_CHECKSUMS} == MAIN_CHECKSUMS


def test_only_squawk_ignore_lines_leave_the_checksum_alone():
    text = "CREATE TABLE IF NOT EXISTS t (\n    a int\n);\n"
    annotated = "CREATE TABLE IF NOT EXISTS t (\n    -- squawk-ignore prefer-bigint-over-int -- tiny\n    a int\n);\n"
    assert checksum(text) == checksum(annotated) == hashlib.sha256(text.encode()).hexdigest()
    assert checksum(text.replace("a int", "a  int")) != checksum(text)
    assert checksum(text + "-- another comment\n") != checksum(text)
    # the same words inside a function body are code, not a comment
    body = "CREATE OR REPLACE FUNCTION f() RETURNS int LANGUAGE sql AS $$\n-- squawk-ignore x -- y\nSELECT 1\n$$;\n"
    assert checksum(body) == hashlib.sha256(body.encode()).hexdigest()


# -- --status ------------------------------------------------------------------------------------

def test_status_of_a_database_one_migration_behind(fresh_database):
    behind = LATEST - 1
    migrated_to(fresh_database, behind)
    result = invoke(["--database-url", fresh_database, "migrate", "--status", "--format", "json"])
    assert result.exit_code == 1
    status = result.json()
    assert (status["level"], status["in_sync"], status["pending"], status["changed"], status["missing"]) == \
        (behind, False, 1, 0, 0)
    assert [(m["file"], m["state"]) for m in status["migrations"]] == \
        [(name, "applied") for name in ALL[:behind]] + [(ALL[-1], "pending")]
    assert all(m["applied_at"] for m in status["migrations"][:behind]) \
        and status["migrations"][behind]["applied_at"] is None
    with psycopg.connect(fresh_database) as c:  # --status applied nothing, not even the migrate-on-first-use
        assert current_level(c) == behind
    table = invoke(["--database-url", fresh_database, "migrate", "--status"])
    assert table.exit_code == 1 and table.stdout.splitlines()[-1] == f"migration level {behind}: 1 pending"


def test_status_of_a_database_with_a_changed_file_and_one_this_msp_lacks(fresh_database):
    future = LATEST + 1
    migrated_to(fresh_database, LATEST)
    assert invoke(["--database-url", fresh_database, "migrate", "--status"]).exit_code == 0
    with psycopg.connect(fresh_database, autocommit=True) as c:
        c.execute("UPDATE schema_migrations SET checksum = repeat('0', 64) WHERE version = 5")
        c.execute("INSERT INTO schema_migrations (version, name, checksum) VALUES (%s, 'from_the_future', 'f')",
                  (future,))
    result = invoke(["--database-url", fresh_database, "migrate", "--status", "--format", "json"])
    assert result.exit_code == 1
    status = result.json()
    assert (status["level"], status["pending"], status["changed"], status["missing"]) == (future, 0, 1, 1)
    states = {m["version"]: m for m in status["migrations"]}
    assert (states[5]["state"], states[5]["recorded_checksum"], states[5]["checksum"]) == \
        ("changed", "0" * 64, MAIN_CHECKSUMS["005_coach.sql"])
    assert (states[future]["file"], states[future]["state"], states[future]["checksum"]) == \
        (f"{future:03d}_from_the_future.sql", "missing", None)
    # every other command refuses the changed file (exit 3); --status only reports it
    refused = invoke(["--database-url", fresh_database, "migrate"])
    assert refused.exit_code == 3 and "005_coach.sql changed after it was applied" in refused.stderr


def test_status_is_the_twin_of_workspace_migrate_status(fresh_database):
    import msp

    migrated_to(fresh_database, 9)
    with msp.connect(fresh_database) as ws:  # migrate=True by default: the twin still applies nothing
        status = ws.migrate_status()
        assert status.model_dump(mode="json") == invoke(
            ["--database-url", fresh_database, "migrate", "--status", "--format", "json"]).json()
        assert (status.level, status.pending) == (9, LATEST - 9)
        assert ws.migrate_dry_run().files == ALL[9:]
        assert ws.migrate(lock_timeout=2).model_dump() == {"applied": ALL[9:], "level": LATEST}
        assert ws.migrate_status().in_sync is True


# -- --dry-run -----------------------------------------------------------------------------------

def test_dry_run_lists_each_statement_with_its_lock_and_applies_nothing(fresh_database):
    migrated_to(fresh_database, 8)
    result = invoke(["--database-url", fresh_database, "migrate", "--dry-run", "--format", "json"])
    assert result.exit_code == 0, result.stderr
    plan = result.json()
    assert plan["level"] == 8
    assert plan["files"] == ALL[8:]
    first, second = plan["statements"][:2]
    assert (first["file"], first["line"], first["in_transaction"]) == ("009_close_seq_index.sql", 7, False)
    assert first["statement"].startswith("CREATE INDEX CONCURRENTLY IF NOT EXISTS workflow_events_close_seq_idx")
    assert [(lock["table"], lock["mode"]) for lock in first["locks"]] == [("workflow_events",
                                                                           "SHARE UPDATE EXCLUSIVE")]
    assert (second["in_transaction"], [(lock["table"], lock["mode"]) for lock in second["locks"]]) == \
        (True, [("workflow_events", "SHARE")])
    triggers = [s for s in plan["statements"] if s["statement"].startswith("CREATE OR REPLACE TRIGGER")]
    assert [(s["file"], s["line"], s["locks"][0]["table"], s["locks"][0]["mode"]) for s in triggers] == [
        ("010_workflow_stages.sql", 74, "workflow_events", "SHARE ROW EXCLUSIVE"),
        ("011_pending_task_counts.sql", 35, "coach_tasks", "SHARE ROW EXCLUSIVE"),
        ("011_pending_task_counts.sql", 40, "coach_tasks", "SHARE ROW EXCLUSIVE"),
        ("011_pending_task_counts.sql", 45, "coach_tasks", "SHARE ROW EXCLUSIVE"),
        ("011_pending_task_counts.sql", 50, "coach_tasks", "SHARE ROW EXCLUSIVE"),
        ("014_ingest_checkpoints.sql", 36, "workflow_events", "SHARE ROW EXCLUSIVE"),
        ("017_desk_scale.sql", 63, "workflow_events", "SHARE ROW EXCLUSIVE"),
        ("018_archive.sql", 84, "workflow_events", "SHARE ROW EXCLUSIVE"),
    ]
    with psycopg.connect(fresh_database) as c:
        assert current_level(c) == 8
        assert c.execute("SELECT to_regclass('workflow_events_close_seq_idx')").fetchone()[0] is None
    text = invoke(["--database-url", fresh_database, "migrate", "--dry-run"])
    assert text.stdout.splitlines()[:3] == [
        "009_close_seq_index.sql:7 (outside a transaction)",
        "  CREATE INDEX CONCURRENTLY IF NOT EXISTS workflow_events_close_seq_idx ON workflow_events (workspace, seq) "
        "WHERE event_type = 'trade.closed'",
        "  lock: SHARE UPDATE EXCLUSIVE on workflow_events — blocks schema changes, VACUUM and ANALYZE (reads and "
        "writes go on) (built before the transaction)",
    ]
    assert text.stdout.splitlines()[-1] == f"{LATEST - 8} files to apply ({', '.join(ALL[8:])}); nothing applied"


@pytest.mark.parametrize("sql, locks", [
    ("CREATE INDEX IF NOT EXISTS i ON t (a)", [("t", "SHARE")]),
    ("CREATE INDEX CONCURRENTLY IF NOT EXISTS i ON t (a)", [("t", "SHARE UPDATE EXCLUSIVE")]),
    ("ALTER TABLE t ADD COLUMN IF NOT EXISTS b text", [("t", "ACCESS EXCLUSIVE")]),
    ("ALTER TABLE t ADD CONSTRAINT f FOREIGN KEY (a) REFERENCES u (b) NOT VALID",
     [("t", "SHARE ROW EXCLUSIVE"), ("u", "SHARE ROW EXCLUSIVE")]),
    ("ALTER TABLE t VALIDATE CONSTRAINT f", [("t", "SHARE UPDATE EXCLUSIVE")]),
    ("ALTER TABLE t SET (fillfactor = 90), ALTER COLUMN a SET STATISTICS 500", [("t", "SHARE UPDATE EXCLUSIVE")]),
    ("DROP INDEX CONCURRENTLY IF EXISTS i", [("(table of index i)", "SHARE UPDATE EXCLUSIVE")]),
    ("DROP TABLE IF EXISTS s.t", [("s.t", "ACCESS EXCLUSIVE")]),
    ("CREATE OR REPLACE TRIGGER g AFTER INSERT ON t FOR EACH ROW EXECUTE FUNCTION f()", [("t", "SHARE ROW EXCLUSIVE")]),
    ("INSERT INTO t SELECT * FROM u JOIN v USING (a)", [("t", "ROW EXCLUSIVE"), ("u", "ACCESS SHARE"),
                                                        ("v", "ACCESS SHARE")]),
    ("ANALYZE t", [("t", "SHARE UPDATE EXCLUSIVE")]),
    ("VACUUM FULL t", [("t", "ACCESS EXCLUSIVE")]),
    ("TRUNCATE t", [("t", "ACCESS EXCLUSIVE")]),
    ("LOCK TABLE t IN SHARE ROW EXCLUSIVE MODE", [("t", "SHARE ROW EXCLUSIVE")]),
    ("CREATE OR REPLACE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$", []),
    ("DO $$ BEGIN PERFORM 1; END $$", [(None, None)]),
])
def test_lock_levels_follow_the_documented_table(sql, locks):
    (statement,) = split_statements(sql)
    assert [(lock.table, lock.mode) for lock in statement_locks(statement.node)] == locks


# -- never freeze production -------------------------------------------------------------------

def holder(url: str, table: str, application: str = "desk-blocker") -> psycopg.Connection:
    """A writer whose transaction stays open: ROW EXCLUSIVE on ``table`` until rollback."""
    c = psycopg.connect(url, application_name=application)
    c.execute(f"LOCK TABLE {table} IN ROW EXCLUSIVE MODE")
    return c


def test_a_lock_not_granted_rolls_back_retries_then_exits_3_naming_table_and_blocker(fresh_database):
    migrated_to(fresh_database, 10)
    blocker = holder(fresh_database, "coach_tasks")
    try:
        pid = blocker.info.backend_pid
        started = time.monotonic()
        result = invoke(["--database-url", fresh_database, "migrate", "--lock-timeout", "0.2", "--retries", "1"])
        assert time.monotonic() - started >= 1.0  # waited the one backoff
        assert result.exit_code == 3 and result.stdout == ""
        [line] = result.stderr.splitlines()
        assert line.startswith(
            "msp: error: migration 011_pending_task_counts.sql line 35: lock on coach_tasks not granted within "
            f"lock_timeout 0.2s (2 attempts); blocked by pid {pid} (application 'desk-blocker', idle in transaction, "
            "query started ")
        assert line.endswith("holding RowExclusiveLock on coach_tasks); nothing of it was applied")
        with psycopg.connect(fresh_database) as c:  # nothing half-applied: 011's table was rolled back too
            assert current_level(c) == 10
            assert c.execute("SELECT to_regclass('pending_task_counts')").fetchone()[0] is None
    finally:
        blocker.rollback()
        blocker.close()
    assert invoke(["--database-url", fresh_database, "migrate"]).stdout == \
        "".join(f"applied {name}\n" for name in ALL[10:]) + f"migration level {LATEST}\n"


def test_the_migrate_on_first_use_of_any_command_is_bounded_the_same_way(fresh_database, monkeypatch, workspace):
    import msp.engine.migrations as migrations

    monkeypatch.setattr(migrations, "DEFAULT_TIMEOUTS", FAST)
    migrated_to(fresh_database, 10)
    blocker = holder(fresh_database, "coach_tasks")
    try:
        result = invoke(["--database-url", fresh_database, "--workspace", workspace, "today"])
        assert result.exit_code == 3 and result.stdout == ""
        assert result.stderr.startswith("msp: error: migration 011_pending_task_counts.sql line 35: lock on "
                                        "coach_tasks not granted within lock_timeout 0.3s (2 attempts); blocked by "
                                        f"pid {blocker.info.backend_pid} (application 'desk-blocker'")
        with psycopg.connect(fresh_database) as c:
            assert current_level(c) == 10
    finally:
        blocker.rollback()
        blocker.close()
    assert invoke(["--database-url", fresh_database, "--workspace", workspace, "today"]).exit_code == 0


def test_a_statement_running_past_statement_timeout_rolls_the_whole_transaction_back(fresh_database, tmp_path):
    from msp.engine.errors import DatabaseError

    folder = write(tmp_path / "m", {"001_t.sql": TABLE, "002_slow.sql": "SELECT pg_sleep(2);\n"})
    with psycopg.connect(fresh_database, autocommit=True) as c:
        with pytest.raises(DatabaseError) as failed:
            migrate(c, load_migrations(folder), Timeouts(lock_timeout=1, statement_timeout=0.2, retries=0))
        assert failed.value.message == ("migration 002_slow.sql line 1: cancelled after statement_timeout 0.2s "
                                        "(or by an operator); rolled back, nothing of it was applied")
        assert current_level(c) == 0 and c.execute("SELECT to_regclass('t')").fetchone() == (None,)


def test_upgrading_through_009_builds_its_index_concurrently_so_writers_go_on(fresh_database):
    migrated_to(fresh_database, 8)
    in_flight = holder(fresh_database, "workflow_events")
    outcome = {}

    def upgrade():
        with psycopg.connect(fresh_database, autocommit=True) as c:
            outcome["applied"] = [m.filename for m in migrate(
                c, [m for m in load_migrations() if m.version <= 9], Timeouts(lock_timeout=20, retries=0))]

    thread = threading.Thread(target=upgrade)
    thread.start()
    try:
        with psycopg.connect(fresh_database, autocommit=True) as watch:
            for _ in range(200):  # until the build waits for the writer in flight
                if watch.execute("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type IN ('Lock') "
                                 "AND query LIKE 'CREATE INDEX CONCURRENTLY%%'").fetchone()[0]:
                    break
                time.sleep(0.05)
            else:
                pytest.fail("the concurrent build never waited")
            with psycopg.connect(fresh_database) as writer:  # a new writer is not queued behind the build
                writer.execute("SET lock_timeout = '1s'")
                writer.execute("LOCK TABLE workflow_events IN ROW EXCLUSIVE MODE")
                writer.rollback()
    finally:
        in_flight.rollback()
        in_flight.close()
        thread.join(30)
    assert outcome["applied"] == ["009_close_seq_index.sql"]
    with psycopg.connect(fresh_database) as c:
        assert index_flags(c, "workflow_events_close_seq_idx") == (True, False)


def test_the_same_index_built_in_the_transaction_would_have_queued_every_writer(fresh_database):
    """The contrast that makes the test above meaningful: a plain CREATE INDEX waiting
    for the writer in flight holds every later writer off."""
    migrated_to(fresh_database, 8)
    in_flight = holder(fresh_database, "workflow_events")
    builder = psycopg.connect(fresh_database)
    thread = threading.Thread(target=lambda: builder.execute(
        "CREATE INDEX IF NOT EXISTS workflow_events_close_seq_idx ON workflow_events (workspace, seq)"))
    thread.start()
    try:
        time.sleep(0.5)
        with psycopg.connect(fresh_database) as writer:
            writer.execute("SET lock_timeout = '300ms'")
            with pytest.raises(psycopg.errors.LockNotAvailable):
                writer.execute("LOCK TABLE workflow_events IN ROW EXCLUSIVE MODE")
    finally:
        in_flight.rollback()
        in_flight.close()
        thread.join(30)
        builder.rollback()
        builder.close()


def test_an_upgraded_database_has_the_catalog_of_a_new_one(fresh_database, server_url):
    from support import drop_database, make_database

    migrated_to(fresh_database, 8)
    with psycopg.connect(fresh_database, autocommit=True) as c:
        # a crashed concurrent build left an invalid index of 009's name; IF NOT EXISTS alone would keep it
        c.execute("INSERT INTO workflow_events (workspace, event_id, event_type, event_version, occurred_at, "
                  "workflow_id, event) SELECT 'w', 'e' || n, 'trade.closed', 1, now(), 'wf', '{}' "
                  "FROM generate_series(1, 2) AS n")
        with pytest.raises(psycopg.errors.UniqueViolation):
            c.execute("CREATE UNIQUE INDEX CONCURRENTLY workflow_events_close_seq_idx ON workflow_events (workspace)")
        assert index_flags(c, "workflow_events_close_seq_idx") == (False, True)
        migrate(c)
        upgraded = catalog_snapshot(c)
    fresh_name = f"msp_fresh_for_compare_{uuid.uuid4().hex[:8]}"  # no collision with another run on the server
    fresh = make_database(server_url, fresh_name)
    try:
        migrated_to(fresh, LATEST)
        with psycopg.connect(fresh) as c:
            assert catalog_snapshot(c) == upgraded
    finally:
        drop_database(server_url, fresh_name)


# -- no-transaction files ----------------------------------------------------------------------

def test_a_no_transaction_file_runs_in_autocommit_and_an_invalid_index_is_rebuilt_on_the_next_run(
        fresh_database, tmp_path):
    folder = write(tmp_path / "m", {
        "001_t.sql": TABLE + "INSERT INTO t VALUES (1, 'x'), (2, 'x') ON CONFLICT DO NOTHING;\n",
        "002_unique_a.sql": "-- msp: no-transaction\n"
                            "CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS t_a_key ON t (a);\n",
    })
    migrations = load_migrations(folder)
    assert [m.transactional for m in migrations] == [True, False]
    with psycopg.connect(fresh_database, autocommit=True) as c:
        with pytest.raises(psycopg.errors.UniqueViolation):  # the crash: a build that fails half-way
            migrate(c, migrations, FAST)
        assert current_level(c) == 1
        assert index_flags(c, "t_a_key") == (False, True)
        c.execute("DELETE FROM t WHERE id = 2")
        assert [m.filename for m in migrate(c, migrations, FAST)] == ["002_unique_a.sql"]
        assert index_flags(c, "t_a_key") == (True, True)
        assert current_level(c) == 2


def test_a_no_transaction_file_waits_no_longer_than_lock_timeout_and_leaves_no_session_setting(
        fresh_database, tmp_path):
    folder = write(tmp_path / "m", {
        "001_t.sql": TABLE,
        "002_a.sql": "-- msp: no-transaction\nCREATE INDEX CONCURRENTLY IF NOT EXISTS t_a_idx ON t (a);\n",
    })
    migrations = first_applied(fresh_database, folder)
    with psycopg.connect(fresh_database, autocommit=True) as c:
        blocker = psycopg.connect(fresh_database, application_name="nightly-report")
        blocker.execute("LOCK TABLE t IN SHARE MODE")  # SHARE conflicts with the build's SHARE UPDATE EXCLUSIVE
        try:
            with pytest.raises(MigrationBlocked) as blocked:
                migrate(c, migrations, FAST, sleep=lambda seconds: None)
            assert blocked.value.message.startswith(
                "migration 002_a.sql line 2: lock on t not granted within lock_timeout 0.3s (2 attempts); blocked by "
                f"pid {blocker.info.backend_pid} (application 'nightly-report'")
        finally:
            blocker.rollback()
            blocker.close()
        assert c.execute("SHOW lock_timeout").fetchone() == ("0",)  # the migrating connection kept no setting
        assert c.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND database = "
                         "(SELECT oid FROM pg_database WHERE datname = current_database())").fetchone() == (0,)
        assert [m.filename for m in migrate(c, migrations, FAST)] == ["002_a.sql"]


def test_an_invalid_index_is_rebuilt_by_a_transactional_file_too(fresh_database, tmp_path):
    folder = write(tmp_path / "m", {
        "001_t.sql": TABLE,
        "002_b.sql": "ALTER TABLE t ADD COLUMN IF NOT EXISTS b int;\nCREATE INDEX IF NOT EXISTS t_b_idx ON t (b);\n",
    })
    migrations = first_applied(fresh_database, folder)
    with psycopg.connect(fresh_database, autocommit=True) as c:
        c.execute("ALTER TABLE t ADD COLUMN b int")
        c.execute("INSERT INTO t VALUES (1, 'x', 7), (2, 'y', 7)")
        with pytest.raises(psycopg.errors.UniqueViolation):
            c.execute("CREATE UNIQUE INDEX CONCURRENTLY t_b_idx ON t (b)")
        assert [m.filename for m in migrate(c, migrations, FAST)] == ["002_b.sql"]
        assert index_flags(c, "t_b_idx") == (True, False)


# -- recipes -------------------------------------------------------------------------------------

def msp_commands(text: str) -> list[list[str]]:
    """Every line of a shell snippet that runs msp, as arguments."""
    return [shlex.split(line) for line in map(str.strip, text.splitlines()) if line.split(" ", 1)[0] == "msp"]


def assert_runs(args: list[str]) -> None:
    """The command and each of its options exist (an unknown one is a usage error, exit 2)."""
    result = invoke(args[1:] + ["--help"])
    assert result.exit_code == 0 and result.stdout.startswith("Usage: msp migrate"), (args, result.stderr)


def test_the_github_actions_recipe_is_valid_yaml_and_runs_existing_commands():
    import yaml

    workflow = yaml.safe_load((ROOT / "docs/recipes/github-actions-migrations.yml").read_text())
    job = workflow["jobs"]["migrations"]
    assert job["services"]["postgres"]["image"] == "postgres:15"
    steps = {step.get("run"): step for step in job["steps"]}
    assert "pip install ." in steps
    assert [msp_commands(run) for run in steps if run and "msp" in run] == [[["msp", "migrate", "--check"]],
                                                                           [["msp", "migrate", "--status"]]]
    assert steps["msp migrate --status"]["env"] == {"MSP_DATABASE_URL": "${{ secrets.STAGING_DATABASE_URL }}"}
    assert_runs(["msp", "migrate", "--check"])
    assert_runs(["msp", "migrate", "--status"])
    assert invoke(["migrate", "--stats", "--help"]).exit_code == 2  # the probe can fail


def test_the_pre_commit_recipe_is_valid_yaml_and_runs_an_existing_command():
    import yaml

    config = yaml.safe_load((ROOT / "docs/recipes/pre-commit-config.yaml").read_text())
    [hook] = [hook for repo in config["repos"] for hook in repo["hooks"]]
    assert (hook["language"], hook["pass_filenames"], hook["files"]) == ("system", False, r"^migrations/.*\.sql$")
    [args] = msp_commands(hook["entry"])
    assert args == ["msp", "migrate", "--check", "--offline"]
    assert_runs(args)


def test_the_readme_shows_both_recipes_as_they_are_in_the_repository():
    readme = (ROOT / "README.md").read_text()
    for path in ("docs/recipes/github-actions-migrations.yml", "docs/recipes/pre-commit-config.yaml"):
        assert (ROOT / path).read_text().strip() in readme, path
