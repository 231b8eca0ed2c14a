"""The planner's statistics keep up with small writes (engine/statistics.py).

A workspace fed by cron every minute, or followed with ``--follow``, grows from
nothing to a year in many small commits, none of them a bulk load.  With
autovacuum off or lagging, nothing refreshed the statistics of its tables, and
a follower's sweep slowed from 60 ms to seconds within five minutes of 500
events a second (bench/RESULTS.md).  These tests count msp's own ANALYZEs
(``analyze_count``; autovacuum's are counted apart) in a database of their own."""

from __future__ import annotations

import sys
import threading
import time

import psycopg
import pytest

from support import ROOT

sys.path.insert(0, str(ROOT / "bench"))
import workload  # noqa: E402

WAIT_SECONDS = 60


@pytest.fixture
def own_database(fresh_database):
    from msp.engine.migrations import migrate

    with psycopg.connect(fresh_database, autocommit=True) as conn:
        migrate(conn)
    return fresh_database


def analyzed(url) -> dict:
    with psycopg.connect(url) as conn:
        return dict(conn.execute("SELECT relname, analyze_count FROM pg_stat_user_tables").fetchall())


def tables_of_eight_pages_or_more(url, tables) -> list:
    """Those of ``tables`` big enough for statistics to matter (below 8 pages msp leaves them be)."""
    with psycopg.connect(url) as conn:
        return [t for t in tables if conn.execute("SELECT pg_relation_size(%s::regclass) / 8192 >= 8",
                                                  (t,)).fetchone()[0]]


SWEPT = ("positions", "alerts", "journal_entries", "closed_trades", "coach_tasks", "coach_analyses")


def estimated_events(url) -> float:
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT reltuples FROM pg_class WHERE relname = 'workflow_events'").fetchone()[0]


def stored(url) -> int:
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT count(*) FROM workflow_events").fetchone()[0]


def assert_kept_up(url, before: dict, events: int) -> None:
    """Since ``before``: the event table was analyzed as it grew (twice at least), so was every
    table of the sweep big enough to matter, and the planner knows about how many events there are."""
    after = analyzed(url)
    assert after["workflow_events"] - before["workflow_events"] >= 2
    grown = tables_of_eight_pages_or_more(url, SWEPT)
    assert len(grown) >= 3, grown
    for table in grown:
        assert after[table] > before[table], table
    assert estimated_events(url) >= 0.5 * events


def wait_for(check, what):
    deadline = time.monotonic() + WAIT_SECONDS
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def test_a_followed_file_keeps_the_statistics_of_the_events_and_of_what_the_sweeps_write(own_database, tmp_path):
    import msp

    chunks = [tmp_path / f"chunk{k}.jsonl" for k in range(4)]
    for k, chunk in enumerate(chunks):
        workload.write_jsonl(chunk, 600 * 2 ** k, prefix=f"f{k}", seed=k)  # the workspace doubles, chunk by chunk
    live = tmp_path / "live.jsonl"
    live.write_bytes(b"")
    before = analyzed(own_database)
    stop = threading.Event()
    with msp.connect(own_database, "live") as ws:
        run = threading.Thread(target=lambda: ws.ingest_follow([str(live)], automate=True, flush_ms=50, stop=stop))
        run.start()
        try:
            total = 0
            for chunk in chunks:
                with open(live, "ab") as f:
                    f.write(chunk.read_bytes())
                total += len(chunk.read_bytes().splitlines())
                wait_for(lambda: stored(own_database) > total, "the chunk and its sweep")
                time.sleep(1.2)  # past the follower's next look at the statistics (once a second)
        finally:
            stop.set()
            run.join(WAIT_SECONDS)
    assert_kept_up(own_database, before, total)


def test_small_cron_runs_refresh_the_statistics_once_the_tables_doubled(own_database, tmp_path):
    import msp

    before = analyzed(own_database)
    with msp.connect(own_database, "cron") as ws:
        for k, lines in enumerate((300, 300, 600, 1200)):  # each run far below a bulk load (10,000)
            path = tmp_path / f"minute{k}.jsonl"
            workload.write_jsonl(path, lines, prefix=f"m{k}", seed=k)
            ws.ingest([str(path)])
            ws.automate()
    assert_kept_up(own_database, before, stored(own_database))
    # a run that adds little to tables that did not double analyzes nothing
    small = tmp_path / "small.jsonl"
    workload.write_jsonl(small, 20, prefix="s", seed=9)
    settled = analyzed(own_database)
    with msp.connect(own_database, "cron") as ws:
        ws.ingest([str(small)])
        ws.automate()
    assert analyzed(own_database) == settled
