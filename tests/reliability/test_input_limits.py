"""Input lines that used to abort a file, lose a good line, rewrite numbers, pre-empt
msp's own ids or be stored but unreadable (issue 11, "input lines").  Each test
asserts the rows: what is stored, what is quarantined and with which message."""

from __future__ import annotations

import hashlib
import secrets
import json
import uuid
from pathlib import Path

import orjson
import pytest

import events as E
from support import ROOT, invoke

PINNED = ROOT / "tests" / "fixtures" / "derived_ids"


def good_lines(n: int, prefix: str = "good") -> list[dict]:
    return [E.signal(symbol="AAPL", workflow=f"wf-{prefix}-{i}", event_id=f"{prefix}-{i}") for i in range(n)]


def write_lines(path: Path, lines: list) -> Path:
    path.write_bytes(b"".join((line if isinstance(line, bytes) else orjson.dumps(line)) + b"\n" for line in lines))
    return path


def stored(conn, workspace: str) -> dict:
    return dict(conn.execute("SELECT source_line, event_id FROM workflow_events WHERE workspace = %s",
                             (workspace,)).fetchall())


def quarantined(conn, workspace: str) -> dict:
    return {n: (source, errors) for n, source, errors in conn.execute(
        "SELECT line_no, source, errors FROM rejected_lines WHERE workspace = %s", (workspace,))}


def _long_workflow(event):
    event["correlation"]["workflow_id"] = "w" * 8000


def _long_parent(event):
    event["correlation"]["parent_event_id"] = "p" * 6000


def _long_candidate(event):
    plan = E.plan(workflow="wf-long", event_id="long-plan")
    plan["payload"]["links"] = {"candidate_id": "c" * 6000}
    event.clear()
    event.update(plan)


def _long_trade(event):
    event.clear()
    event.update(E.executed(trade_id="t" * 8000, workflow="wf-long", event_id="long-trade"))


@pytest.mark.parametrize("make_bad, path, length", [
    (_long_workflow, "/correlation/workflow_id", 8000),
    (_long_parent, "/correlation/parent_event_id", 6000),
    (_long_candidate, "/payload/links/candidate_id", 6000),
    (_long_trade, "/payload/trade_id", 8000),
])
def test_an_id_too_long_for_an_index_is_quarantined_alone(msp, conn, workspace, tmp_path, make_bad, path, length):
    lines = good_lines(1000)
    bad = E.signal(workflow="wf-bad", event_id="bad-1")
    make_bad(bad)
    lines.insert(500, bad)
    result = msp("--format", "json", "ingest", write_lines(tmp_path / "in.jsonl", lines))
    assert result.exit_code == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert {k: result.json()[k] for k in ("read", "ingested", "duplicates", "rejected")} == \
        {"read": 1001, "ingested": 1000, "duplicates": 0, "rejected": 1}
    assert sorted(stored(conn, workspace).values()) == sorted(f"good-{i}" for i in range(1000))
    (_source, errors), = quarantined(conn, workspace).values()
    assert list(quarantined(conn, workspace)) == [501]
    assert {"path": path, "message": f"too long: {length} characters, at most 256"} in errors


def test_a_row_the_database_refuses_is_quarantined_alone_and_a_later_copy_stands_in(conn, database_url, workspace):
    """Lines validation did not stop (here: the writer is handed them directly) and the
    database refuses — an index row too large, a number beyond numeric — are quarantined
    one by one with the database's message, every other line of the batch stored; a later
    line with a refused line's id is stored in its place, not counted a duplicate."""
    import psycopg

    from msp.engine.event_store import StagedBatch, write_batch

    batch = StagedBatch("direct", workspace)
    line = 0
    for event in good_lines(1000):
        line += 1
        batch.add_event(line, event["event_id"], False, orjson.dumps(event), event)
    huge = E.signal(workflow=secrets.token_hex(4000), event_id="huge")  # 8,000 characters, incompressible
    batch.add_event(1001, "huge", False, orjson.dumps(huge), huge)
    tiny = E.signal(workflow="wf-tiny", event_id="tiny")
    raw_tiny = orjson.dumps(tiny).replace(b'"confidence":75', b'"confidence":1e-20000')
    batch.add_event(1002, "tiny", False, raw_tiny, tiny)
    fixed = E.signal(workflow="wf-tiny", event_id="tiny")
    batch.add_event(1003, "tiny", False, orjson.dumps(fixed), fixed)
    with psycopg.connect(database_url, autocommit=True) as writer:
        result = write_batch(writer, workspace, batch)
    assert (result.ingested, result.duplicates, result.conflicts) == (1001, 0, [])
    assert [(n, p[0]["message"].split(":")[0]) for n, _raw, _t, p in result.late_rejects] == \
        [(1001, "refused by the database"), (1002, "refused by the database")]
    messages = [p[0]["message"] for *_rest, p in result.late_rejects]
    assert "index row" in messages[0] and "workflow_events_workflow_idx" in messages[0]
    assert "numeric" in messages[1]
    rows = stored(conn, workspace)
    assert len(rows) == 1001 and rows[1003] == "tiny" and 1002 not in rows
    assert sorted(quarantined(conn, workspace)) == [1001, 1002]


def test_a_line_after_an_unstorable_copy_of_its_event_is_stored(msp, conn, workspace, tmp_path):
    event = E.signal(workflow="wf-x", event_id="event-x")
    bad = orjson.dumps(event).replace(b'"confidence":75', b'"confidence":1e-20000')
    result = msp("--format", "json", "ingest", write_lines(tmp_path / "x.jsonl", [bad, event]))
    assert result.exit_code == 1
    assert {k: result.json()[k] for k in ("read", "ingested", "duplicates", "rejected")} == \
        {"read": 2, "ingested": 1, "duplicates": 0, "rejected": 1}
    assert stored(conn, workspace) == {2: "event-x"}
    (_source, errors), = quarantined(conn, workspace).values()
    assert errors == [{"path": "/payload/confidence", "message": "number out of the range PostgreSQL stores "
                       "(at most 131072 digits before the point and 16383 after)"}]


def test_a_source_path_too_long_for_an_index_keeps_its_quarantine_and_checkpoint(msp, conn, workspace, tmp_path):
    directory = tmp_path
    while len(str(directory)) < 3300:  # incompressible names: the index cannot squeeze the key
        directory = directory / uuid.uuid4().hex[:30]
    directory.mkdir(parents=True)
    path = directory / ("f" * (3413 - len(str(directory)) - 1))
    assert len(str(path)) == 3413
    write_lines(path, [*good_lines(2), b"{not json"])
    result = msp("--format", "json", "ingest", path)
    assert result.exit_code == 1, result.stderr
    assert (result.json()["ingested"], result.json()["rejected"]) == (2, 1)
    assert quarantined(conn, workspace)[3][0] == str(path)
    again = msp("--format", "json", "ingest", path)
    assert again.exit_code == 0, again.stderr
    assert (again.json()["read"], again.json()["checkpoint_skipped"]) == (0, 3)
    assert len(quarantined(conn, workspace)) == 1


def candidate_ids() -> list[str]:
    lines = (ROOT / "fixtures" / "trading_day.jsonl").read_text().splitlines()
    return sorted({json.loads(l)["payload"]["candidate_id"] for l in lines
                   if '"candidate.' in l and "candidate_id" in json.loads(l)["payload"]})


def automated_counts(conn, workspace) -> dict:
    count = lambda sql: conn.execute(sql, (workspace,)).fetchone()[0]  # noqa: E731
    return {
        "plans": count("SELECT count(*) FROM workflow_events WHERE workspace = %s "
                       "AND event_type = 'trade.plan.created' AND event_id LIKE 'msp.%%'"),
        "alerts": count("SELECT count(*) FROM alerts WHERE workspace = %s"),
        "journal": count("SELECT count(*) FROM journal_entries WHERE workspace = %s"),
        "enrichments": count("SELECT count(*) FROM journal_enrichments WHERE workspace = %s"),
    }


def test_input_cannot_take_the_ids_msp_derives_for_its_own_events(msp, conn, workspace, tmp_path):
    fixture = ROOT / "fixtures" / "trading_day.jsonl"
    ids = candidate_ids()
    hostile = [E.signal(workflow=f"wf-h{i}", event_id="msp.plan." + hashlib.md5(cid.encode()).hexdigest())
               for i, cid in enumerate((ids * 10)[:10])]
    result = msp("--format", "json", "ingest", fixture, write_lines(tmp_path / "hostile.jsonl", hostile))
    assert result.exit_code == 1
    assert result.json()["rejected"] == 10
    errors = [e for _s, errs in quarantined(conn, workspace).values() for e in errs if e["path"] == "/event_id"]
    assert len(errors) == 10 and all("reserved for the events msp writes itself" in e["message"] for e in errors)
    assert msp("automate").exit_code == 0
    clean = f"{workspace}_c"
    assert msp("ingest", fixture, workspace_name=clean).exit_code == 0
    assert msp("automate", workspace_name=clean).exit_code == 0
    assert automated_counts(conn, workspace) == automated_counts(conn, clean)
    assert automated_counts(conn, workspace) == {"plans": 7, "alerts": 6, "journal": 9, "enrichments": 4}
    # a dump of msp's own events ingested again (a re-import of exported or archived history) is
    # 26 duplicates: each is exactly the event msp holds; the same id with other content is refused
    texts = [t for (t,) in conn.execute(  # as stored, every digit (a Python float would round the coach's)
        "SELECT event::text FROM workflow_events WHERE workspace = %s AND event_id LIKE 'msp.%%' ORDER BY seq",
        (workspace,))]
    dump = [t.encode() for t in texts]
    events = [json.loads(t) for t in texts[:1]]
    before = len(stored(conn, workspace))
    again = msp("--format", "json", "ingest", write_lines(tmp_path / "dump.jsonl", dump))
    assert len(dump) == 26
    assert again.exit_code == 0, again.stderr
    assert (again.json()["ingested"], again.json()["duplicates"], again.json()["rejected"]) == (0, 26, 0)
    altered = bytes(json.dumps({**events[0], "occurred_at": "2026-11-20T23:59:00-05:00"}), "utf-8")
    forged = msp("--format", "json", "ingest", write_lines(tmp_path / "forged.jsonl", [altered]))
    assert forged.exit_code == 1
    assert (forged.json()["ingested"], forged.json()["duplicates"], forged.json()["conflicts"],
            forged.json()["rejected"]) == (0, 0, 0, 1)
    assert "reserved for the events msp writes itself" in forged.stderr
    assert len(stored(conn, workspace)) == before


BIG = "12345678901234567890123"
SMALL = "0.1000000000000000000000000001"


def with_number(event: dict, number: str) -> bytes:
    event = {**event, "payload": {**event["payload"], "evidence": {"n": "X"}}}
    return orjson.dumps(event).replace(b'"X"', number.encode())


def test_numbers_are_stored_as_given_and_duplicates_decided_on_every_digit(msp, conn, workspace, tmp_path):
    base = E.signal(workflow="wf-n", event_id=False)
    lines = [with_number(base, BIG), with_number(base, BIG[:-1] + "4"), with_number(base, BIG),
             with_number(base, SMALL), with_number(base, SMALL[:-1] + "2")]
    result = msp("--format", "json", "ingest", write_lines(tmp_path / "n.jsonl", lines))
    assert {k: result.json()[k] for k in ("read", "ingested", "duplicates")} == \
        {"read": 5, "ingested": 4, "duplicates": 1}
    numbers = dict(conn.execute("SELECT source_line, (event #>> '{payload,evidence,n}') FROM workflow_events "
                                "WHERE workspace = %s", (workspace,)).fetchall())
    assert numbers == {1: BIG, 2: BIG[:-1] + "4", 4: SMALL, 5: SMALL[:-1] + "2"}


@pytest.mark.parametrize("batch_size", [5000, 1])
def test_a_conflict_in_the_last_digit_does_not_depend_on_the_batch_size(msp, conn, workspace, tmp_path, batch_size):
    base = E.signal(workflow="wf-n", event_id="same-id")
    lines = [with_number(base, BIG), with_number(base, BIG[:-1] + "4"), with_number(base, BIG + ".0")]
    result = msp("--format", "json", "ingest", "--batch-size", batch_size, write_lines(tmp_path / "c.jsonl", lines))
    assert {k: result.json()[k] for k in ("ingested", "duplicates", "conflicts")} == \
        {"ingested": 1, "duplicates": 2, "conflicts": 1}
    assert [line for line in result.stderr.splitlines() if "conflict" in line] == \
        [f"{tmp_path / 'c.jsonl'}:2: conflict: /event_id: conflict: event same-id is already stored with different content "
         "(kept the stored one)"]


def test_ids_derived_before_exact_numbers_stay_the_same(msp, conn, workspace):
    """tests/fixtures/derived_ids: lines without an event_id (the fixtures' and a generated
    week's, plus numbers in every notation a float holds exactly) and the ids main's code
    derived for them before this change (recorded once, pinned)."""
    pinned = json.loads((PINNED / "main_ids.json").read_text())
    result = msp("--format", "json", "ingest", PINNED / "lines.jsonl")
    assert result.exit_code == 0, result.stderr
    rows = stored(conn, workspace)
    firsts = {}
    for n, event_id in enumerate(pinned, start=1):
        firsts.setdefault(event_id, n)
    assert rows == {n: event_id for event_id, n in firsts.items()}


def newline_lines() -> list[bytes]:
    event = E.executed(symbol="NVDA", trade_id="t-nl", workflow="wf-nl", event_id=False)
    lines = []
    for key, value in (("symbol", "NVDA\n"), ("event_id", "id\n"), ("occurred_at", event["occurred_at"] + "\n"),
                       ("entity", {"entity_type": "trade", "entity_id": "t-nl", "symbol": "NVDA\n"})):
        changed = json.loads(json.dumps(event))
        if key == "symbol":
            changed["payload"]["symbol"] = value
            changed["payload"]["trade_id"] = "t-nl-1"
        else:
            changed[key] = value
        lines.append(orjson.dumps(changed))
    return lines


def test_validate_and_ingest_refuse_a_trailing_newline_alike(msp, conn, workspace, tmp_path):
    """A pattern's "$" is the end of the string (ECMA-262), not "before a final newline"
    (Python): the payload symbol, the event id and the time are refused by both commands;
    the entity's symbol has no pattern, so both accept it."""
    path = write_lines(tmp_path / "nl.jsonl", newline_lines())
    checked = msp("--format", "json", "validate", path)
    assert checked.exit_code == 1 and (checked.json()["valid"], checked.json()["invalid"]) == (1, 3)
    assert [line.split(": ")[0].rsplit(":", 1)[1] for line in checked.stderr.splitlines()] == ["1", "2", "3"]
    result = msp("--format", "json", "ingest", path)
    assert (result.json()["ingested"], result.json()["rejected"]) == (1, 3)
    assert list(stored(conn, workspace)) == [4]
    assert sorted(quarantined(conn, workspace)) == [1, 2, 3]
    assert "refused by the database" not in json.dumps(list(quarantined(conn, workspace).values()))


@pytest.mark.parametrize("value", ["9999-12-31T23:59:59-14:00", "9999-12-31T23:59:59-15:59",
                                   "0001-01-01T00:00:00+14:00"])
def test_a_date_time_no_report_could_read_back_is_refused_with_its_path(msp, conn, workspace, tmp_path, value):
    closed = E.closed(workflow="wf-t", event_id="close-t")
    closed["payload"]["closed_at"] = value
    lines = [E.signal(workflow="wf-t", event_id="sig-t", at=value), closed]
    result = msp("--format", "json", "ingest", write_lines(tmp_path / "t.jsonl", lines))
    assert result.json()["rejected"] == 2 and stored(conn, workspace) == {}
    paths = sorted(e["path"] for _s, errs in quarantined(conn, workspace).values() for e in errs)
    assert paths == ["/occurred_at", "/payload/closed_at"]
    assert msp("trace", "wf-t").exit_code == 1  # nothing stored: not found, never "timestamp too large"


@pytest.mark.parametrize("args", [("today", "--date", "0001-01-01", "--tz", "Asia/Tokyo"),
                                  ("conversion", "--date", "0001-01-03", "--days", "7"),
                                  ("conversion", "--date", "9999-12-31", "--cohort")])
def test_a_day_at_the_edge_of_the_calendar_is_a_usage_error(msp, args):
    result = msp(*args)
    assert result.exit_code == 2 and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_trace_shows_every_event_of_a_parent_cycle(msp, tmp_path):
    a = E.signal(workflow="wf-cycle", event_id="cy-a", parent="cy-b")
    b = E.candidate(workflow="wf-cycle", event_id="cy-b", parent="cy-a")
    c = E.signal(workflow="wf-cycle", event_id="cy-c", parent="cy-a", at="2026-11-20T10:00:00-05:00")
    assert msp("ingest", write_lines(tmp_path / "cy.jsonl", [a, b, c])).exit_code == 0
    result = msp("--format", "json", "trace", "wf-cycle")
    report = result.json()

    def ids(nodes):
        return [n["event_id"] for node in nodes for n in [node]] + [i for node in nodes for i in ids(node["children"])]

    assert report["events"] == 3 and sorted(ids(report["roots"])) == ["cy-a", "cy-b", "cy-c"]
    assert report["cycle_breaks"] == ["cy-a"]
    table = msp("trace", "wf-cycle")
    assert "cycle" in table.stdout and all(i in table.stdout for i in ("cy-a", "cy-b", "cy-c"))


@pytest.mark.parametrize("name", ["alpha\n", "", " alpha", "al pha", "alpha\t", "a" * 65, "al\x1bpha"])
def test_a_workspace_name_with_whitespace_or_control_characters_is_refused(database_url, conn, name):
    before = conn.execute("SELECT count(*) FROM workspaces").fetchone()[0]
    for args, env in ((["--workspace", name], None), ([], {"MSP_WORKSPACE": name})):
        if env is not None and name == "":
            continue  # an empty variable is an unset one (the default workspace)
        result = invoke(["--database-url", database_url, *args, "ingest", "-"],
                        input=orjson.dumps(E.signal()) + b"\n", env=env)
        assert result.exit_code == 2, (name, result.stderr)
        assert result.stderr.count("\n") == 1 and "invalid workspace" in result.stderr
    assert conn.execute("SELECT count(*) FROM workspaces").fetchone()[0] == before
    import msp as package
    from msp.engine.errors import UsageError

    with pytest.raises(UsageError, match="invalid workspace"):
        package.connect(database_url, workspace=name)
