"""Latency benchmark (issue 15): how soon a passing candidate gets its plan and
smart alert when msp follows a live file; and what a growing file and a
re-read cost.

    python bench/latency.py [--duration 300] [--rate 500] [--file-lines 1000000] [--duplicates 100000]
                            [--only latency|growth|duplicates] [--database-url URL]

1. Latency.  A writer appends ``--rate`` events a second (the mix of
   bench/workload.py) for ``--duration`` seconds to a file followed by
   (a) ``msp ingest --follow --automate`` and (b) ``msp ingest --follow`` plus a
   separate ``msp automate --follow``.  Another connection polls every 10 ms
   for each passing candidate's plan event and alert row; the latency is from
   the line's write (after flush) to both being visible.  At the end the
   followers are stopped (SIGTERM) and the counts compared with the same file
   ingested and swept once: nothing lost or doubled.
   Targets: p50 < 300 ms, p95 < 1 s.
2. Growth.  A ``--file-lines`` file ingested once, then grown by 1,000 lines:
   the second ``msp ingest FILE`` (whole process) < 1 s.
3. Duplicates.  ``--duplicates`` events on stdin into an empty workspace, then
   again (all duplicates): the re-read at least as fast as the first (≥ 1×).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import signal
import subprocess
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import orjson
import psycopg

import common
import workload

WORKSPACE = "bench"
POLL_SECONDS = 0.01
SETTLE_SECONDS = 60  # how long the end waits for the last plans and alerts


def msp(url: str, workspace: str, *args: str, stdin=None) -> tuple[float, dict]:
    start = time.perf_counter()
    proc = subprocess.run(common.msp_command() + ["--database-url", url, "--workspace", workspace, *args,
                                                  "--format", "json"], capture_output=True, stdin=stdin)
    elapsed = time.perf_counter() - start
    if proc.returncode not in (0, 1):
        raise SystemExit(proc.stderr.decode())
    return elapsed, json.loads(proc.stdout)


class Follower:
    """A following msp process whose output is read as it comes: a follower prints a
    line per sweep, and one whose pipe nobody empties stops at the 64 KiB the pipe
    holds (a 5-minute run of ``automate --follow`` once stalled after 10 s that way)."""

    def __init__(self, url: str, *args: str):
        self.proc = subprocess.Popen(common.msp_command() + ["--database-url", url, "--workspace", WORKSPACE,
                                                             "--format", "json", *args],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.out, self.err = bytearray(), bytearray()
        self.readers = [threading.Thread(target=self._drain, args=(stream, into), daemon=True)
                        for stream, into in ((self.proc.stdout, self.out), (self.proc.stderr, self.err))]
        for reader in self.readers:
            reader.start()

    @staticmethod
    def _drain(stream, into: bytearray) -> None:
        for chunk in iter(lambda: stream.read1(65536), b""):
            into.extend(chunk)

    def poll(self):
        return self.proc.poll()

    def stop(self, timeout: float = 120) -> tuple[int, str, str]:
        """SIGTERM, then (exit code, stdout, stderr)."""
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout)
        for reader in self.readers:
            reader.join(timeout)
        return self.proc.returncode, self.out.decode(), self.err.decode()


class Observer(threading.Thread):
    """Another connection: when each workflow's plan event and alert became visible."""

    def __init__(self, url: str):
        super().__init__(daemon=True)
        self.url = url
        self.plans: dict[str, float] = {}
        self.alerts: dict[str, float] = {}
        self.done = threading.Event()

    def run(self) -> None:
        last_seq = 0
        with psycopg.connect(self.url, autocommit=True) as conn:
            while not self.done.is_set():
                now = time.time()
                for seq, wf in conn.execute(
                        "SELECT seq, workflow_id FROM workflow_events WHERE workspace = %s AND seq > %s "
                        "AND event_type = 'trade.plan.created' ORDER BY seq", (WORKSPACE, last_seq)).fetchall():
                    self.plans.setdefault(wf, now)
                    last_seq = seq
                # alerts have no sequence: a recent window, deduplicated here (a sweep commits within it)
                for (wf,) in conn.execute("SELECT workflow_id FROM alerts WHERE workspace = %s "
                                          "AND created_at > now() - interval '20 seconds'", (WORKSPACE,)).fetchall():
                    self.alerts.setdefault(wf, now)
                time.sleep(POLL_SECONDS)


def write_stream(path: Path, rate: int, duration: float, prefix: str) -> tuple[dict[str, float], int]:
    """Append ``rate`` events a second for ``duration`` seconds; the write time of each passing candidate."""
    events = workload.events(int(rate * duration) + 10, prefix=prefix, seed=21,
                             start=dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=1), days=1)
    written: dict[str, float] = {}
    count = 0
    t0 = time.monotonic()
    with open(path, "ab") as f:
        while time.monotonic() - t0 < duration:
            due = int((time.monotonic() - t0) * rate)
            passing = []
            while count < due:
                event = next(events)
                f.write(orjson.dumps(event) + b"\n")
                count += 1
                if event["event_type"] == "candidate.created" and event["payload"]["result"] == "pass":
                    passing.append(event["correlation"]["workflow_id"])
            f.flush()
            at = time.time()
            for wf in passing:
                written[wf] = at
            time.sleep(POLL_SECONDS)
    return written, count


def percentile(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def latency_run(server: str, label: str, commands: list[list[str]], rate: int, duration: float) -> list[str]:
    url = common.scratch_database(server, "latency")
    procs: list[Follower] = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "live.jsonl"
            path.write_bytes(b"")
            procs = [Follower(url, *[str(path) if a == "{file}" else a for a in cmd]) for cmd in commands]
            observer = Observer(url)
            observer.start()
            warm, _ = write_stream(path, 10, 1.0, prefix="warm")  # until the followers answer
            deadline = time.monotonic() + 120
            while not set(warm) <= set(observer.alerts):
                if time.monotonic() > deadline or any(p.poll() is not None for p in procs):
                    raise SystemExit(f"{label}: the followers did not start: "
                                     + " ".join(p.stop()[2] for p in procs if p.poll() is not None))
                time.sleep(0.05)
            written, _ = write_stream(path, rate, duration, prefix="live")
            with open(path, "rb") as f:
                count = sum(1 for _ in f)  # the warm-up lines too
            deadline = time.monotonic() + SETTLE_SECONDS
            while not (set(written) <= set(observer.plans) and set(written) <= set(observer.alerts)):
                if time.monotonic() > deadline:
                    break
                time.sleep(0.1)
            observer.done.set()
            observer.join()
            outputs = [proc.stop() for proc in procs]
            _, reference = msp(url, "reference", "ingest", str(path))
            msp(url, "reference", "automate")
        with psycopg.connect(url) as conn:
            counts = {ws: conn.execute(
                "SELECT (SELECT count(*) FROM workflow_events WHERE workspace = %(w)s AND source <> 'msp:automate'),"
                " (SELECT count(*) FROM workflow_events WHERE workspace = %(w)s AND event_type = 'trade.plan.created'),"
                " (SELECT count(DISTINCT plan_candidate_id) FROM workflow_events WHERE workspace = %(w)s"
                "  AND event_type = 'trade.plan.created'),"
                " (SELECT count(*) FROM alerts WHERE workspace = %(w)s)", {"w": ws}).fetchone()
                for ws in (WORKSPACE, "reference")}
    finally:
        for proc in procs:  # a run that failed half-way leaves no follower behind
            if proc.poll() is None:
                proc.proc.kill()
        common.drop_database(server, url)
    plan_ms = [1000 * (observer.plans[wf] - at) for wf, at in written.items() if wf in observer.plans]
    both_ms = [1000 * (max(observer.plans[wf], observer.alerts[wf]) - at) for wf, at in written.items()
               if wf in observer.plans and wf in observer.alerts]
    missing = len(written) - len(both_ms)
    exact = counts[WORKSPACE] == counts["reference"] and counts[WORKSPACE][1] == counts[WORKSPACE][2] \
        and counts[WORKSPACE][0] == count and missing == 0
    p50, p95 = percentile(both_ms, 50), percentile(both_ms, 95)
    codes = ", ".join(str(code) for code, _, _ in outputs)
    notes = "; ".join(err.strip() for _, _, err in outputs if err.strip()) or "none"
    return [
        f"| {label} | {len(written):,} | {percentile(plan_ms, 50):.0f} / {percentile(plan_ms, 95):.0f} | "
        f"{p50:.0f} | {p95:.0f} | {max(both_ms):.0f} | {count:,} lines: {counts[WORKSPACE][0]:,} stored, "
        f"{counts[WORKSPACE][1]:,} plans, {counts[WORKSPACE][3]:,} alerts (one-off load: "
        f"{counts['reference'][1]:,} / {counts['reference'][3]:,}); {missing} missing → "
        f"{'exact' if exact else 'NOT exact'} | "
        f"{'met' if p50 < 300 and p95 < 1000 and exact else 'NOT met'} |",
        f"<!-- exit codes {codes}; stderr: {notes} -->",
    ]


@contextmanager
def scratch(server: str, label: str) -> Iterator[tuple[str, Path]]:
    """A scratch database and a temporary directory, both gone afterwards."""
    url = common.scratch_database(server, label)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            yield url, Path(tmp)
    finally:
        common.drop_database(server, url)


def growth_run(server: str, lines: int) -> list[str]:
    with scratch(server, "growth") as (url, tmp):
        path = tmp / "day.jsonl"
        n = workload.write_jsonl(path, lines, prefix="g", seed=31)
        first_s, first = msp(url, WORKSPACE, "ingest", str(path))
        more = tmp / "more.jsonl"
        workload.write_jsonl(more, 1_000, prefix="h", seed=32)
        with open(path, "ab") as f:
            f.write(more.read_bytes())
        grown_s, grown = msp(url, WORKSPACE, "ingest", str(path))
        floor_s, floor = msp(url, WORKSPACE, "ingest", str(path))  # nothing new: start-up, connection, checks
    assert grown["checkpoint_skipped"] == n and grown["ingested"] == grown["read"], grown
    assert floor["read"] == 0, floor
    return [f"| {n:,}-line file, first ingest | {first['read']:,} read | {first_s:.1f} s | |",
            f"| the same file grown by {grown['read']:,} lines | {grown['read']:,} read, "
            f"{grown['checkpoint_skipped']:,} skipped | {grown_s:.2f} s | target < 1 s → "
            f"{'met' if grown_s < 1 else 'NOT met'} |",
            f"| the same file, nothing new (the process's fixed cost) | 0 read, "
            f"{floor['checkpoint_skipped']:,} skipped | {floor_s:.2f} s | for scale |"]


def duplicates_run(server: str, events: int) -> list[str]:
    with scratch(server, "dups") as (url, tmp):
        path = tmp / "in.jsonl"
        n = workload.write_jsonl(path, events, prefix="d", seed=41)
        with open(path, "rb") as f:
            fresh_s, fresh = msp(url, WORKSPACE, "ingest", "-", stdin=f)
        with open(path, "rb") as f:
            dup_s, dup = msp(url, WORKSPACE, "ingest", "-", stdin=f)
    assert fresh["ingested"] == n and dup["duplicates"] == n and dup["conflicts"] == 0, (fresh, dup)
    return [f"| {n:,} events on stdin, fresh | {fresh['ingested']:,} ingested | {fresh_s:.1f} s | |",
            f"| the same again, all duplicates | {dup['duplicates']:,} duplicates | {dup_s:.1f} s | "
            f"{fresh_s / dup_s:.2f}× fresh (target ≥ 1× → {'met' if dup_s <= fresh_s else 'NOT met'}) |"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=float, default=300, help="seconds of writing per latency run")
    parser.add_argument("--rate", type=int, default=500, help="events written per second")
    parser.add_argument("--file-lines", type=int, default=1_000_000)
    parser.add_argument("--duplicates", type=int, default=100_000)
    parser.add_argument("--only", choices=("latency", "growth", "duplicates"), default=None)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    server = common.server_url(args.database_url)
    lines = []
    if args.only in (None, "latency"):
        lines += [f"Latency: {args.rate} events/s for {args.duration:g} s; from a line's write to its passing "
                  f"candidate's plan and smart alert visible to another connection (polled every 10 ms).", "",
                  "| followers | passing candidates | plan p50 / p95 ms | plan + alert p50 ms | p95 ms | max ms | "
                  "counts at the end | p50 < 300 ms, p95 < 1 s |", "|---|---:|---:|---:|---:|---:|---|---|"]
        lines += latency_run(server, "`ingest --follow --automate`",
                             [["ingest", "--follow", "{file}", "--automate"]], args.rate, args.duration)
        lines += latency_run(server, "`ingest --follow` + `automate --follow`",
                             [["ingest", "--follow", "{file}"], ["automate", "--follow"]], args.rate, args.duration)
        lines.append("")
    if args.only in (None, "growth", "duplicates"):
        lines += ["| run | lines | seconds (whole process) | |", "|---|---:|---:|---|"]
    if args.only in (None, "growth"):
        lines += growth_run(server, args.file_lines)
    if args.only in (None, "duplicates"):
        lines += duplicates_run(server, args.duplicates)
    common.record(f"latency — {dt.date.today()}, PostgreSQL {common.server_version(server)}", lines)


if __name__ == "__main__":
    main()
