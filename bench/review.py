"""Review benchmark (issue 14): `msp review` over a week, a month and a year of a busy desk.

    python bench/review.py [--events 1000000] [--database-url URL]
    python bench/review.py --filled URL      # measure a database bench/reports.py (or this) filled

Fills one workspace with a year of history ending on 2026-11-20 (msp ingest +
msp automate, as bench/reports.py does), accepts one coach task so the
before/after rule check runs, then for each period sums the server time of
every statement the review runs (EXPLAIN ANALYZE of the very statements and
parameters) and times the whole command as a process, and `--html` for the
year.  Target: a week's review under 100 ms of server time, as every report.
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
import reports

NY = "America/New_York"
PERIODS = {
    "week": {"week": "2026-11-20"},
    "month": {"month": "2026-11"},
    "year": {"date_from": "2025-11-21", "date_to": "2026-11-20"},
}


def _argv(options: dict) -> list[str]:
    argv = []
    for key, value in options.items():
        argv += ["--" + key.replace("date_", ""), value]
    return argv


def accept_one_task(url: str) -> None:
    base = common.msp_command() + ["--database-url", url, "--workspace", "bench"]
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT task_id FROM coach_tasks WHERE workspace = 'bench' AND status = 'pending' "
                           "AND occurred_at < '2026-11-10' ORDER BY occurred_at DESC LIMIT 1").fetchone()
    if row:
        subprocess.run(base + ["tasks", "accept", row[0]], capture_output=True)


def measure(url: str, tmp: Path) -> tuple[int, list[str]]:
    from msp.engine.reports.review import review

    lines = ["| period | trades | server ms | command ms (json) |", "|---|---:|---:|---:|"]
    for name, options in PERIODS.items():
        server_ms, result = reports.warm_server_ms(url, "bench", lambda db: review(db, tz=NY, **options))
        trades = result.trades
        runs = []
        for _ in range(3):
            start = time.perf_counter()
            subprocess.run(common.msp_command() + ["--database-url", url, "--workspace", "bench", "review",
                                                   *_argv(options), "--tz", NY, "--format", "json"],
                           capture_output=True, check=True)
            runs.append((time.perf_counter() - start) * 1000)
        lines.append(f"| {name} | {trades:,} | {server_ms:.1f} | {statistics.median(runs):.0f} |")
    html = tmp / "year.html"
    start = time.perf_counter()
    subprocess.run(common.msp_command() + ["--database-url", url, "--workspace", "bench", "review",
                                           *_argv(PERIODS["year"]), "--tz", NY, "--html", str(html),
                                           "--format", "json"], capture_output=True, check=True)
    html_ms = (time.perf_counter() - start) * 1000
    with psycopg.connect(url) as conn:
        events = conn.execute("SELECT count(*) FROM workflow_events WHERE workspace = 'bench'").fetchone()[0]
    lines += ["", f"`--html` for the year: {html_ms:.0f} ms, {html.stat().st_size:,} bytes."]
    return events, lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--filled", default=None, metavar="URL", help="measure this filled database only")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        if args.filled:
            url, server = args.filled, None
        else:
            server = common.server_url(args.database_url)
            url = common.scratch_database(server, "review")
        try:
            if server:
                reports.fill(url, args.events, 0, Path(tmp))
            accept_one_task(url)
            events, lines = measure(url, Path(tmp))
            common.record(f"review, {events:,} events — {dt.date.today()}, PostgreSQL {common.server_version(url)}",
                          lines)
        finally:
            if server:
                common.drop_database(server, url)


if __name__ == "__main__":
    main()
