"""The command line as a user meets it: help, exit codes, database errors, the embedded default, packaging."""

import json
import os
import socket
import subprocess
import sys
import zipfile

import psycopg
import pytest

from support import FIXTURES, ROOT, invoke, run_process, servers_under
from msp.cli.main import COMMANDS


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_help_lists_every_command_with_a_description_and_examples():
    result = invoke(["--help"])
    assert result.exit_code == 0
    flat = " ".join(result.stdout.split())
    for name, (_, description, example) in COMMANDS.items():
        assert f" {name} {description}" in flat and f"e.g. {example}" in flat, name
    assert "Examples:" in result.stdout and "msp demo" in result.stdout


def test_help_starts_without_the_database_driver_or_the_validators():
    """`msp --help` must start fast: nothing heavy is imported to print it (a
    structural check of what the wall-clock target in bench/reports.py measures)."""
    probe = ("import sys, runpy; sys.argv = ['msp', '--help']\n"
             "try:\n    runpy.run_module('msp', run_name='__main__')\nexcept SystemExit as e:\n    code = e.code\n"
             "heavy = sorted(m for m in ('psycopg', 'jsonschema', 'jsonschema_rs', 'rich', 'sqlglot', 'pydantic')"
             " if m in sys.modules)\nprint('HEAVY', heavy, code)")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert result.stdout.strip().splitlines()[-1] == "HEAVY [] 0"


def test_every_command_has_help_with_an_example():
    for name in COMMANDS:
        result = invoke([name, "--help"])
        assert result.exit_code == 0, name
        assert "Example" in result.stdout, name


def test_unknown_command_and_bad_option_are_usage_errors():
    assert invoke(["frobnicate"]).exit_code == 2
    assert invoke(["today", "--date", "yesterday"]).exit_code == 2
    assert invoke(["--format", "xml", "today"]).exit_code == 2
    assert invoke(["--workspace", "bad name!", "today"]).exit_code == 2


def test_refused_connection_is_exit_3_with_host_and_no_password():
    port = free_port()
    result = run_process(["--database-url", f"postgresql://trader:s3cretpass@127.0.0.1:{port}/desk", "today"])
    stderr = result.stderr.decode()
    assert result.returncode == 3
    assert stderr.strip() == f"msp: error: database 127.0.0.1:{port}/desk: connection refused " \
                             "(is PostgreSQL running and listening there?)"
    assert "s3cretpass" not in stderr + result.stdout.decode() and "Traceback" not in stderr


def test_missing_database_and_wrong_password_have_their_own_messages(server_url):
    import psycopg

    info = psycopg.conninfo.conninfo_to_dict(server_url)
    info["dbname"] = "msp_no_such_database"
    missing = run_process(["--database-url", psycopg.conninfo.make_conninfo(**info), "today"])
    assert missing.returncode == 3
    assert "that database does not exist" in missing.stderr.decode()


def test_env_var_database_url_is_used(database_url, workspace):
    result = run_process(["today", "--format", "json"], env={"MSP_DATABASE_URL": database_url,
                                                              "MSP_WORKSPACE": workspace})
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["counts"]["signals"] == 0


def test_embedded_default_demo_twice_and_doctor(tmp_path):
    env = {"MSP_DATA_DIR": str(tmp_path / "data"), "MSP_DATABASE_URL": "", "DATABASE_URL": ""}
    try:
        _demo_twice_and_doctor(tmp_path, env)
    finally:  # the embedded server outlives every command, by design: this test stops the one it started
        stop = run_process(["server", "stop", "--format", "json"], env=env)
        assert stop.returncode == 0 and json.loads(stop.stdout)["stopped"] is True, stop.stderr
    assert servers_under(tmp_path, wait=0) == []


def _demo_twice_and_doctor(tmp_path, env):
    first = run_process(["demo", "--format", "json"], env=env, timeout=300)
    assert first.returncode == 0, first.stderr.decode()
    body = json.loads(first.stdout)
    assert body["ingest"]["ingested"] == 100 and body["automate"]["auto_plans_created"] == 22
    second = run_process(["demo", "--format", "json"], env=env, timeout=300)
    again = json.loads(second.stdout)
    assert again["ingest"]["ingested"] == 0 and again["ingest"]["duplicates"] == 100
    assert all(v == 0 for k, v in again["automate"].items() if k.startswith("auto_"))
    assert again["today"] == body["today"]
    doctor = json.loads(run_process(["doctor", "--format", "json"], env=env).stdout)
    assert doctor["embedded"] is True and doctor["pending_migrations"] == []
    assert doctor["migration_level"] == doctor["migrations_available"] >= 6
    assert doctor["server_version"].split(".")[0] in {"15", "16", "17", "18"}
    assert oct(os.stat(tmp_path / "data").st_mode & 0o777) == "0o700"
    assert oct(os.stat(tmp_path / "data" / "pgdata").st_mode & 0o777) == "0o700"
    text = run_process(["demo"], env=env, timeout=300).stdout.decode()
    assert "Today's workflow" in text and "Operator presence" in text and "Coach action queue" in text


def test_doctor_masks_the_password(database_url):
    import psycopg

    info = psycopg.conninfo.conninfo_to_dict(database_url)
    if "host" not in info or info["host"].startswith("/"):
        pytest.skip("needs a TCP URL to carry a password")
    url = psycopg.conninfo.make_conninfo(**{**info, "password": "hunter2"})
    result = invoke(["--database-url", url, "doctor", "--format", "json"])
    assert "hunter2" not in result.stdout + result.stderr


def test_the_wheel_carries_schemas_migrations_sql_and_fixtures(tmp_path):
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w",
                    str(tmp_path), str(ROOT)], check=True, capture_output=True)
    wheel, = tmp_path.glob("msp-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "msp/schemas/envelope.schema.json" in names
    assert "msp/schemas/events/candidate.created.v1.schema.json" in names
    assert "msp/schemas/output/today.schema.json" in names and "msp/results.py" in names
    assert "msp/migrations/001_workflow_events.sql" in names
    assert "msp/engine/sql/events.sql" in names
    assert "msp/fixtures/trading_day.jsonl" in names
    assert "msp/cli/commands/ingest.py" in names


def test_a_statement_the_server_refuses_is_one_line_and_exit_3_with_nothing_stored(fresh_database):
    """A database whose schema does not match msp's (here a table dropped by hand)."""
    from msp.engine.db import describe_target

    base = ["--database-url", fresh_database, "--workspace", "w"]
    assert invoke(base + ["migrate"]).exit_code == 0
    with psycopg.connect(fresh_database, autocommit=True) as conn:
        conn.execute("DROP TABLE workflow_stages")
    result = invoke(base + ["ingest", str(FIXTURES / "trading_day.jsonl")])
    assert result.exit_code == 3
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1:] == [  # after the line warnings printed as they came
        f'msp: error: {describe_target(fresh_database)} refused a statement: '
        'relation "workflow_stages" does not exist (SQLSTATE 42P01); '
        "`msp doctor` shows the server and migration level in use"]
    with psycopg.connect(fresh_database) as conn:
        assert conn.execute("SELECT count(*) FROM workflow_events").fetchone()[0] == 0
