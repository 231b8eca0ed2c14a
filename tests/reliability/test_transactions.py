"""Transactions under contention (issue 11): the first trigger of an alert wins
when ten race for it; serialization failures and deadlocks are redone, never
reported or quarantined; a database whose default isolation is serializable
runs msp as one at read committed does; and `msp automate --every` says when
the server goes away and when it is back."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import psycopg
import pytest
import workload

from snapshot import snapshot
from support import drop_database, invoke, make_database, swap_dbname
from servers import Cluster, migrated

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "trading_day.jsonl"


def run(url, workspace, *args):
    return invoke(["--database-url", url, "--workspace", workspace, "--format", "json", *map(str, args)])


def msp(url, workspace, *args, **kwargs) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "msp", "--database-url", url, "--workspace", workspace,
                             *map(str, args)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kwargs)


def wait_for(predicate, what: str, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"never happened: {what}"
        time.sleep(0.05)


def test_ten_concurrent_triggers_of_one_alert_exactly_one_wins(scratch_database):
    url = scratch_database
    assert run(url, "desk", "ingest", FIXTURE, "--automate").exit_code == 0
    with psycopg.connect(url, autocommit=True) as holder, psycopg.connect(url, autocommit=True) as watcher:
        alert_id = holder.execute("SELECT min(alert_id) FROM alerts WHERE workspace = 'desk'").fetchone()[0]
        prices = [100 + i + 0.25 for i in range(10)]
        # Hold the alert's row so that all ten reach their flip before any can commit: each has
        # read the alert as active by then (a plain SELECT does not wait), the race at its widest.
        with holder.transaction():
            holder.execute("SELECT 1 FROM alerts WHERE workspace = 'desk' AND alert_id = %s FOR UPDATE", (alert_id,))
            procs = [msp(url, "desk", "alerts", "trigger", alert_id, "--price", p, "--auto-log") for p in prices]
            wait_for(lambda: watcher.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND application_name = 'msp' AND wait_event_type = 'Lock'").fetchone()[0] == 10
                or any(p.poll() is not None for p in procs), "ten triggers waiting for the alert's row")
        outcomes = [(p.wait(timeout=120), p.stdout.read().decode(), p.stderr.read().decode()) for p in procs]
        stored = holder.execute("SELECT status, trigger_price FROM alerts WHERE workspace = 'desk' AND alert_id = %s",
                                (alert_id,)).fetchone()
        drafts = holder.execute("SELECT count(*) FROM journal_entries WHERE workspace = 'desk' AND alert_id = %s",
                                (alert_id,)).fetchone()[0]
        events = holder.execute("SELECT count(*) FROM workflow_events WHERE workspace = 'desk' "
                                "AND event_id = msp_event_id('alertdraft', %s)", (alert_id,)).fetchone()[0]
    winners = [i for i, (code, _, _) in enumerate(outcomes) if code == 0]
    assert len(winners) == 1, outcomes
    winner = prices[winners[0]]
    assert f"alert {alert_id} triggered at {winner:g}" in outcomes[winners[0]][1]
    assert stored[0] == "triggered" and float(stored[1]) == winner
    for i, (code, out, err) in enumerate(outcomes):
        if i == winners[0]:
            continue
        assert (code, out) == (1, ""), (code, err)
        assert re.fullmatch(rf"msp: error: alert {re.escape(alert_id)} was already triggered at price "
                            rf"{winner:g} at \d{{4}}-\d\d-\d\d \d\d:\d\d:\d\d[+-]\d{{4}}; --price {prices[i]:g} "
                            rf"was not stored\n", err), err
    assert (drafts, events) == (1, 1)


def test_a_serialization_failure_is_redone_not_reported(scratch_database):
    """Two serializable transactions that each read what the other writes: one
    of them fails with SQLSTATE 40001 at commit, and ``retry_conflicts`` redoes
    it; both writes land."""
    from msp.engine.db import retry_conflicts

    with psycopg.connect(scratch_database, autocommit=True) as setup:
        setup.execute("CREATE TABLE test_ssi (k int PRIMARY KEY, v int)")
        setup.execute("INSERT INTO test_ssi VALUES (1, 0), (2, 0)")
    a = psycopg.connect(scratch_database, autocommit=True)
    b = psycopg.connect(scratch_database, autocommit=True)
    both_read = threading.Barrier(2, timeout=30)
    attempts = {"a": 0, "b": 0}
    conflicts = []

    def work(conn, name, mine, theirs):
        def attempt():
            attempts[name] += 1
            with conn.transaction():
                conn.execute("SET TRANSACTION ISOLATION LEVEL SERIALIZABLE")
                total = conn.execute("SELECT sum(v) FROM test_ssi WHERE k = %s", (theirs,)).fetchone()[0]
                if attempts[name] == 1:
                    both_read.wait()  # the first time round, both have read before either writes
                conn.execute("UPDATE test_ssi SET v = %s + 1 WHERE k = %s", (total, mine))
                if attempts[name] == 1:
                    both_read.wait()
        retry_conflicts(attempt, on_retry=lambda exc, n: conflicts.append(exc.sqlstate))

    try:
        threads = [threading.Thread(target=work, args=(a, "a", 1, 2)), threading.Thread(target=work, args=(b, "b", 2, 1))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        assert conflicts == ["40001"]
        assert sorted(attempts.values()) == [1, 2]
        with psycopg.connect(scratch_database) as check:
            assert sorted(check.execute("SELECT v FROM test_ssi").fetchall()) == [(1,), (2,)]
    finally:
        a.close()
        b.close()


@pytest.fixture
def serializable_database(server_url):
    """A fresh migrated database whose sessions default to SERIALIZABLE."""
    name = f"msp_ser_{uuid.uuid4().hex[:8]}"
    migrated(make_database(server_url, name))
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'ALTER DATABASE "{name}" SET default_transaction_isolation = serializable')
    try:
        yield swap_dbname(server_url, name)
    finally:
        drop_database(server_url, name)


def test_ingests_and_runners_on_a_serializable_database_give_exact_counts(serializable_database,
                                                                          reference_database, tmp_path):
    url = serializable_database
    with psycopg.connect(url) as conn:
        assert conn.execute("SHOW default_transaction_isolation").fetchone()[0] == "serializable"
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    n = workload.write_jsonl(a, 3_000, prefix="s", seed=5)
    workload.write_jsonl(b, 3_000, prefix="s", seed=5)  # the same events: every line of one is a duplicate of the other
    procs = [msp(url, "desk", "--format", "json", "ingest", path, "--batch-size", "250") for path in (a, b)]
    procs += [msp(url, "desk", "--format", "json", "automate", "--batch-size", "150") for _ in range(4)]
    results = [(p.wait(timeout=600), p.stdout.read(), p.stderr.read().decode()) for p in procs]
    for code, _, err in results:
        assert code == 0, err
        assert "serialize" not in err and "deadlock" not in err.lower() and "Traceback" not in err
    assert run(url, "desk", "automate").exit_code == 0
    loads = [json.loads(out) for _, out, _ in results[:2]]
    assert sum(x["ingested"] for x in loads) == n and sum(x["duplicates"] for x in loads) == n
    assert [x["rejected"] for x in loads] == [0, 0]
    assert run(url, "desk", "rejects", "list").json() == []  # no line quarantined for a conflict
    assert run(reference_database, "desk", "ingest", a).exit_code == 0
    assert run(reference_database, "desk", "automate").exit_code == 0
    with psycopg.connect(url) as racing, psycopg.connect(reference_database) as alone:
        assert snapshot(racing, "desk") == snapshot(alone, "desk")


def test_every_says_once_when_the_server_goes_away_and_once_when_it_is_back(cluster, cluster_database, tmp_path):
    url = cluster_database
    first, later = tmp_path / "first.jsonl", tmp_path / "later.jsonl"
    workload.write_jsonl(first, 300, prefix="o", seed=7)
    workload.write_jsonl(later, 300, prefix="l", seed=8)
    assert run(url, "w", "ingest", first).exit_code == 0
    errors = tmp_path / "stderr"

    def caught_up() -> bool:
        with psycopg.connect(url, autocommit=True) as conn:
            return conn.execute("SELECT (SELECT last_seq FROM automation_checkpoints WHERE workspace = 'w') = "
                                "(SELECT max(seq) FROM workflow_events WHERE workspace = 'w')").fetchone()[0]

    with open(errors, "wb") as err:
        proc = subprocess.Popen([sys.executable, "-m", "msp", "--database-url", url, "--workspace", "w",
                                 "automate", "--every", "1"], stdout=subprocess.DEVNULL, stderr=err)
    try:
        wait_for(caught_up, "the first sweep")
        cluster.stop("fast")
        try:
            wait_for(lambda: "sweep failed" in errors.read_text() or proc.poll() is not None, "a failed sweep")
            time.sleep(3)  # more failed ticks of the same outage (each would have said so before)
        finally:
            cluster.start()
        assert run(url, "w", "ingest", later).exit_code == 0
        wait_for(lambda: "reachable again" in errors.read_text() or proc.poll() is not None, "the recovery")
        wait_for(caught_up, "the catch-up")
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
    assert proc.returncode == 0
    lines = errors.read_text().splitlines()
    assert len(lines) == 2, lines
    assert re.fullmatch(r"msp: sweep failed, retrying every 1s until the database answers: database "
                        r"127\.0\.0\.1:\d+/\w+: (the server closed the connection \(it may have restarted\); re-run "
                        r"the command|connection refused \(is PostgreSQL running and listening there\?\)|"
                        r"terminating connection due to administrator command)", lines[0]), lines[0]
    assert re.fullmatch(r"msp: database reachable again after \d+s \(\d+ failed sweeps?\); sweeping resumed",
                        lines[1]), lines[1]
    assert Cluster.PASSWORD not in errors.read_text()
