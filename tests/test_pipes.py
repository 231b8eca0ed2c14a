"""Pipes and terminals (issue 10): every command as a real process, its output
piped on (every value whole, plain text) and to a reader that has gone
(`| head -1`: exit 141, nothing on stderr); `--format csv` honoured or refused;
streams (`automate --every`, `operator --watch`) one record per line; and what a
terminal shows (narrow windows, the ingest progress bar)."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys
import time
import uuid

import pytest

import events as ev
from support import (FIXTURES, command_paths, drop_database, invoke, make_database, poison_event, run_in_terminal,
                     run_process, store_directly)

from msp.cli.main import EXIT_PIPE_CLOSED

DAY = "2026-11-20"
NY = "America/New_York"
BOX_DRAWING = re.compile("[\u2500-\u257f]")


@pytest.fixture(scope="module")
def desk(server_url, tmp_path_factory):
    """Workspace 'desk' of a fresh database: the week, the day and the bad lines,
    swept.  Yields the URL, the ids the cases need and a private MSP_DATA_DIR."""
    name = f"msp_pipes_{uuid.uuid4().hex[:8]}"
    url = make_database(server_url, name)
    base = ["--database-url", url, "--workspace", "desk"]
    for fixture in ("history_week.jsonl", "trading_day.jsonl", "bad_lines.jsonl"):
        assert invoke(base + ["ingest", str(FIXTURES / fixture)]).exit_code in (0, 1)
    for n in (1, 2, 3):  # events the sweep sets aside, for `msp automate failures`
        store_directly(url, "desk", poison_event(n))
    assert invoke(base + ["automate"]).exit_code == 0
    data = lambda *args: invoke(base + ["--format", "json", *args]).json()  # noqa: E731
    alerts = [a["alert_id"] for a in data("alerts", "list", "--limit", "100") if a["level"] is not None]
    tasks = [t["task_id"] for t in data("tasks", "list", "--limit", "100")]
    ids = {"alerts": alerts, "tasks": tasks, "journals": [j["journal_id"] for j in data("journal", "list")],
           "rejects": [r["reject_id"] for r in data("rejects", "list")],
           "failures": [f["failure_id"] for f in data("automate", "failures", "list")]}
    yield {"url": url, "base": base, "ids": ids, "json": data,
           "data_dir": str(tmp_path_factory.mktemp("embedded") / "none")}
    drop_database(server_url, name)


def string_values(data) -> list[str]:
    """Every string in a JSON document."""
    if isinstance(data, dict):
        return [s for v in data.values() for s in string_values(v)]
    if isinstance(data, list):
        return [s for v in data for s in string_values(v)]
    return [data] if isinstance(data, str) else []


def fields(rows, *keys) -> list[str]:
    return [str(row[k]) for row in rows for k in keys if row.get(k) not in (None, "")]


def field_rows_text(event_type) -> list[str]:
    from msp.engine.schema_docs import describe, field_rows

    doc = describe(event_type, None)
    return [str(c) for row in field_rows(doc["schema"], doc["resources"]) for c in row if c not in (None, "")]


# Every command and subcommand of `msp --help`: (arguments, whose values must show whole).
# An action runs three times (piped on, to a reader that has gone, as CSV): n = 0, 1, 2 picks its id.
def cases(desk):
    ids, js = desk["ids"], desk["json"]
    return {
        "demo": (lambda n: ["--workspace", f"demo{n}", "demo"],
                 lambda out: [f"msp tasks accept|reject {t}" for t in tasks_in(out)]),
        "ingest": (lambda n: ["ingest", FIXTURES / "trading_day.jsonl"], None),
        "import backtest": (lambda n: ["import", "backtest", FIXTURES / "backtest_goog_sma.csv", "--symbol", "GOOG",
                                       "--strategy", "sma_cross", "--tz", NY], None),
        "import fills": (lambda n: ["import", "fills", FIXTURES / "ibkr_trades.csv", "--broker", "ibkr", "--tz", NY],
                         None),
        "import tradingview": (lambda n: ["import", "tradingview", FIXTURES / "tradingview_alerts.jsonl",
                                          "--confidence", "60"], None),
        "validate": (lambda n: ["validate", FIXTURES / "bad_lines.jsonl"], lambda out: ["read 23, valid 3"]),
        "schemas list": (lambda n: ["schemas", "list"], lambda out: string_values(js("schemas", "list"))),
        "schemas show": (lambda n: ["schemas", "show", "candidate.created"],
                         lambda out: field_rows_text("candidate.created")),
        "rejects list": (lambda n: ["rejects", "list"],
                         lambda out: fields(js("rejects", "list"), "source", "path", "message")),
        "rejects show": (lambda n: ["rejects", "show", ids["rejects"][n]],
                         lambda out: [e["message"] for e in js("rejects", "show", str(ids["rejects"][0]))["errors"]]),
        "rejects retry": (lambda n: ["rejects", "retry", ids["rejects"][n]], lambda out: ["still_rejected 1"]),
        "automate": (lambda n: ["automate"], lambda out: ["events_scanned"]),
        "automate failures list": (lambda n: ["automate", "failures", "list"],
                                   lambda out: fields(js("automate", "failures", "list"), "event_id", "message")),
        "automate failures show": (lambda n: ["automate", "failures", "show", ids["failures"][n]],
                                   lambda out: ["evt-poison-1", "positions_pkey"]),
        "automate failures retry": (lambda n: ["automate", "failures", "retry", ids["failures"][n]],
                                    lambda out: ["still_failed 1"]),
        "alerts list": (lambda n: ["alerts", "list", "--limit", "100"],
                        lambda out: fields(js("alerts", "list", "--limit", "100"), "alert_id", "occurred_at")),
        "alerts trigger": (lambda n: ["alerts", "trigger", ids["alerts"][n], "--price", "101.25"],
                           lambda out: [f"alert {ids['alerts'][0]} triggered at 101.25"]),
        "journal list": (lambda n: ["journal", "list"], lambda out: fields(js("journal", "list"), "journal_id", "tags")),
        "journal show": (lambda n: ["journal", "show", ids["journals"][n]],
                         lambda out: [ids["journals"][0]] + string_values(js("journal", "show", ids["journals"][0])
                                                                          .get("tags", []))),
        "journal auto-log": (lambda n: ["journal", "auto-log", ids["alerts"][n]],
                             lambda out: [f"journal draft ja_{ids['alerts'][0]} written"]),
        "today": (lambda n: ["today", "--date", DAY, "--tz", NY],
                  lambda out: ["Tasks suggested", "Journal drafts", "signal_to_candidate", "keep_size_consistent"]),
        "conversion": (lambda n: ["conversion", "--date", DAY, "--tz", NY, "--days", "7"],
                       lambda out: [s["rate"] for s in js("conversion", "--date", DAY, "--tz", NY)["stages"]]),
        "presence": (lambda n: ["presence"], lambda out: fields(js("presence")["suggested_actions"], "command", "reason")),
        "tasks list": (lambda n: ["tasks", "list", "--limit", "100"],
                       lambda out: fields(js("tasks", "list", "--limit", "100"), "task_id", "detail")),
        "tasks accept": (lambda n: ["tasks", "accept", ids["tasks"][n]],
                         lambda out: [f"task {ids['tasks'][0]} accepted"]),
        "tasks reject": (lambda n: ["tasks", "reject", ids["tasks"][3 + n]],
                         lambda out: [f"task {ids['tasks'][3]} rejected"]),
        "state show": (lambda n: ["state", "show"], lambda out: ["focus", "timezone"]),
        "state set": (lambda n: ["state", "set", "--focus", f"opening range breakouts only, round {n}"],
                      lambda out: ["opening range breakouts only, round 0"]),
        "trace": (lambda n: ["trace", "wf-2026-11-20-nvda-0935"],
                  lambda out: fields(flatten(js("trace", "wf-2026-11-20-nvda-0935")["roots"]), "event_id", "summary")),
        "archive": (lambda n: ["archive", "--before", "2026-11-21", "--dry-run"],  # a dry run: the others see the data
                    lambda out: ["cutoff", "2026-11-21T05:00:00+00:00", "open_journal", "workflow_stages"]),
        "operator": (lambda n: ["operator", "--date", DAY, "--tz", NY, "--top", "5"],
                     lambda out: [f"msp tasks accept|reject {t['task_id']}"
                                  for t in js("operator", "--date", DAY, "--tz", NY)["coach_queue"]]),
        "migrate": (lambda n: ["migrate"], lambda out: ["up to date (migration level"]),
        "review": (lambda n: ["review", "--week", DAY, "--tz", NY, "--by", "symbol"],
                   lambda out: [row["key"] for row in js("review", "--week", DAY, "--tz", NY, "--by", "symbol")["by"]]
                   + ["Edge and leak", "coach tasks:"]),
        "doctor": (lambda n: ["doctor"], lambda out: [js("doctor")["target"]]),
        "server status": (lambda n: ["server", "status"], lambda out: [desk["data_dir"]]),
        "server stop": (lambda n: ["server", "stop"],
                        lambda out: [f"the embedded PostgreSQL server in {desk['data_dir']} is not running"]),
    }


def tasks_in(text: str) -> list[str]:
    return re.findall(r"msp tasks accept\|reject (task_\w+)", text)


def flatten(nodes):
    for node in nodes:
        yield node
        yield from flatten(node["children"])


def run_piped(desk, args, reader_gone=False):
    """msp as a real process, stdout a pipe: read whole (as `| cat` would), or
    with its reader already gone (as `| head -1` leaves it)."""
    env = {**os.environ, "MSP_DATA_DIR": desk["data_dir"], "MSP_DATABASE_URL": "", "DATABASE_URL": ""}
    command = [sys.executable, "-m", "msp", *desk["base"], *map(str, args)]
    if not reader_gone:
        return subprocess.run(command, capture_output=True, env=env, timeout=300)
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        proc = subprocess.Popen(command, stdout=write_end, stderr=subprocess.PIPE, env=env)
    finally:
        os.close(write_end)
    _, err = proc.communicate(timeout=300)
    return subprocess.CompletedProcess(command, proc.returncode, b"", err)


def test_the_cases_cover_every_command_of_msp_help(desk):
    assert set(cases(desk)) == command_paths()


def test_every_command_piped_on_holds_every_value_whole_and_a_gone_reader_ends_it_quietly(desk):
    """`msp … | cat`: plain text, no box drawing, no escape codes, every value the
    case names present whole.  `msp … | head -1`: exit 141, and nothing on stderr
    but what the command reports anyway (validate's bad lines)."""
    failures = []
    for path, (args, expect) in cases(desk).items():
        piped = run_piped(desk, args(0))
        out, err = piped.stdout.decode(), piped.stderr.decode()
        if piped.returncode not in (0, 1) or "Traceback" in err:
            failures.append(f"{path}: exit {piped.returncode}: {err[-300:]}")
            continue
        if BOX_DRAWING.search(out) or "\x1b" in out:
            failures.append(f"{path}: box drawing or escape codes in a pipe:\n{out[:400]}")
        for value in (expect(out) if expect else []):
            if value not in out:
                failures.append(f"{path}: {value!r} is not whole in:\n{out[:2000]}")
                break
        gone = run_piped(desk, args(1), reader_gone=True)
        expected_code = EXIT_PIPE_CLOSED if out else piped.returncode  # a command that writes nothing never notices
        if gone.returncode != expected_code or gone.stderr != piped.stderr:  # no word about the pipe
            failures.append(f"{path}: reader gone: exit {gone.returncode} (expected {expected_code}), "
                            f"stderr {gone.stderr.decode()[-300:]!r}")
    assert not failures, "\n\n".join(failures)


def test_head_one_of_a_long_stream_exits_141_silently(desk):
    """The shell's own `| head -1`: the demo's plain output, and a sweep that goes on every second."""
    env = {**os.environ, "MSP_DATA_DIR": desk["data_dir"]}
    msp = f"{sys.executable} -m msp --database-url '{desk['url']}'"
    script = (f"{msp} --workspace demo-head demo | head -1; echo \"exit ${{PIPESTATUS[0]}}\"; "
              f"{msp} --workspace desk automate --every 1 --format json | head -1; echo \"exit ${{PIPESTATUS[0]}}\"")
    done = subprocess.run(["bash", "-c", script], capture_output=True, env=env, timeout=300)
    lines = done.stdout.decode().splitlines()
    assert lines[0] == "msp demo — workspace demo-head, example day 2026-11-20"
    assert lines[1] in ("exit 141", "exit 0")  # 0 only if all of it fit in the pipe before head left
    assert json.loads(lines[2])["events_scanned"] >= 0 and lines[3] == "exit 141"
    assert done.stderr.decode() == ""


def test_an_idle_sweep_notices_its_reader_has_gone(desk):
    """In table mode an idle sweep prints nothing; it still stops (141) once the reader is gone."""
    gone = run_piped(desk, ["automate", "--every", "1"], reader_gone=True)
    assert gone.returncode == EXIT_PIPE_CLOSED and gone.stderr == b""


def test_format_csv_is_honoured_or_refused_by_every_command(desk):
    """CSV where the output is a table or a record (a header row, then rows);
    exit 2 with one line where it is neither."""
    refused = {"demo", "operator"}
    for path, (args, _) in cases(desk).items():
        argv = [str(a) for a in args(2)]
        result = invoke(desk["base"] + ["--format", "csv", *argv],
                        env={"MSP_DATA_DIR": desk["data_dir"], "MSP_DATABASE_URL": "", "DATABASE_URL": ""})
        if path in refused:
            assert result.exit_code == 2, (path, result.stdout[:300], result.stderr)
            assert result.stdout == "" and len(result.stderr.strip().splitlines()) == 1, (path, result.stderr)
            assert "--format csv" in result.stderr
            continue
        assert result.exit_code in (0, 1), (path, result.stderr)
        rows = list(csv.reader(io.StringIO(result.stdout)))
        assert rows and len(rows[0]) >= 2 and all(len(r) == len(rows[0]) for r in rows), (path, result.stdout[:500])
        assert not BOX_DRAWING.search(result.stdout), path


def test_automate_every_prints_json_lines_and_only_sweeps_that_did_something(desk, tmp_path):
    env = {**os.environ, "MSP_DATA_DIR": desk["data_dir"]}
    base = [sys.executable, "-m", "msp", *desk["base"]]
    for n, fmt in enumerate(("json", "table")):
        proc = subprocess.Popen(base + ["automate", "--every", "1", "--format", fmt], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, env=env)
        try:
            time.sleep(4)  # idle sweeps
            path = ev.write(tmp_path / f"{n}.jsonl", ev.candidate(f"Z{n}", "pass", 80, workflow=f"wf-stream-{n}",
                                                                  candidate_id=f"c-stream-{n}",
                                                                  at="2026-11-21T10:00:00-05:00"))
            subprocess.run(base + ["ingest", path], check=True, capture_output=True, env=env)
            time.sleep(4)
        finally:
            proc.terminate()
            out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0 and err == b"", err
        lines = out.decode().splitlines()
        if fmt == "json":
            records = [json.loads(line) for line in lines]  # one compact object per line
            assert len(records) >= 4 and all(line.startswith("{") and line.endswith("}") for line in lines)
            assert sum(r["auto_plans_created"] for r in records) == 1
        else:
            assert len(lines) == 1, lines  # the busy sweep only
            assert re.fullmatch(r"\S+ sweep: events_scanned \d+, auto_plans_created 1, .*", lines[0]), lines[0]


def test_operator_watch_in_a_pipe_prints_each_refresh(desk):
    env = {**os.environ, "MSP_DATA_DIR": desk["data_dir"]}
    base = [sys.executable, "-m", "msp", *desk["base"], "operator", "--date", DAY, "--tz", NY, "--watch", "1"]
    for fmt, check in (("table", "updated "), ("json", None)):
        proc = subprocess.Popen(base + ["--format", fmt], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        time.sleep(5)
        proc.terminate()
        out, err = proc.communicate(timeout=60)
        text = out.decode()
        assert err == b"" and "\x1b" not in text and not BOX_DRAWING.search(text), (fmt, err, text[:300])
        if check:
            assert text.count(check) >= 2 and text.count("Today's workflow") >= 2, text[:500]
        else:
            views = [json.loads(line) for line in text.splitlines()]
            assert len(views) >= 2 and set(views[0]) == {"today", "presence", "coach_queue", "sources"}


def test_a_rate_with_nothing_to_divide_is_n_a_in_tables_and_0_in_json_and_csv(desk):
    empty = invoke(desk["base"] + ["today", "--date", "2026-11-01", "--tz", NY])
    lines = {line.split()[0]: line.split()[1:] for line in empty.stdout.splitlines() if "_to_" in line}
    assert lines["signal_to_candidate"] == ["n/a", "0/0"], empty.stdout
    as_json = invoke(desk["base"] + ["today", "--date", "2026-11-01", "--tz", NY, "--format", "json"]).json()
    assert as_json["conversion"]["signal_to_candidate"] == 0.0
    as_csv = invoke(desk["base"] + ["today", "--date", "2026-11-01", "--tz", NY, "--format", "csv"]).stdout
    assert "conversion,signal_to_candidate,0.0" in as_csv.splitlines()
    conversion = invoke(desk["base"] + ["conversion", "--date", "2026-11-01", "--tz", NY, "--days", "1"]).stdout
    assert re.search(r"^plan_to_execution\s+n/a\s+0/0$", conversion, re.M), conversion


def test_top_is_one_range_on_operator_and_presence(desk):
    from msp.engine.reports.presence import TOP_RANGE

    low, high = TOP_RANGE
    for command in (["presence"], ["operator", "--date", DAY]):
        assert invoke(desk["base"] + [*command, "--top", str(high), "--format", "json"]).exit_code == 0
        for bad in (low - 1, high + 1):
            result = invoke(desk["base"] + [*command, "--top", str(bad)])
            assert result.exit_code == 2 and f"{low}<=x<={high}" in result.stderr, (command, bad, result.stderr)


def test_today_fits_a_60_column_terminal_without_cutting_a_header(desk):
    code, screen = run_in_terminal(desk["base"] + ["today", "--date", DAY, "--tz", NY], columns=60)
    assert code == 0, screen
    assert max(len(line) for line in screen.splitlines()) <= 60
    assert "…" not in screen
    for label in ("Signals", "Candidates", "Executions", "Tasks suggested", "Journal drafts", "Coach notes",
                  "signal_to_candidate", "execution_to_closed", "100.0%", "10/10"):
        assert label in screen, (label, screen)


def test_issue_lines_are_never_glued_to_the_progress_bar(desk):
    """On a terminal the bar is cleared before each line (it is printed through
    the bar's console), so every FILE:LINE starts a line of its own."""
    code, screen = run_in_terminal(["--database-url", desk["url"], "--workspace", f"bar{uuid.uuid4().hex[:6]}",
                                    "ingest", FIXTURES / "bad_lines.jsonl"], columns=120)
    assert code == 1
    path = str(FIXTURES / "bad_lines.jsonl")
    starts = [m.start() for m in re.finditer(re.escape(path) + r":\d+: ", screen)]
    assert len(starts) == 21, screen[:2000]  # 20 rejected lines, 21 problems (line 15 has two)
    glued = [screen[max(0, s - 40):s + 30] for s in starts if s > 0 and screen[s - 1] not in "\r\n"]
    assert not glued, glued


def test_re_ingesting_a_file_prints_no_warning_again(desk, tmp_path):
    """Warnings are for lines stored as new events: a re-run (cron) is silent,
    and the summary's count is the number of warnings printed."""
    base = ["--database-url", desk["url"], "--workspace", f"re{uuid.uuid4().hex[:6]}"]
    day = str(FIXTURES / "trading_day.jsonl")
    first = invoke(base + ["ingest", day, "--format", "json"])
    printed = [line for line in first.stderr.splitlines() if ": warning: " in line]
    assert first.exit_code == 0 and printed and first.json()["warnings"] == len(printed)
    again = invoke(base + ["ingest", day, "--from-start", "--format", "json"])  # re-read, past the checkpoint
    assert again.exit_code == 0 and again.stderr == ""
    assert again.json()["warnings"] == 0 and again.json()["duplicates"] == first.json()["ingested"]
    quiet = run_process(base + ["ingest", day])  # as cron runs it
    assert quiet.returncode == 0 and quiet.stdout == b"" and quiet.stderr == b""
