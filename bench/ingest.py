"""Ingest benchmark (issue: foundation): msp ingest vs a raw COPY vs a naive loader.

    python bench/ingest.py [--events 1000000] [--database-url URL]

Generates N realistic events, then on one scratch database measures:
  * msp ingest (a real `msp ingest` process; events/s and its peak RSS),
  * a raw COPY of the same events, prepared as final rows, into the same
    table — the database's own write cost,
  * a naive loader: json.loads + a reused jsonschema validator + one INSERT
    per event (run on a sample and reported as a rate).
Targets: msp ≥ 0.5× raw COPY and ≥ 10× naive; peak RSS < 300 MB at 1M.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import os
import subprocess
import tempfile
import time
from pathlib import Path

import orjson
import psycopg

import common
import workload

RAW_COLUMNS = ("workspace, event_id, event_type, event_version, occurred_at, workflow_id, parent_event_id, "
               "actor_type, symbol, event, source, source_line")


def raw_copy_rows(path: Path, workspace: str) -> bytes:
    """The events as final COPY rows (prepared outside the timing)."""
    out = io.BytesIO()
    with open(path, "rb") as f:
        for n, line in enumerate(f, 1):
            e = orjson.loads(line)
            corr = e["correlation"]
            symbol = (e.get("entity") or {}).get("symbol") or e["payload"].get("symbol") or "\\N"
            fields = [workspace, e["event_id"], e["event_type"], str(e["event_version"]), e["occurred_at"],
                      corr["workflow_id"], corr.get("parent_event_id") or "\\N", "user", symbol,
                      line.rstrip(b"\n").decode().replace("\\", "\\\\"), "raw", str(n)]
            out.write("\t".join(fields).encode() + b"\n")
    return out.getvalue()


def run_raw_copy(url: str, rows: bytes) -> float:
    with psycopg.connect(url) as conn:
        start = time.perf_counter()
        with conn.cursor().copy(f"COPY workflow_events ({RAW_COLUMNS}) FROM STDIN") as copy:
            for i in range(0, len(rows), 1 << 20):
                copy.write(rows[i:i + (1 << 20)])
        conn.commit()
        return time.perf_counter() - start


def run_msp(url: str, path: Path, workspace: str) -> tuple[float, dict, float]:
    """A real `msp ingest` process: wall time, its summary and its own peak RSS."""
    start = time.perf_counter()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(common.msp_command() + ["--database-url", url, "--workspace", workspace, "ingest",
                                                        str(path), "--format", "json"], stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - start
        out.seek(0)
        err.seek(0)
        if os.waitstatus_to_exitcode(status) != 0:
            raise SystemExit(err.read().decode())
        return elapsed, json.loads(out.read()), usage.ru_maxrss / 1024


def seed_archive(url: str, workspace: str, n: int) -> None:
    """An archive of ``n`` event ids none of the benchmark's events has (migrations/018_archive.sql)."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("INSERT INTO archives (workspace, archive_no, path, archived_before, workflows, events) "
                     "VALUES (%s, 1, '/bench/archive.jsonl.gz', '2020-01-01', 1, %s)", (workspace, n))
        conn.execute("INSERT INTO archived_events (workspace, event_id, workflow_id, archive_no, content_md5) "
                     "SELECT %s, 'archived-' || i, 'wf-archived', 1, md5(i::text) FROM generate_series(1, %s) i",
                     (workspace, n))
        conn.execute("ANALYZE archived_events")


def run_naive(url: str, path: Path, workspace: str, sample: int) -> tuple[int, float]:
    """json.loads + jsonschema + one INSERT per event, on the first ``sample`` lines."""
    from msp.engine.schemas import schema_set

    schemas = schema_set()
    validators = {}
    sql = (f"INSERT INTO workflow_events ({RAW_COLUMNS}) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) "
           "ON CONFLICT DO NOTHING")
    done = 0
    with psycopg.connect(url) as conn, open(path, "rb") as f:
        start = time.perf_counter()
        for n, line in enumerate(f, 1):
            if n > sample:
                break
            e = json.loads(line)
            ts = schemas.get(e["event_type"], e["event_version"])
            validator = validators.get(ts.event_type) or validators.setdefault(
                ts.event_type, schemas.reference_validator(ts.event_schema))
            validator.validate(e)
            corr = e["correlation"]
            conn.execute(sql, (workspace, e["event_id"], e["event_type"], e["event_version"], e["occurred_at"],
                               corr["workflow_id"], corr.get("parent_event_id"), "user",
                               e["payload"].get("symbol"), json.dumps(e), "naive", n))
            conn.commit()
            done += 1
        return done, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--naive-sample", type=int, default=5_000)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--archived", type=int, default=0,
                        help="first give the workspace an archive of this many (other) event ids, so every "
                             "batch pays the archived-id check (issue 16)")
    args = parser.parse_args()

    server = common.server_url(args.database_url)
    msp_db = common.scratch_database(server, "ingest_msp")  # each loader gets an empty database
    raw_db = common.scratch_database(server, "ingest_raw")
    try:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "events.jsonl"
            n = workload.write_jsonl(path, args.events)
            size_mb = path.stat().st_size / 1e6
            if args.archived:
                seed_archive(msp_db, "bench", args.archived)
            # msp first, while this process is small: a forked child's peak RSS counts its parent's pages
            msp_s, summary, peak_mb = run_msp(msp_db, path, "bench")
            rows = raw_copy_rows(path, "bench")
            raw_s = run_raw_copy(raw_db, rows)
            del rows
            naive_n, naive_s = run_naive(raw_db, path, "bench_naive", min(args.naive_sample, n))
        assert summary["ingested"] == n, summary
        msp_rate, raw_rate, naive_rate = n / msp_s, n / raw_s, naive_n / naive_s
        archived = f", {args.archived:,} archived ids in the workspace" if args.archived else ""
        common.record(f"ingest, {n:,} events ({size_mb:.0f} MB){archived} — {dt.date.today()}, "
                      f"PostgreSQL {common.server_version(msp_db)}", [
            "| loader | seconds | events/s | vs raw COPY | vs naive |",
            "|---|---:|---:|---:|---:|",
            f"| msp ingest (whole process) | {msp_s:.1f} | {msp_rate:,.0f} | {msp_rate / raw_rate:.2f}× | "
            f"{msp_rate / naive_rate:.0f}× |",
            f"| raw COPY of prepared rows | {raw_s:.1f} | {raw_rate:,.0f} | 1.00× | {raw_rate / naive_rate:.0f}× |",
            f"| naive (json + jsonschema + INSERT each; {naive_n:,}-event sample) | {naive_s:.1f} | "
            f"{naive_rate:,.0f} | {naive_rate / raw_rate:.3f}× | 1× |",
            "",
            f"msp ingest peak RSS: {peak_mb:.0f} MB (target < 300 MB → {'met' if peak_mb < 300 else 'NOT met'}). "
            f"Targets: ≥ 0.5× raw COPY → {'met' if msp_rate >= 0.5 * raw_rate else 'NOT met'}; "
            f"≥ 10× naive → {'met' if msp_rate >= 10 * naive_rate else 'NOT met'}.",
        ])
    finally:
        common.drop_database(server, msp_db)
        common.drop_database(server, raw_db)


if __name__ == "__main__":
    main()
