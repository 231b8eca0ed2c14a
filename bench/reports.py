"""Report benchmark (issue: reports): server time of every report at 1M and 5M events.

    python bench/reports.py [--sizes 1000000,5000000] [--database-url URL]

Fills one workspace with a year of a busy desk (msp ingest + msp automate),
then for each report sums the server's execution time of every query the
engine runs for it (EXPLAIN ANALYZE of the very statements and parameters
the report functions issue) and times the whole command as a process.  Also
times `msp --help`.  Targets: every report under 100 ms of server time at
5M events, no more than 1.5× its time at 1M; `msp --help` under 250 ms; one
refresh of `msp operator` under 150 ms of database time at 5M.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg

import common
import workload

REPORT_DATE = dt.date(2026, 11, 20)


class ExplainingConnection:
    """Runs EXPLAIN ANALYZE of every read before running it for real; sums server time."""

    def __init__(self, conn: psycopg.Connection):
        self._conn = conn
        self.server_ms = 0.0

    def __getattr__(self, name):
        return getattr(self._conn, name)

    def _explain(self, statement, params):
        text = statement if isinstance(statement, str) else statement.as_string(self._conn)
        if text.lstrip().upper().startswith(("SELECT", "WITH")):
            plan = self._conn.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + text, params).fetchone()[0]
            self.server_ms += plan[0]["Execution Time"] + plan[0].get("Planning Time", 0)

    def execute(self, statement, params=None, **kw):
        self._explain(statement, params)
        return self._conn.execute(statement, params, **kw)

    def cursor(self, *args, **kwargs):
        cursor = self._conn.cursor(*args, **kwargs)
        outer = self

        class Cursor:
            def __getattr__(self, name):
                return getattr(cursor, name)

            def execute(self, statement, params=None, **kw):
                outer._explain(statement, params)
                return cursor.execute(statement, params, **kw)

        return Cursor()


def warm_server_ms(url: str, workspace: str, call) -> tuple[float, object]:
    """The server time of ``call(db)``'s reads on its second run (the first
    warms the caches), in milliseconds, and what that run returned."""
    from msp.engine.config import resolve_settings
    from msp.engine.db import Database

    db = Database(resolve_settings(url, workspace), url)
    proxy = ExplainingConnection(db.conn)
    db._conn = proxy
    try:
        call(db)
        proxy.server_ms = 0.0
        result = call(db)
    finally:
        db.close()
    return proxy.server_ms, result


OPERATOR = "operator (one refresh of the whole surface)"


def report_calls():
    from msp.engine.reports.conversion import conversion
    from msp.engine.reports.operator import surface
    from msp.engine.reports.presence import presence
    from msp.engine.reports.review import review
    from msp.engine.reports.tasks import list_tasks
    from msp.engine.reports.today import today
    from msp.engine.reports.trace import trace

    now = dt.datetime(2026, 11, 20, 21, 0, tzinfo=dt.timezone.utc)
    return {
        "today": (lambda db: today(db, REPORT_DATE, "America/New_York"),
                  ["today", "--date", str(REPORT_DATE), "--tz", "America/New_York"]),
        "conversion": (lambda db: conversion(db, 7, False, "America/New_York", REPORT_DATE),
                       ["conversion", "--date", str(REPORT_DATE)]),
        "conversion --cohort": (lambda db: conversion(db, 7, True, "America/New_York", REPORT_DATE),
                                ["conversion", "--cohort", "--date", str(REPORT_DATE)]),
        "presence": (lambda db: presence(db, now=now), ["presence"]),
        "tasks list": (lambda db: list_tasks(db, "pending", 20), ["tasks", "list"]),
        "trace": (lambda db: trace(db, "awf1000"), ["trace", "awf1000"]),
        "review --week": (lambda db: review(db, week=str(REPORT_DATE), tz="America/New_York"),
                          ["review", "--week", str(REPORT_DATE), "--tz", "America/New_York"]),
        "review --month": (lambda db: review(db, month=REPORT_DATE.strftime("%Y-%m"), tz="America/New_York"),
                           ["review", "--month", REPORT_DATE.strftime("%Y-%m"), "--tz", "America/New_York"]),
        OPERATOR: (
            lambda db: surface(db, REPORT_DATE, "America/New_York", now=now),
            ["operator", "--date", str(REPORT_DATE), "--tz", "America/New_York"]),
    }


def measure(url: str) -> dict:
    results = {}
    for name, (call, argv) in report_calls().items():
        server_ms, _ = warm_server_ms(url, "bench", call)
        runs = []
        for _ in range(3):
            start = time.perf_counter()
            subprocess.run(common.msp_command() + ["--database-url", url, "--workspace", "bench", *argv,
                                                   "--format", "json"], capture_output=True, check=True)
            runs.append((time.perf_counter() - start) * 1000)
        results[name] = (server_ms, statistics.median(runs))
    return results


HISTORY_END = dt.datetime(2026, 11, 21, 0, 0, tzinfo=dt.timezone.utc)
EVENTS_PER_DAY = 5_000_000 / 365  # a busy desk: more events means a longer history, not a busier day


def fill(url: str, target: int, have: int, tmp: Path) -> int:
    """Grow the history backwards at a constant daily rate up to ``target`` events."""
    if target <= have:
        return have
    path = tmp / f"fill_{target}.jsonl"
    newest = HISTORY_END - dt.timedelta(days=have / EVENTS_PER_DAY)
    days = (target - have) / EVENTS_PER_DAY
    workload.write_jsonl(path, target - have, prefix="a" if have == 0 else f"f{target}", seed=target,
                         start=newest - dt.timedelta(days=days), days=days)
    base = common.msp_command() + ["--database-url", url, "--workspace", "bench"]
    subprocess.run(base + ["ingest", str(path), "--format", "json"], check=True, capture_output=True)
    subprocess.run(base + ["automate", "--format", "json"], check=True, capture_output=True)
    path.unlink()
    with psycopg.connect(url, autocommit=True) as conn:
        # What autovacuum does on any normally configured server (ours has it off):
        # statistics, and the visibility map that lets index-only scans skip the heap.
        conn.execute("VACUUM ANALYZE")
        return conn.execute("SELECT count(*) FROM workflow_events WHERE workspace = 'bench'").fetchone()[0]


def help_ms() -> float:
    runs = []
    for _ in range(5):
        start = time.perf_counter()
        subprocess.run(common.msp_command() + ["--help"], capture_output=True, check=True)
        runs.append((time.perf_counter() - start) * 1000)
    return statistics.median(runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000000,5000000")
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    server = common.server_url(args.database_url)
    url = common.scratch_database(server, "reports")
    measured = {}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            have = 0
            for size in sizes:
                have = fill(url, size, have, Path(tmp))
                measured[have] = measure(url)
        (small, first), (large, last) = list(measured.items())[0], list(measured.items())[-1]
        lines = [f"| report | server ms @ {small:,} | server ms @ {large:,} | ratio | command ms @ {large:,} |",
                 "|---|---:|---:|---:|---:|"]
        worst, worst_ratio = 0.0, 0.0
        for name in first:
            a, b = first[name][0], last[name][0]
            worst = max(worst, b)
            worst_ratio = max(worst_ratio, b / a if a else 0.0)
            lines.append(f"| {name} | {a:.1f} | {b:.1f} | {b / a if a else 0:.2f}× | {last[name][1]:.0f} |")
        help_time = help_ms()
        surface_ms = last[OPERATOR][0]
        lines += ["", f"Slowest report at {large:,} events: {worst:.1f} ms server time (target < 100 ms → "
                      f"{'met' if worst < 100 else 'NOT met'}); largest growth {large:,} vs {small:,}: "
                      f"{worst_ratio:.2f}× (target ≤ 1.5× → {'met' if worst_ratio <= 1.5 else 'NOT met'}). "
                      f"One operator refresh: {surface_ms:.1f} ms of database time (target < 150 ms → "
                      f"{'met' if surface_ms < 150 else 'NOT met'}). `msp --help`: {help_time:.0f} ms "
                      f"(target < 250 ms → {'met' if help_time < 250 else 'NOT met'})."]
        common.record(f"reports — {dt.date.today()}, PostgreSQL {common.server_version(url)}", lines)
    finally:
        common.drop_database(server, url)


if __name__ == "__main__":
    main()
