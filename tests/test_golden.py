"""Every command's ``--format json`` output, byte for byte, over the demo fixtures.

The files under ``tests/golden/`` were recorded from the command line before the
Python API existed; this test proves the refactored commands (which print the
API's ``model_dump(mode="json")``) still print exactly that.  One fresh database,
workspace ``golden``, the commands run in order (later ones see what earlier ones
wrote).  Only what is genuinely time-dependent is normalised:

- Python's clock is frozen at 2026-11-20 21:30 UTC (16:30 in New York, the example
  day's close) so ``presence`` — whose windows end at "now" — sees the example day;
- every time the *database* stamps with ``now()`` (any timestamp at or after the
  moment the test started: ``decided_at``, ``triggered_at``, ``rejected_at``, a
  journal entry's ``created_at``, the dates of an alert's auto-logged entry, …) and
  the state's ``last_actions[].at`` (Python's frozen clock) become ``<now>`` (the
  fixtures' own times all lie in November 2026, before any real run);
- the database's time in the message refusing a second trigger of an alert becomes ``<now>``;
- the connection string, target and server version that ``doctor`` and ``migrate --status|--dry-run`` name become ``<database>``,
  ``<target>`` and ``<server_version>``; the PostgreSQL version ``migrate --check`` lints for
  becomes ``<pg_version>``; the archive's file (a folder of the run's own) becomes ``<file>``.

``MSP_GOLDEN_UPDATE=1 pytest tests/test_golden.py`` rewrites the files (only ever on
purpose: a diff in them is a change of a published interface).
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import tempfile
from pathlib import Path

import pytest
from freezegun import freeze_time

from support import ROOT, invoke

GOLDEN = Path(__file__).parent / "golden"
WORKSPACE = "golden"
FROZEN_NOW = "2026-11-20T21:30:00Z"
UPDATE = os.environ.get("MSP_GOLDEN_UPDATE") == "1"

TASK = "task_ca_eca9ddb208fa_1"
OTHER_TASK = "task_ca_895b75285e1b_1"
ALERT = "alert_plan_cand-2026-11-20-SPY-1330"
OTHER_ALERT = "alert_plan_cand-2026-11-20-GOOGL-1305"
JOURNAL = "jd_plan_cand-2026-11-20-SPY-1330"
BAD = "fixtures/bad_lines.jsonl"  # relative to the repository root, the test's working directory
DAY = "fixtures/trading_day.jsonl"

ARCHIVE_FILE = Path(tempfile.gettempdir()) / f"msp-golden-{os.getpid()}" / "archive.jsonl.gz"

# (golden file name, command arguments, expected exit code); run in this order
CASES = [
    ("migrate", ["migrate"], 0),
    ("doctor", ["doctor"], 0),
    ("schemas_list", ["schemas", "list"], 0),
    ("schemas_show_candidate_created", ["schemas", "show", "candidate.created"], 0),
    ("schemas_show_envelope", ["schemas", "show", "envelope"], 0),
    ("validate_bad_lines", ["validate", BAD], 1),
    ("validate_trading_day", ["validate", DAY], 0),
    ("demo", ["demo"], 0),
    ("ingest_bad_lines", ["ingest", BAD], 1),
    ("ingest_again_automate", ["ingest", DAY, "--automate"], 0),
    ("automate", ["automate"], 0),
    ("automate_replay", ["automate", "--replay", "--since", "2026-11-01"], 0),
    ("automate_all_workspaces", ["automate", "--all-workspaces", "--batch-size", "7"], 0),
    ("today", ["today", "--date", "2026-11-20", "--tz", "America/New_York"], 0),
    ("today_empty_day", ["today", "--date", "2026-11-22", "--tz", "America/New_York"], 0),
    ("conversion", ["conversion", "--date", "2026-11-20", "--days", "7"], 0),
    ("conversion_cohort", ["conversion", "--cohort", "--date", "2026-11-20", "--days", "7"], 0),
    ("presence", ["presence"], 0),
    ("presence_top_5", ["presence", "--top", "5"], 0),
    ("operator", ["operator", "--date", "2026-11-20", "--tz", "America/New_York"], 0),
    ("trace_workflow", ["trace", "wf-2026-11-20-nvda-0935"], 0),
    ("trace_event", ["trace", "evt-1120-0004"], 0),
    ("tasks_list", ["tasks", "list"], 0),
    ("tasks_list_all", ["tasks", "list", "--status", "all", "--limit", "100"], 0),
    ("tasks_accept", ["tasks", "accept", TASK], 0),
    ("tasks_accept_again", ["tasks", "accept", TASK], 0),
    ("tasks_reject_accepted", ["tasks", "reject", TASK], 1),
    ("tasks_reject", ["tasks", "reject", OTHER_TASK], 0),
    ("tasks_list_resolved", ["tasks", "list", "--status", "resolved"], 0),
    ("state_show", ["state", "show"], 0),
    ("state_set", ["state", "set", "--timezone", "America/New_York", "--attention-score", "72",
                   "--focus", "breakouts", "--active-candidates", "cand-a, cand-b", "--cognitive-load", "40"], 0),
    ("state_show_after_set", ["state", "show"], 0),
    ("alerts_list", ["alerts", "list"], 0),
    ("alerts_list_active_5", ["alerts", "list", "--status", "active", "--limit", "5"], 0),
    ("alerts_trigger", ["alerts", "trigger", ALERT, "--price", "598.75"], 0),
    ("alerts_trigger_again", ["alerts", "trigger", ALERT, "--price", "600"], 1),
    ("alerts_trigger_auto_log", ["alerts", "trigger", OTHER_ALERT, "--price", "176.5", "--auto-log"], 0),
    ("alerts_list_triggered", ["alerts", "list", "--status", "triggered"], 0),
    ("journal_auto_log", ["journal", "auto-log", ALERT], 0),
    ("journal_auto_log_again", ["journal", "auto-log", ALERT], 0),
    ("journal_list", ["journal", "list"], 0),
    ("journal_list_open_5", ["journal", "list", "--status", "open", "--limit", "5"], 0),
    ("journal_show", ["journal", "show", JOURNAL], 0),
    ("journal_show_completed", ["journal", "show", "jrnl-trd-2026-11-20-NVDA-0935"], 0),
    ("rejects_list", ["rejects", "list"], 0),
    ("rejects_show", ["rejects", "show", "1"], 0),
    ("rejects_retry", ["rejects", "retry", "1", "2"], 1),
    ("rejects_retry_all", ["rejects", "retry", "--all"], 1),
    ("rejects_list_all", ["rejects", "list", "--status", "all", "--limit", "5"], 0),
    ("today_after_decisions", ["today", "--date", "2026-11-20", "--tz", "America/New_York"], 0),
    ("migrate_check", ["migrate", "--check"], 0),
    ("migrate_status", ["migrate", "--status"], 0),
    ("migrate_dry_run", ["migrate", "--dry-run"], 0),
    # last, so that the cases above stay as they were recorded before these commands existed
    ("import_backtest", ["import", "backtest", "fixtures/backtest_goog_sma.csv", "--symbol", "GOOG",
                         "--strategy", "sma_cross", "--tz", "America/New_York"], 0),
    ("import_fills", ["import", "fills", "fixtures/ibkr_trades.csv", "--broker", "ibkr", "--tz", "America/New_York"], 0),
    ("import_tradingview", ["import", "tradingview", "fixtures/tradingview_alerts.jsonl", "--confidence", "55"], 0),
    ("review", ["review", "--week", "2026-11-20", "--tz", "America/New_York"], 0),
    # an event the lifecycle cannot apply, stored past the schemas just before this case (POISONED_BEFORE)
    ("automate_failures_list_empty", ["automate", "failures", "list"], 0),
    ("automate_set_aside", ["automate"], 0),
    ("automate_failures_list", ["automate", "failures", "list"], 0),
    ("automate_failures_show", ["automate", "failures", "show", "1"], 0),
    ("automate_failures_show_missing", ["automate", "failures", "show", "2"], 1),
    ("automate_failures_retry", ["automate", "failures", "retry", "--all"], 1),
    ("automate_failures_list_all", ["automate", "failures", "list", "--status", "all"], 0),
    # retention (issue 16): the file lands in a folder of the run's own, named "<file>" here
    ("archive_dry_run", ["archive", "--before", "2026-11-21", "--dry-run"], 0),
    ("archive", ["archive", "--before", "2026-11-21", "--to", str(ARCHIVE_FILE)], 0),
    ("trace_archived", ["trace", "ops-2026-11-20"], 0),
]
POISONED_BEFORE = "automate_set_aside"

# contracts no case meets: `msp server status|stop` read and stop the embedded server of
# the machine running the tests, which the golden run (on --database-url) must not touch
NOT_IN_THE_GOLDEN_RUN = {"server_status", "server_stop"}

TIMESTAMP = re.compile(r'"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:[+-]\d\d:\d\d|Z))"')


def normalise(name: str, text: str, started: dt.datetime) -> str:
    """Replace what the wall clock or the test server decides (see the module docstring)."""
    text = TIMESTAMP.sub(lambda m: '"<now>"' if dt.datetime.fromisoformat(m.group(1)) >= started else m.group(0),
                         text)
    if name.startswith("state_set") or name == "state_show_after_set":
        text = re.sub(r'"at": "[^"]+"', '"at": "<now>"', text)
    if name in ("doctor", "migrate_status", "migrate_dry_run"):
        for key in ("database", "target", "server_version"):
            text = re.sub(r'"%s": "[^"]*"' % key, f'"{key}": "<{key}>"', text)
    text = text.replace(str(ARCHIVE_FILE), "<file>")
    if name == "migrate_check":  # squawk lints for the server's major version (embedded 18, CI's other 15)
        text = re.sub(r'"pg_version": "[^"]*"', '"pg_version": "<pg_version>"', text)
    return text


GROUPS = ("tasks", "state", "alerts", "journal", "rejects", "schemas", "import")
FLAG_CONTRACTS = {"--automate": "_automate", "--check": "_check"}
MIGRATE_CONTRACTS = {"--status": "_status", "--dry-run": "_dry_run"}  # `tasks list --status` is tasks_list


def contract(args: list[str]) -> str:
    """The published output contract (``schemas/output/NAME.schema.json``) of a command line."""
    name = "_".join(args[:3]) if args[:2] == ["automate", "failures"] else \
        "_".join(args[:2]) if args[0] in GROUPS else args[0]
    flags = {**FLAG_CONTRACTS, **(MIGRATE_CONTRACTS if args[0] == "migrate" else {})}
    name += "".join(suffix for flag, suffix in flags.items() if flag in args)
    return name.replace("-", "_")


@pytest.fixture(scope="module")
def golden_run(server_url):
    """Every case run once, in order, in a fresh database: name → (exit code, stdout, normalised
    stdout, stderr)."""
    import uuid

    from support import drop_database, make_database

    name = f"msp_golden_{uuid.uuid4().hex[:10]}"
    url = make_database(server_url, name)
    cwd = os.getcwd()
    os.chdir(ROOT)
    shutil.rmtree(ARCHIVE_FILE.parent, ignore_errors=True)
    ARCHIVE_FILE.parent.mkdir()
    try:
        base = ["--database-url", url, "--workspace", WORKSPACE, "--format", "json"]
        outputs = {}
        started = dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=1)
        from msp import results

        for contract_name in results.OUTPUTS:  # the engine's own models, imported before the clock is
            results.OUTPUTS[contract_name]     # frozen: a model built then would see freezegun's datetime
        with freeze_time(FROZEN_NOW, tick=True):
            for case, args, _ in CASES:
                if case == POISONED_BEFORE:
                    from support import poison_event, store_directly

                    store_directly(url, WORKSPACE, poison_event(1))
                result = invoke(base + args)
                stderr = re.sub(r"at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)?\+\d{4}", "at <now>", result.stderr)
                outputs[case] = (result.exit_code, result.stdout, normalise(case, result.stdout, started), stderr)
        yield outputs
    finally:
        os.chdir(cwd)
        shutil.rmtree(ARCHIVE_FILE.parent, ignore_errors=True)
        drop_database(server_url, name)


def test_every_command_prints_its_recorded_json(golden_run):
    if UPDATE:
        GOLDEN.mkdir(exist_ok=True)
        for name, (_, _, stdout, stderr) in golden_run.items():
            (GOLDEN / f"{name}.json").write_text(stdout)
            if stderr:
                (GOLDEN / f"{name}.stderr").write_text(stderr)
            else:
                (GOLDEN / f"{name}.stderr").unlink(missing_ok=True)
    for name, args, code in CASES:
        exit_code, _, stdout, stderr = golden_run[name]
        assert exit_code == code, (name, stderr)
        assert stdout == (GOLDEN / f"{name}.json").read_text(), name
        expected_err = GOLDEN / f"{name}.stderr"
        assert stderr == (expected_err.read_text() if expected_err.exists() else ""), name


def test_every_json_output_matches_its_published_contract(golden_run):
    """The real output (not normalised) of every case against the shipped schema of its command,
    date-time formats checked too; every published contract is met at least once."""
    import json

    import jsonschema

    from msp.engine.output_schemas import load_output_schema, output_names

    checked = set()
    for name, args, _ in CASES:
        _, stdout, _, _ = golden_run[name]
        if not stdout:  # a refused action prints its error on stderr only
            continue
        schema = load_output_schema(contract(args))
        validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
        errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(json.loads(stdout))]
        assert errors == [], name
        checked.add(contract(args))
    assert checked == set(output_names()) - NOT_IN_THE_GOLDEN_RUN


def test_a_contract_rejects_what_the_command_never_prints():
    """The contracts are strict enough to fail: an unknown key, a string count, a missing key."""
    import jsonschema

    from msp.engine.output_schemas import load_output_schema

    today = json_of("today")
    validator = jsonschema.Draft202012Validator(load_output_schema("today"))
    assert validator.is_valid(today)
    assert not validator.is_valid({**today, "extra": 1})
    assert not validator.is_valid({**today, "counts": {**today["counts"], "signals": "10"}})
    assert not validator.is_valid({k: v for k, v in today.items() if k != "conversion"})


def json_of(name: str):
    import json

    return json.loads((GOLDEN / f"{name}.json").read_text())


def test_every_golden_file_is_a_case():
    """A stale file (a case renamed or dropped) would silently stop being checked."""
    names = {name for name, _, _ in CASES}
    other_tests = {"emitted_events"}  # tests/test_event_writer.py's
    assert {p.stem for p in GOLDEN.iterdir()} - other_tests == names
