"""Two ingests of overlapping files and four automation runners at once on one
database — directly and through PgBouncer: exact final counts (equal to the
same inputs loaded one after the other), and no deadlock or traceback reaches
the user."""

from __future__ import annotations

import datetime
import json
import subprocess
import sys

import psycopg
import pytest
import workload

from snapshot import snapshot
from support import invoke


def run(url, workspace, *args):
    return invoke(["--database-url", url, "--workspace", workspace, "--format", "json", *map(str, args)])


def direct_url(url: str, direct_sibling: str) -> str:
    """A direct URL to the database ``url`` names (it may be reached through PgBouncer)."""
    info = psycopg.conninfo.conninfo_to_dict(direct_sibling)
    info["dbname"] = psycopg.conninfo.conninfo_to_dict(url).get("dbname") or url.rsplit("/", 1)[1]
    return psycopg.conninfo.make_conninfo(**info)


@pytest.fixture(params=["direct", "pgbouncer"])
def racing_database(request):
    return request.getfixturevalue("scratch_database" if request.param == "direct" else "pooled_database")


def test_two_overlapping_ingests_and_four_runners_at_once_give_exact_counts(racing_database, reference_database,
                                                                          tmp_path):
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    n_a = workload.write_jsonl(a, 4_000, prefix="p", seed=1)
    workload.write_jsonl(b, 4_000, prefix="p", seed=1)  # the same events: the ingests overlap entirely
    more = tmp_path / "more.jsonl"
    # b's own events come after a's year: a coach analysis is computed once, from the closes stored
    # when a runner reaches it, so closes older than an analysed one arriving later (a backfill)
    # would make the outcome depend on the runners' timing, not on what this test is about.
    n_more = workload.write_jsonl(more, 1_000, prefix="q", seed=2,
                                  start=datetime.datetime(2026, 11, 25, 14, 30, tzinfo=datetime.timezone.utc))
    # b's own events may be stored between a's last batches (b passes a's events as duplicates while
    # a waits for the writer lock), and some automations read what is stored when a runner gets there:
    # the coach's sample (the workspace's last 20 closes) and the journal entry an analysis enriches
    # (the symbol's newest open one as it stood). So b's own trades stay open and trade symbols of
    # their own: no outcome may hang on that race, and the result must equal a, then b, one by one.
    own = [line for line in more.read_bytes().splitlines(keepends=True) if b'"trade.closed"' not in line]
    own = b"".join(own)
    for symbol in workload.SYMBOLS:
        own = own.replace(f'"{symbol}"'.encode(), f'"{symbol.replace("-", "")}Q"'.encode())
    n_more = own.count(b"\n")
    with open(b, "ab") as f:  # b = a + its own events
        f.write(own)

    def proc(*args):
        return subprocess.Popen([sys.executable, "-m", "msp", "--database-url", racing_database, "--workspace",
                                 "desk", "--format", "json", *map(str, args)],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    procs = [proc("ingest", a, "--batch-size", "300"), proc("ingest", b, "--batch-size", "300")]
    procs += [proc("automate", "--batch-size", "200") for _ in range(4)]
    results = [(p.wait(timeout=600), p.stdout.read(), p.stderr.read().decode()) for p in procs]
    for code, _, err in results:
        assert code == 0, err
        assert "deadlock" not in err.lower() and "Traceback" not in err
    loads = [json.loads(out) for _, out, _ in results[:2]]
    assert sum(x["ingested"] for x in loads) == n_a + n_more and sum(x["duplicates"] for x in loads) == n_a
    assert all(x["read"] == x["ingested"] + x["duplicates"] + x["rejected"] for x in loads)
    assert run(racing_database, "desk", "automate").exit_code == 0  # whatever arrived after the runners
    # The same inputs, one after the other, on a direct connection.
    racing_direct = direct_url(racing_database, reference_database)
    for path in (a, b):
        assert run(reference_database, "desk", "ingest", path).exit_code == 0
    assert run(reference_database, "desk", "automate").exit_code == 0
    with psycopg.connect(reference_database) as d, psycopg.connect(racing_direct) as p:
        pooled, alone = snapshot(p, "desk"), snapshot(d, "desk")
        assert {k: len(v) for k, v in pooled.items()} == {k: len(v) for k, v in alone.items()}
        assert pooled == alone
