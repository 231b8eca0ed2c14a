"""Automation benchmark (issue: runner): one sweep vs the ingest of the same events,
and an incremental sweep over a few new events on top of a large history.

    python bench/automate.py [--events 200000] [--history 1000000] [--new 1000] [--database-url URL]

Targets: a catch-up sweep takes at most twice the ingest of the same events
(issue 15 retired "no longer than the ingest": the sweep writes about 1.4 rows
per input event, and a raw COPY of its output alone costs 0.4-0.46× the
ingest); a sweep over 1,000 new events on top of 1,000,000 old ones takes
under 2 s (cost grows with new events, not with history).  What users feel is
the latency of bench/latency.py.

For scale it also times the sweep's bare output: every row the sweep left
(its own events, alerts, journal entries, analyses, tasks, closes,
enrichments, positions) COPYed raw into a copy of the database as the ingest
left it — what writing the results costs with no reading, deciding or
building at all.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg

import common
import workload

# What a sweep writes: its own events, and every row of the tables it fills.
SWEEP_OUTPUT = {"workflow_events": "source = 'msp:automate'", "alerts": "true", "journal_entries": "true",
                "coach_analyses": "true", "coach_tasks": "true", "closed_trades": "true",
                "journal_enrichments": "true", "positions": "true"}


def copy_sweep_output(swept: str, target: str) -> float:
    """COPY the rows a sweep left in ``swept`` into ``target`` (the same database
    before the sweep); seconds the COPYs took."""
    dumps = []
    with psycopg.connect(swept) as src:
        for table, where in SWEEP_OUTPUT.items():
            columns = ", ".join(row[0] for row in src.execute(
                "SELECT attname FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0 "
                "AND NOT attisdropped AND attgenerated = '' AND attidentity = '' ORDER BY attnum",
                (table,)).fetchall())
            data = bytearray()
            with src.cursor().copy(f"COPY (SELECT {columns} FROM {table} WHERE {where}) TO STDOUT (FORMAT binary)") as cp:
                for chunk in cp:
                    data += chunk
            dumps.append((table, columns, bytes(data)))
    with psycopg.connect(target) as dst:
        start = time.perf_counter()
        for table, columns, data in dumps:
            with dst.cursor().copy(f"COPY {table} ({columns}) FROM STDIN (FORMAT binary)") as cp:
                cp.write(data)
        dst.commit()
        return time.perf_counter() - start


def msp(url: str, *args: str) -> tuple[float, dict]:
    start = time.perf_counter()
    proc = subprocess.run(common.msp_command() + ["--database-url", url, "--workspace", "bench", *args,
                                                  "--format", "json"], capture_output=True)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(proc.stderr.decode())
    return elapsed, json.loads(proc.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--history", type=int, default=1_000_000)
    parser.add_argument("--new", type=int, default=1_000)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    server = common.server_url(args.database_url)
    url = common.scratch_database(server, "automate")
    try:
        with tempfile.TemporaryDirectory() as tmp:
            first = Path(tmp) / "first.jsonl"
            workload.write_jsonl(first, args.events, prefix="a")
            ingest_s, ingested = msp(url, "ingest", str(first))
            before_sweep = common.clone_database(server, url, "floor")
            try:
                sweep_s, counters = msp(url, "automate")
                floor_s = copy_sweep_output(url, before_sweep)
            finally:
                common.drop_database(server, before_sweep)
            lines = [
                "| step | events | seconds | note |", "|---|---:|---:|---|",
                f"| msp ingest | {ingested['ingested']:,} | {ingest_s:.1f} | |",
                f"| msp automate (one sweep) | {counters['events_scanned']:,} scanned | {sweep_s:.1f} | "
                f"{counters['auto_plans_created']:,} plans, {counters['auto_alerts_created']:,} alerts, "
                f"{counters['auto_coach_analyses_generated']:,} analyses, "
                f"{counters['auto_coach_action_tasks_created']:,} tasks |",
                f"| raw COPY of the sweep's output (no computation) | {counters['events_scanned'] - ingested['ingested']:,} "
                f"events + its rows | {floor_s:.1f} | for scale |",
            ]
            total = ingested["ingested"]
            if args.history > total:
                rest = Path(tmp) / "rest.jsonl"
                workload.write_jsonl(rest, args.history - total, prefix="h", seed=11)
                _, more = msp(url, "ingest", str(rest))
                msp(url, "automate")
                total += more["ingested"]
            new = Path(tmp) / "new.jsonl"
            workload.write_jsonl(new, args.new, prefix="n", seed=13,
                                 start=dt.datetime(2026, 11, 24, 14, 30, tzinfo=dt.timezone.utc), days=1)
            msp(url, "ingest", str(new))
            incremental_s, inc = msp(url, "automate")
            lines.append(f"| msp automate over {args.new:,} new events on {total:,} old | "
                         f"{inc['events_scanned']:,} scanned | {incremental_s:.2f} | whole process |")
        common.record(f"automate — {dt.date.today()}, PostgreSQL {common.server_version(url)}", lines + [
            "",
            f"Sweep / ingest: {sweep_s / ingest_s:.2f}× "
            f"(target ≤ 2 → {'met' if sweep_s <= 2 * ingest_s else 'NOT met'}); "
            f"writing the sweep's output alone (raw COPY) / ingest: {floor_s / ingest_s:.2f}×; "
            f"incremental sweep {incremental_s:.2f} s (target < 2 s → {'met' if incremental_s < 2 else 'NOT met'}).",
        ])
    finally:
        common.drop_database(server, url)


if __name__ == "__main__":
    main()
