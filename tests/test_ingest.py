"""Ingest against a real PostgreSQL — counts, quarantine, dedupe, conflicts — through the Python API,
and what ``msp ingest`` adds: the lines it prints and its exit codes."""

import json

import orjson
import psycopg
import pytest

import events as ev
import msp as package


def stored(conn, workspace, table="workflow_events"):
    return conn.execute(f"SELECT count(*) FROM {table} WHERE workspace = %s", (workspace,)).fetchone()[0]


def test_ingest_counts_and_rows(api, conn, workspace, tmp_path):
    path = ev.write(tmp_path / "day.jsonl", ev.signal(), ev.candidate(), ev.executed(), ev.closed())
    result = api.ingest(path)
    assert result.model_dump() == {"read": 4, "ingested": 4, "duplicates": 0, "conflicts": 0, "rejected": 0,
                                   "warnings": 0, "checkpoint_skipped": 0}
    assert stored(conn, workspace) == 4
    row = conn.execute("SELECT event_type, workflow_id, symbol, source, source_line FROM workflow_events "
                       "WHERE workspace = %s ORDER BY seq LIMIT 1", (workspace,)).fetchone()
    assert row == ("signal.created", "wf-1", "AAPL", path, 1)


def test_rerunning_the_same_file_is_a_no_op(api, conn, workspace, tmp_path):
    path = ev.write(tmp_path / "day.jsonl", ev.signal(), ev.candidate(event_id=False))
    api.ingest(path)
    again = api.ingest(path)
    assert again.model_dump() == {"read": 0, "ingested": 0, "duplicates": 0, "conflicts": 0, "rejected": 0,
                                  "warnings": 0, "checkpoint_skipped": 2}  # the checkpoint skips what the first run committed
    from_start = api.ingest(path, from_start=True)
    assert from_start.model_dump() == {"read": 2, "ingested": 0, "duplicates": 2, "conflicts": 0, "rejected": 0,
                                       "warnings": 0, "checkpoint_skipped": 0}
    assert stored(conn, workspace) == 2


def test_duplicates_within_one_input_are_counted_once(api, conn, workspace, tmp_path):
    event = ev.signal(event_id="same")
    no_id = ev.signal(event_id=False, confidence=61)  # identical lines without ids derive the same id
    path = ev.write(tmp_path / "dups.jsonl", event, event, no_id, no_id, ev.signal(event_id=False, confidence=62))
    result = api.ingest(path)
    assert (result.read, result.ingested, result.duplicates, result.conflicts) == (5, 3, 2, 0)
    assert stored(conn, workspace) == 3


def test_a_duplicate_with_different_content_is_a_conflict_and_the_stored_event_wins(msp, conn, workspace, tmp_path):
    first = ev.signal(event_id="sig-x", confidence=70)
    second = ev.signal(event_id="sig-x", confidence=99)
    msp("ingest", ev.write(tmp_path / "a.jsonl", first))
    result = msp("ingest", ev.write(tmp_path / "b.jsonl", second), "--format", "json")
    assert result.exit_code == 0
    assert result.json()["conflicts"] == 1 and result.json()["duplicates"] == 1
    assert "b.jsonl:1: conflict: /event_id: conflict: event sig-x is already stored with different content" in result.stderr
    kept = conn.execute("SELECT event #>> '{payload,confidence}' FROM workflow_events WHERE workspace = %s",
                        (workspace,)).fetchone()[0]
    assert kept == "70"


def test_bad_lines_are_quarantined_and_good_ones_around_them_still_load(msp, conn, workspace, tmp_path):
    good = [ev.signal(event_id="g1"), ev.signal(event_id="g2"), ev.signal(event_id="g3")]
    bad_type = ev.signal(event_id="b1")
    bad_type["event_type"] = "nope"
    lines = [json.dumps(good[0]), '{"broken": ', json.dumps(good[1]), json.dumps(bad_type), "", json.dumps(good[2])]
    path = tmp_path / "mixed.jsonl"
    path.write_bytes(("\n".join(lines) + "\n").encode() + b'{"x": "\xff"}\n')
    result = msp("ingest", str(path), "--format", "json")
    assert result.exit_code == 1
    assert result.json() == {"read": 6, "ingested": 3, "duplicates": 0, "conflicts": 0, "rejected": 3, "warnings": 0, "checkpoint_skipped": 0}
    assert f"{path}:2: (root): invalid JSON" in result.stderr
    assert f"{path}:4: /event_type: 'nope' is not an allowed value" in result.stderr
    assert f"{path}:7: (root): invalid UTF-8" in result.stderr
    rows = conn.execute("SELECT line_no, raw, errors FROM rejected_lines WHERE workspace = %s ORDER BY line_no",
                        (workspace,)).fetchall()
    assert [r[0] for r in rows] == [2, 4, 7]
    assert bytes(rows[0][1]) == b'{"broken": '
    assert bytes(rows[2][1]) == b'{"x": "\xff"}'
    assert rows[1][2][0]["path"] == "/event_type"
    # re-running keeps one quarantine row per bad line
    msp("ingest", str(path))
    assert stored(conn, workspace, "rejected_lines") == 3


def test_stdin_is_read_with_dash(msp, conn, workspace):
    result = msp("ingest", "-", "--format", "json", input=ev.jsonl(ev.signal(), ev.closed()))
    assert result.json()["ingested"] == 2
    assert conn.execute("SELECT DISTINCT source FROM workflow_events WHERE workspace = %s",
                        (workspace,)).fetchall() == [("<stdin>",)]


def test_an_empty_file_reads_nothing_and_succeeds(api, msp, tmp_path):
    path = tmp_path / "empty.jsonl"
    path.write_text("")
    assert api.ingest(path).read == 0
    result = msp("ingest", str(path), "--format", "json")
    assert result.exit_code == 0 and result.json()["read"] == 0


def test_a_missing_file_is_exit_1_with_one_line(msp, tmp_path, conn, workspace):
    good = ev.write(tmp_path / "good.jsonl", ev.signal())
    result = msp("ingest", good, str(tmp_path / "nope.jsonl"))
    assert result.exit_code == 1
    assert result.stderr.strip() == f"msp: error: {tmp_path / 'nope.jsonl'}: no such file"
    assert stored(conn, workspace) == 0  # checked before anything is read


def test_an_over_long_line_is_quarantined_truncated_and_reading_goes_on(msp, conn, workspace, tmp_path):
    big = ev.signal(event_id="big")
    big["payload"]["blob"] = "x" * (1024 * 1024 + 10)
    path = ev.write(tmp_path / "big.jsonl", ev.signal(event_id="before"), big, ev.signal(event_id="after"))
    result = msp("ingest", path, "--format", "json")
    assert result.json()["ingested"] == 2 and result.json()["rejected"] == 1
    assert "big.jsonl:2: (root): line is over the 1048576-byte limit" in result.stderr
    raw_len, truncated = conn.execute("SELECT length(raw), raw_truncated FROM rejected_lines WHERE workspace = %s",
                                      (workspace,)).fetchone()
    assert raw_len == 1024 * 1024 and truncated is True


def test_small_batches_commit_separately_and_count_exactly(api, msp, conn, workspace, tmp_path):
    events = [ev.signal(event_id=f"s{i}") for i in range(23)]
    assert api.ingest(events, batch_size=5).ingested == 23
    assert stored(conn, workspace) == 23
    path = ev.write(tmp_path / "many.jsonl", *[ev.signal(event_id=f"f{i}") for i in range(7)])
    assert msp("ingest", path, "--batch-size", "5", "--format", "json").json()["ingested"] == 7
    assert msp("ingest", path, "--batch-size", "0").exit_code == 2


def test_candidate_contradiction_is_ingested_with_a_warning(msp, conn, workspace, tmp_path):
    path = ev.write(tmp_path / "c.jsonl", ev.candidate(result="pass", confidence=50))
    result = msp("ingest", path, "--format", "json")
    assert result.exit_code == 0
    assert result.json()["warnings"] == 1 and result.json()["ingested"] == 1
    assert "c.jsonl:1: warning: /payload/result:" in result.stderr


def test_a_value_the_database_refuses_is_quarantined_not_fatal(fresh_database, tmp_path):
    """A line valid by the schemas that the database still refuses (here a CHECK
    constraint this test adds): the batch is redone row by row and only that
    line is quarantined, verbatim, with the database's reason."""
    from support import invoke

    assert invoke(["--database-url", fresh_database, "migrate"]).exit_code == 0
    with psycopg.connect(fresh_database, autocommit=True) as admin:
        admin.execute("ALTER TABLE workflow_events ADD CONSTRAINT refuse_zzz CHECK (symbol <> 'ZZZ')")
    odd = ev.signal("ZZZ", event_id="refused")
    path = ev.write(tmp_path / "odd.jsonl", ev.signal(event_id="ok1"), odd, ev.signal(event_id="ok2"))
    result = invoke(["--database-url", fresh_database, "--workspace", "w", "--format", "json", "ingest", path])
    assert result.json() == {"read": 3, "ingested": 2, "duplicates": 0, "conflicts": 0, "rejected": 1, "warnings": 0, "checkpoint_skipped": 0}
    assert 'odd.jsonl:2: (root): refused by the database: new row for relation "workflow_events" violates ' \
           'check constraint "refuse_zzz"' in result.stderr
    with psycopg.connect(fresh_database) as conn:
        assert conn.execute("SELECT line_no, raw FROM rejected_lines").fetchall() == \
            [(2, (tmp_path / "odd.jsonl").read_bytes().splitlines()[1])]
        assert conn.execute("SELECT count(*) FROM workflow_events").fetchone()[0] == 2


def test_tenant_id_in_the_file_never_moves_an_event_to_another_workspace(api, conn, workspace, tmp_path):
    event = ev.signal(context={"tenant_id": "someone-else"})
    api.ingest(ev.write(tmp_path / "t.jsonl", event))
    assert stored(conn, workspace) == 1
    assert conn.execute("SELECT count(*) FROM workflow_events WHERE workspace = 'someone-else'").fetchone()[0] == 0


def test_validate_needs_no_database(tmp_path):
    from support import invoke

    path = ev.write(tmp_path / "v.jsonl", ev.signal(), ev.signal(confidence="x"))
    result = invoke(["--database-url", "postgresql://nobody@127.0.0.1:1/none", "validate", path, "--format", "json"])
    assert result.exit_code == 1
    assert result.json() == {"read": 2, "valid": 1, "invalid": 1, "warnings": 0}
    assert "v.jsonl:2: /payload/confidence:" in result.stderr


def test_rejects_list_show_and_retry(api, msp, conn, workspace, tmp_path):
    bad = ev.signal(event_id="retry-me")
    bad["payload"]["confidence"] = "high"
    path = ev.write(tmp_path / "r.jsonl", bad)
    assert api.ingest(path).rejected == 1
    listed = api.rejects_list()
    assert len(listed) == 1 and listed[0].path == "/payload/confidence"
    reject_id = listed[0].reject_id
    shown = api.rejects_show(reject_id)
    assert json.loads(shown.raw)["event_id"] == "retry-me"
    # still invalid: stays quarantined (and `msp rejects retry` exits 1)
    assert api.rejects_retry(all=True).still_rejected == 1
    still = msp("rejects", "retry", "--all", "--format", "json")
    assert still.exit_code == 1 and still.json()["still_rejected"] == 1
    # fix the stored line (as a schema change would) and retry
    fixed = json.dumps({**bad, "payload": {**bad["payload"], "confidence": 80}}).encode()
    conn.execute("UPDATE rejected_lines SET raw = %s WHERE reject_id = %s", (fixed, reject_id))
    retried = msp("rejects", "retry", reject_id, "--format", "json")
    assert retried.exit_code == 0 and retried.json() == {"retried": 1, "ingested": 1, "duplicates": 0,
                                                          "still_rejected": 0}
    assert conn.execute("SELECT status, event_id FROM rejected_lines WHERE reject_id = %s",
                        (reject_id,)).fetchone() == ("retried", "retry-me")
    assert stored(conn, workspace) == 1
    with pytest.raises(package.NotFound, match="rejected line not found: 999999999"):
        api.rejects_show(999999999)
    assert msp("rejects", "show", 999999999).exit_code == 1
    with pytest.raises(package.NotFound):
        api.rejects_retry([reject_id])  # retried already: nothing waits for a retry
    assert msp("rejects", "retry").exit_code == 2


def test_a_repeated_id_in_one_batch_is_compared_by_content_unless_both_ids_are_content_hashes():
    from msp.engine.event_store import StagedBatch

    first = {"event_id": "h:0123", "event_type": "signal.created", "event_version": 1,
             "occurred_at": "2026-11-20T09:30:00Z", "correlation": {"workflow_id": "wf"}, "payload": {"symbol": "AAPL"}}
    other = {**first, "payload": {"symbol": "MSFT"}}
    batch = StagedBatch("f.jsonl", "w")
    batch.add_event(1, "h:0123", False, orjson.dumps(first), first)  # an explicit id that looks like a hash
    batch.add_event(2, "h:0123", True, b"...", {k: v for k, v in other.items() if k != "event_id"})
    batch.add_event(3, "h:0123", False, orjson.dumps(first), first)
    assert batch.repeats == [(2, "h:0123", False), (3, "h:0123", True)]
    hashed = StagedBatch("f.jsonl", "w")
    hashed.add_event(1, "h:0123", True, b"...", {k: v for k, v in first.items() if k != "event_id"})
    hashed.add_event(2, "h:0123", True, b"...", {k: v for k, v in first.items() if k != "event_id"})
    assert hashed.repeats == [(2, "h:0123", True)]


def test_the_switch_interval_is_restored_after_overlapping_ingests():
    import sys
    import threading

    from msp.engine.ingest import WRITER_SWITCH_INTERVAL, short_switch_interval

    before = sys.getswitchinterval()
    entered, release = threading.Event(), threading.Event()

    def other():
        with short_switch_interval():
            entered.set()
            release.wait(10)

    thread = threading.Thread(target=other)
    thread.start()
    entered.wait(10)
    with short_switch_interval():
        assert sys.getswitchinterval() == WRITER_SWITCH_INTERVAL
    assert sys.getswitchinterval() == WRITER_SWITCH_INTERVAL  # the other ingest still runs
    release.set()
    thread.join(10)
    assert sys.getswitchinterval() == before


def test_a_batch_written_inside_another_transaction_gives_it_its_role_back(database_url, workspace):
    """rejects retry writes its batches inside its own transaction: the batch runs as the
    login role (COPY cannot run under row-level security), the rest of the transaction not."""
    from msp.engine.db import connect, workspace_transaction
    from msp.engine.event_store import StagedBatch, write_batch

    event = ev.signal(workflow="wf-role")
    batch = StagedBatch("role.jsonl", workspace)
    batch.add_event(1, event["event_id"], False, orjson.dumps(event), event)
    conn = connect(database_url)
    try:
        with workspace_transaction(conn, workspace):
            outer = conn.execute("SELECT current_user").fetchone()[0]
            inside = []
            result = write_batch(conn, workspace, batch, after=lambda c, r: inside.append(
                c.execute("SELECT current_user, current_setting('jit')").fetchone()))
            assert conn.execute("SELECT current_user").fetchone()[0] == outer == "msp_app"
            assert conn.execute("SELECT current_setting('jit')").fetchone()[0] == "off"  # msp never JIT-compiles
        assert result.ingested == 1 and inside == [(conn.info.user, "off")]
    finally:
        conn.close()
