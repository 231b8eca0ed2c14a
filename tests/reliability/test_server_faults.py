"""The server goes away: restarts in the middle of ingest and automate, a wrong
password, a refused connection, a missing database.  msp exits 3 with one
clear line (never a traceback or the password), and a re-run completes with
nothing lost or doubled."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import psycopg
import pytest
import workload

from servers import Cluster, free_port
from snapshot import snapshot
from support import run_process

PASSWORD = Cluster.PASSWORD


def start(url, workspace, *args) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "msp", "--database-url", url, "--workspace", workspace,
                             "--format", "json", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def wait_until(predicate, proc, timeout=60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        assert proc.poll() is None, "the run finished before the fault; use more events"
        time.sleep(0.02)
    raise AssertionError("the run never reached the fault point")


def scalar(url, sql, *params):
    with psycopg.connect(url, autocommit=True) as conn:
        return conn.execute(sql, params).fetchone()[0]


def assert_clean_exit_3(proc, *, timeout=60):
    out, err = proc.communicate(timeout=timeout)
    text = err.decode()
    assert proc.returncode == 3, (proc.returncode, text)
    lines = [line for line in text.splitlines() if line.startswith("msp: error:")]
    assert len(lines) == 1, text
    assert "the server closed the connection" in lines[0] or "connection refused" in lines[0] \
        or "terminating connection" in lines[0], lines[0]
    assert "Traceback" not in text and PASSWORD not in text + out.decode()
    return lines[0]


def run_ok(url, workspace, *args, exit_code=0) -> dict:
    proc = start(url, workspace, *args)
    out, err = proc.communicate(timeout=600)
    assert proc.returncode == exit_code, err.decode()
    assert PASSWORD not in out.decode() + err.decode()
    return json.loads(out)


@pytest.mark.parametrize("mode", ["fast", "immediate"])
def test_server_restart_mid_ingest_exits_3_and_a_rerun_loses_nothing(cluster, cluster_database, tmp_path, mode):
    path = tmp_path / "in.jsonl"
    n = workload.write_jsonl(path, 30_000, prefix="r", seed=3)
    proc = start(cluster_database, "w", "ingest", str(path), "--batch-size", "500")
    wait_until(lambda: scalar(cluster_database, "SELECT count(*) FROM workflow_events") >= 2_000, proc)
    cluster.restart(mode)
    message = assert_clean_exit_3(proc)
    assert "127.0.0.1" in message
    rerun = run_ok(cluster_database, "w", "ingest", str(path))
    assert rerun["read"] == rerun["ingested"] + rerun["duplicates"] and rerun["rejected"] == 0
    assert rerun["checkpoint_skipped"] + rerun["read"] == n  # from the checkpoint of the last commit
    assert rerun["checkpoint_skipped"] >= 2_000
    assert scalar(cluster_database, "SELECT count(*) FROM workflow_events") == n
    assert scalar(cluster_database, "SELECT count(DISTINCT event_id) FROM workflow_events") == n


def test_server_restart_mid_automate_exits_3_and_a_rerun_equals_an_uninterrupted_run(cluster, cluster_database,
                                                                                    tmp_path):
    path = tmp_path / "in.jsonl"
    workload.write_jsonl(path, 6_000, prefix="s", seed=4)
    for workspace in ("w", "reference"):
        run_ok(cluster_database, workspace, "ingest", str(path))
    run_ok(cluster_database, "reference", "automate")
    proc = start(cluster_database, "w", "automate", "--batch-size", "50")
    wait_until(lambda: (scalar(cluster_database, "SELECT coalesce(max(last_seq), 0) FROM automation_checkpoints "
                                                 "WHERE workspace = 'w'") > 0), proc)
    cluster.restart("fast")
    assert_clean_exit_3(proc)
    run_ok(cluster_database, "w", "automate")
    with psycopg.connect(cluster_database) as conn:
        assert snapshot(conn, "w") == snapshot(conn, "reference")


def test_a_server_that_is_down_then_back_is_picked_up_by_the_next_run(cluster, cluster_database, tmp_path):
    path = tmp_path / "in.jsonl"
    n = workload.write_jsonl(path, 500, prefix="d", seed=8)
    cluster.stop()
    try:
        down = run_process(["--database-url", cluster_database, "ingest", str(path)])
        assert down.returncode == 3
        assert down.stderr.decode().strip() == \
            f"msp: error: database 127.0.0.1:{cluster.port}/{cluster_database.rsplit('/', 1)[1]}: " \
            "connection refused (is PostgreSQL running and listening there?)"
    finally:
        cluster.start()
    assert run_ok(cluster_database, "default", "ingest", str(path))["ingested"] == n


def test_wrong_password_refused_connection_and_missing_database_each_have_their_own_message(cluster):
    cases = {
        cluster.url(password="not-the-password"): "authentication failed (check the user name and password)",
        cluster.url(password=None): "the server asks for a password and none was given",
        cluster.url(port=free_port()): "connection refused (is PostgreSQL running and listening there?)",
        cluster.url("no_such_db"): "that database does not exist (create it, or fix the name in the URL)",
    }
    for url, reason in cases.items():
        for command in (["today"], ["doctor"], ["ingest", "-"], ["automate"]):
            result = run_process(["--database-url", url, *command], input=b"", env={"PGPASSWORD": ""})
            err = result.stderr.decode()
            assert result.returncode == 3, (url, command, err)
            assert err.endswith(f": {reason}\n") and err.count("\n") == 1, (command, err)
            assert "Traceback" not in err
            assert PASSWORD not in err + result.stdout.decode() and "not-the-password" not in err


def test_the_password_never_appears_in_any_output(cluster_database, tmp_path):
    from support import FIXTURES

    outputs = []
    for args in (["ingest", str(FIXTURES / "bad_lines.jsonl")], ["automate"], ["doctor"], ["today"],
                 ["migrate"], ["rejects", "list"], ["operator"], ["tasks", "accept", "nope"]):
        for fmt in ("table", "json"):
            result = run_process(["--database-url", cluster_database, "--format", fmt, *args])
            outputs.append(result.stdout.decode() + result.stderr.decode())
    text = "\n".join(outputs)
    assert PASSWORD not in text and "s3cret" not in text
    assert "postgresql://postgres:***@127.0.0.1" in text  # doctor shows where, masked
