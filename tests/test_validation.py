"""Validation of single lines: every kind of bad input gets a precise path and message."""

import json

import pytest

from msp.engine.schemas import schema_set
from msp.engine.validation import LineChecker, derive_event_id

import events as ev

checker = LineChecker()


def errors_of(obj_or_bytes):
    raw = obj_or_bytes if isinstance(obj_or_bytes, bytes) else json.dumps(obj_or_bytes).encode()
    return [(p.path, p.message) for p in checker.check(raw).errors]


def paths_of(obj_or_bytes):
    return sorted({path for path, _ in errors_of(obj_or_bytes)})


def test_every_allowed_type_has_a_schema_and_loads():
    schemas = schema_set()
    assert len(schemas.allowed_types) == 20
    for event_type in schemas.allowed_types:
        # trade.updated v2 adds a scale-in's position (msp import fills)
        assert schemas.versions(event_type) == ([1, 2] if event_type == "trade.updated" else [1]), event_type


def test_a_valid_event_is_accepted_with_its_own_id():
    result = checker.check(json.dumps(ev.signal(event_id="sig-1")).encode())
    assert result.ok and result.event_id == "sig-1" and not result.derived_id


def test_missing_event_id_is_derived_deterministically_whatever_the_key_order():
    event = ev.signal(event_id=False)
    reordered = dict(reversed(list(event.items())))
    first = checker.check(json.dumps(event).encode())
    second = checker.check(json.dumps(reordered, indent=None, separators=(" ,", " : ")).encode())
    assert first.derived_id and first.event_id == second.event_id == derive_event_id(event)
    assert first.event_id.startswith("h:")


@pytest.mark.parametrize("raw, path, fragment", [
    (b'{"event_type": "signal.created"', "", "invalid JSON"),
    (b'{"a": "\xff\xfe"}', "", "invalid UTF-8"),
    (b'{"a": NaN}', "", "NaN and Infinity"),
    (b'{"a": -Infinity}', "", "NaN and Infinity"),
    (b'[1, 2]', "", "must be a JSON object"),
    (b'{"a": 1e999}', "", "number too large"),
])
def test_unparseable_lines(raw, path, fragment):
    (got_path, message), = errors_of(raw)
    assert got_path == path and fragment in message


def test_nesting_deeper_than_the_limit_points_at_the_too_deep_node():
    event = ev.signal()
    node = event["payload"]["evidence"] = {}
    for _ in range(70):
        node["x"] = {}
        node = node["x"]
    (path, message), = errors_of(event)
    assert message == "nesting deeper than 64 levels"
    assert path.startswith("/payload/evidence/x/x")


def test_an_over_long_line_is_rejected_before_parsing():
    small = LineChecker(max_line_bytes=100)
    result = small.check(json.dumps(ev.signal()).encode())
    assert result.errors[0].message.endswith("over the 100-byte limit")


def test_nul_characters_cannot_be_stored():
    event = ev.signal()
    event["payload"]["note"] = "a\u0000b"
    assert errors_of(event) == [("/payload/note", "the NUL character (\\u0000) cannot be stored")]


@pytest.mark.parametrize("mutate, path", [
    (lambda e: e.pop("occurred_at"), ""),
    (lambda e: e.update(occurred_at="2026-11-20T09:30:00"), "/occurred_at"),
    (lambda e: e.update(occurred_at="2026-13-45T09:30:00Z"), "/occurred_at"),
    (lambda e: e.update(event_type="signal.exploded"), "/event_type"),
    (lambda e: e.update(event_version=2), "/event_version"),
    (lambda e: e.update(event_version="1"), "/event_version"),
    (lambda e: e.update(event_type=["signal.created"]), "/event_type"),  # found by the fuzzer: it must not crash
    (lambda e: e.update(event_type={"a": 1}, event_version=[1]), "/event_type"),
    (lambda e: e.update(occurred_at="2026-11-20T09:30:00+16:00"), "/occurred_at"),  # PostgreSQL's offset limit
    (lambda e: e.update(occurred_at="0000-01-01T00:00:00Z"), "/occurred_at"),  # PostgreSQL has no year 0
    (lambda e: e.update(surprise=True), ""),
    (lambda e: e.update(event_id="has space"), "/event_id"),
    (lambda e: e.update(event_id="x" * 129), "/event_id"),
    (lambda e: e["correlation"].pop("workflow_id"), "/correlation"),
    (lambda e: e.update(actor={"actor_type": "robot"}), "/actor/actor_type"),
    (lambda e: e["payload"].update(symbol="aapl"), "/payload/symbol"),
    (lambda e: e["payload"].update(confidence="high"), "/payload/confidence"),
    (lambda e: e["payload"].update(confidence=101), "/payload/confidence"),
    (lambda e: e["payload"].update(direction="up"), "/payload/direction"),
])
def test_envelope_and_signal_rules(mutate, path):
    event = ev.signal()
    mutate(event)
    assert path in paths_of(event)


def test_unknown_version_names_the_known_ones():
    event = ev.signal()
    event["event_version"] = 2
    assert errors_of(event) == [("/event_version", "no schema for signal.created version 2 (known versions: 1)")]


@pytest.mark.parametrize("mutate, path", [
    (lambda p: p.pop("decision_packet"), "/payload"),
    (lambda p: p.update(candidate_id="   "), "/payload/candidate_id"),
    (lambda p: p.update(signal_id=""), "/payload/signal_id"),
    (lambda p: p.update(evaluated_at=" "), "/payload/evaluated_at"),
    (lambda p: p.update(result="maybe"), "/payload/result"),
    (lambda p: p.update(final_confidence="75"), "/payload/final_confidence"),
    (lambda p: p.update(checks={}), "/payload/checks"),
    (lambda p: p["checks"][0].update(status="ok"), "/payload/checks/0/status"),
    (lambda p: p["checks"][0].pop("detail"), "/payload/checks/0"),
    (lambda p: p["decision_packet"].update(riskScore=0), "/payload/decision_packet/riskScore"),
    (lambda p: p["decision_packet"].update(signalScore=150), "/payload/decision_packet/signalScore"),
    (lambda p: p["decision_packet"].update(bias="up"), "/payload/decision_packet/bias"),
    (lambda p: p["decision_packet"].update(status="done"), "/payload/decision_packet/status"),
    (lambda p: p["decision_packet"].update(id=" "), "/payload/decision_packet/id"),
    (lambda p: p["decision_packet"].update(timeframeBias="1h"), "/payload/decision_packet/timeframeBias"),
    (lambda p: p["decision_packet"].update(targets=["110"]), "/payload/decision_packet/targets/0"),
    (lambda p: p["decision_packet"].pop("signalSource"), "/payload/decision_packet"),
    (lambda p: p["decision_packet"].update(volatilityRegime="wild"), "/payload/decision_packet/volatilityRegime"),
])
def test_strict_candidate_and_decision_packet_rules(mutate, path):
    event = ev.candidate()
    mutate(event["payload"])
    assert path in paths_of(event), errors_of(event)


def test_every_error_of_a_line_is_listed():
    event = ev.candidate()
    event["payload"]["result"] = "maybe"
    event["payload"]["decision_packet"]["riskScore"] = 0
    event["surprise"] = 1
    assert paths_of(event) == ["", "/payload/decision_packet/riskScore", "/payload/result"]


def test_unknown_payload_keys_are_kept_not_rejected():
    event = ev.signal()
    event["payload"]["my_extra"] = {"anything": [1, 2]}
    assert checker.check(json.dumps(event).encode()).ok


@pytest.mark.parametrize("confidence, result, warned", [
    (80, "pass", False), (80, "watch", True), (60, "watch", False), (60, "pass", True),
    (40, "fail", False), (40, "watch", True), (70, "pass", False), (55, "watch", False), (54.9, "fail", False),
])
def test_candidate_result_contradicting_confidence_is_a_warning_not_an_error(confidence, result, warned):
    checked = checker.check(json.dumps(ev.candidate(result=result, confidence=confidence)).encode())
    assert checked.ok
    assert bool(checked.warnings) is warned
    if warned:
        assert checked.warnings[0].path == "/payload/result"
