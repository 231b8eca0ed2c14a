"""Fuzzing `msp ingest` with hypothesis: events generated from our own schema
files (hypothesis-jsonschema) and mutations of them — wrong types, dropped
fields, extra keys, truncated lines, random bytes, huge strings, deep nesting,
NaN, broken UTF-8.  Every run keeps read = ingested + duplicates + rejected,
every schema-valid event is stored, every rejected line is in the quarantine
verbatim with a message, and nothing crashes or prints a traceback."""

from __future__ import annotations

import copy
import json
import os
import uuid
from pathlib import Path

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_jsonschema import from_schema

from support import ROOT, invoke

SCHEMAS = ROOT / "schemas"
MAX_LINE = 1024 * 1024
EXAMPLES = int(os.environ.get("MSP_FUZZ_EXAMPLES", "200"))  # files per test; CI uses the default
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
TALLY = {"files": 0, "lines": 0, "valid": 0, "mutated": 0, "ingested": 0, "rejected": 0, "duplicates": 0}


def _inline(node, packet):
    """The schema with the DecisionPacket reference inlined and no $id/$schema (self-contained)."""
    if isinstance(node, dict):
        if node.get("$ref") == "../decision_packet.schema.json":
            return _inline(packet, packet)
        return {k: _inline(v, packet) for k, v in node.items() if k not in ("$id", "$schema")}
    if isinstance(node, list):
        return [_inline(x, packet) for x in node]
    return node


def event_schemas() -> dict:
    envelope = json.loads((SCHEMAS / "envelope.schema.json").read_text())
    packet = json.loads((SCHEMAS / "decision_packet.schema.json").read_text())
    out = {}
    for path in sorted((SCHEMAS / "events").glob("*.v1.schema.json")):
        event_type = path.name.split(".v1.")[0]
        schema = _inline(copy.deepcopy(envelope), packet)
        schema["properties"]["event_type"] = {"const": event_type}
        schema["properties"]["event_version"] = {"const": 1}
        schema["properties"]["payload"] = _inline(json.loads(path.read_text()), packet)
        out[event_type] = schema
    return out


SCHEMA_BY_TYPE = event_schemas()
valid_events = st.one_of([from_schema(s) for s in SCHEMA_BY_TYPE.values()])


def reference_valid(event: dict) -> bool:
    """The reference validator (python-jsonschema, formats checked) on our schema files."""
    from msp.engine.schemas import schema_set

    schemas = schema_set()
    ts = schemas.get(event.get("event_type"), event.get("event_version"))
    return ts is not None and schemas.event_reference_validator(ts).is_valid(event)


def validate_refuses(path: Path) -> set:
    """The line numbers `msp validate` calls invalid."""
    result = invoke(["--format", "json", "validate", str(path)])
    assert "Traceback" not in result.stderr and result.exit_code in (0, 1), result.stderr
    refused = set()
    # FILE:LINE: path: message (or FILE:LINE: warning: …), one per "\n": a message may hold \x85
    # or U+2028, which str.splitlines() would split on
    for line in filter(None, result.stderr.split("\n")):
        number, tail = line[len(str(path)) + 1:].split(": ", 1)
        if not tail.startswith("warning: "):
            refused.add(int(number))
    assert len(refused) == result.json()["invalid"]
    return refused


def dumps(event) -> bytes:
    return json.dumps(event, ensure_ascii=False).encode()


MUTATIONS = ["drop", "retype", "extra", "truncate", "random", "huge", "deep", "nan", "utf8", "not_object",
             "bad_time", "bad_type", "bad_version", "nul", "edge"]
EDGE_NUMBERS = [b"12345678901234567890123", b"0.1000000000000000000000000001", b"1e-20000", b"1e-400", b"5e-324"]


def mutate(event: dict, rng) -> bytes:
    """One bad variant of a valid event, chosen by ``rng`` (hypothesis's seeded Random)."""
    kind = rng.choice(MUTATIONS)
    if kind == "drop":
        event.pop(rng.choice(sorted(event)))
    elif kind == "retype":
        event[rng.choice(sorted(event))] = rng.choice([0, -1.5, True, None, [1, 2], "", "x" * 3])
    elif kind == "extra":
        event["unexpected_" + str(rng.randrange(1000))] = rng.randrange(10)
    elif kind == "truncate":
        line = dumps(event)
        return line[: rng.randrange(1, len(line))]
    elif kind == "random":
        return rng.randbytes(rng.randrange(1, 300)).replace(b"\n", b" ").replace(b"\r", b" ")
    elif kind == "huge":
        event["payload"]["filler"] = "x" * rng.choice([MAX_LINE - 300, MAX_LINE + 10, 3 * MAX_LINE])
    elif kind == "deep":
        depth = rng.randrange(60, 400)
        event["payload"]["nest"] = json.loads("[" * depth + "]" * depth)
    elif kind == "nan":
        bad = rng.choice([b"NaN", b"Infinity", b"-Infinity"])
        return dumps(event).replace(b'"event_version": 1', b'"event_version": ' + bad, 1)
    elif kind == "utf8":
        line = dumps(event)
        at = rng.randrange(0, len(line) + 1)
        return line[:at] + rng.choice([b"\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\xf8\x88\x80\x80\x80"]) + line[at:]
    elif kind == "not_object":
        return dumps(rng.choice([1, [1, 2], "event", None, True]))
    elif kind == "bad_time":
        event["occurred_at"] = rng.choice(["2026-11-20T09:30:00", "2026-13-40T25:61:00Z", "yesterday",
                                           "2026-11-20 09:30", "", "2026-11-20T09:30:00+16:00",
                                           "0000-01-01T00:00:00Z"])
    elif kind == "bad_type":
        event["event_type"] = rng.choice(["trade.opened", "", "SIGNAL.CREATED", "signal.created ", None])
    elif kind == "bad_version":
        event["event_version"] = rng.choice([0, 2, 99, -1, "1", 1.5])
    elif kind == "edge":  # issue 11: values that passed validation, then broke the database or a report
        choice = rng.randrange(6)
        if choice == 0:
            event["correlation"]["workflow_id"] = "w" * rng.choice([256, 257, 8000])
        elif choice == 1:
            event["event_id"] = rng.choice(["msp.plan." + "0" * 32, "msp.x", "mspx.plan"])
        elif choice == 2:
            event["occurred_at"] = rng.choice(["9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00",
                                               "9999-12-31T09:59:59-14:00", "2026-11-20T09:30:00Z\n"])
        elif choice == 3:
            event["event_id"] = rng.choice(["id\n", "id"])
        else:
            event["payload"]["n"] = "NUMBER"
            return dumps(event).replace(b'"NUMBER"', rng.choice(EDGE_NUMBERS))
    else:  # nul: a NUL character PostgreSQL cannot store, in a value or a key
        event["payload"][rng.choice(["note\u0000", "k"])] = "a\u0000b"
    return dumps(event)


def with_mutations(events: list, rng) -> list:
    """Each valid event, eight bad variants of it, and the odd blank line, shuffled."""
    drawn = []
    for event in events:
        drawn.append(("valid", dumps(event)))
        drawn += [("mutated", mutate(copy.deepcopy(event), rng)) for _ in range(8)]
    drawn += [("blank", b"")] * rng.randrange(0, 2)
    rng.shuffle(drawn)
    return drawn


@pytest.fixture(scope="module")
def fuzz_database(database_url):
    return database_url  # the tally is printed at the end of the run (conftest.pytest_terminal_summary)


def _ingest_and_check(url: str, tmp: Path, drawn: list) -> None:
    workspace = f"fz_{uuid.uuid4().hex[:10]}"
    path = tmp / f"{workspace}.jsonl"
    path.write_bytes(b"".join(raw + b"\n" for _, raw in drawn))
    result = invoke(["--database-url", url, "--workspace", workspace, "--format", "json", "ingest", str(path)])
    assert "Traceback" not in result.stderr
    assert result.exit_code in (0, 1), result.stderr
    summary = result.json()
    nonblank = [(n, kind, raw) for n, (kind, raw) in enumerate(drawn, start=1) if raw.strip()]
    assert summary["read"] == len(nonblank)
    assert summary["read"] == summary["ingested"] + summary["duplicates"] + summary["rejected"]
    assert result.exit_code == (1 if summary["rejected"] else 0)
    with psycopg.connect(url) as conn:
        stored = dict(conn.execute("SELECT source_line, event FROM workflow_events WHERE workspace = %s",
                                   (workspace,)).fetchall())
        quarantined = {n: (raw, truncated, errors) for n, raw, truncated, errors in conn.execute(
            "SELECT line_no, raw, raw_truncated, errors FROM rejected_lines WHERE workspace = %s", (workspace,))}
    assert len(stored) == summary["ingested"] and len(quarantined) == summary["rejected"]
    # `msp validate` accepts and refuses exactly the lines `msp ingest` does
    assert validate_refuses(path) == set(quarantined)
    seen_ids = set()
    for n, kind, raw in nonblank:
        if n in quarantined:
            kept, truncated, errors = quarantined[n]
            assert errors and all(e["message"] for e in errors), errors
            assert bytes(kept) == raw or (truncated and raw.startswith(bytes(kept)))
            assert n not in stored
            continue
        event = json.loads(raw)
        event_id = event.get("event_id")
        assert n in stored or event_id in seen_ids or event_id is None, f"line {n} neither stored nor quarantined"
        seen_ids.add(event_id)
        if kind == "valid" or n in stored:
            assert reference_valid(event), f"line {n} stored but the reference validator rejects it"
    for n, kind, raw in nonblank:
        if kind == "valid" and len(raw) <= MAX_LINE and b"\\u0000" not in raw and reference_valid(json.loads(raw)):
            assert n not in quarantined, (n, quarantined.get(n))
    TALLY["files"] += 1
    TALLY["lines"] += len(nonblank)
    TALLY["valid"] += sum(1 for _, k, _ in nonblank if k == "valid")
    TALLY["mutated"] += sum(1 for _, k, _ in nonblank if k == "mutated")
    TALLY["blank"] = TALLY.get("blank", 0) + len(drawn) - len(nonblank)
    for key in ("ingested", "rejected", "duplicates"):
        TALLY[key] += summary[key]


def test_fuzzed_files_keep_the_accounting_and_lose_nothing(fuzz_database, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("fuzz")

    @FUZZ
    @given(st.lists(valid_events, min_size=1, max_size=20), st.randoms(use_true_random=False))
    def run(events, rng):
        _ingest_and_check(fuzz_database, tmp, with_mutations(events, rng))

    run()


def test_schema_generated_events_are_all_stored(fuzz_database, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("valid")

    @settings(FUZZ, max_examples=int(EXAMPLES * 1.5))
    @given(st.lists(valid_events, min_size=1, max_size=15))
    def run(events):
        _ingest_and_check(fuzz_database, tmp, [("valid", dumps(e)) for e in events])

    run()
