"""msp operator: one surface from the same engine functions, JSON parts with the documented keys (README.md#reports),
an empty state, and --watch driven in a real terminal (tmux)."""

import shutil
import subprocess
import sys
import time
import uuid

import pytest

import events as ev
from support import FIXTURES, run_in_terminal

NY = "America/New_York"


@pytest.fixture
def loaded(msp):
    assert msp("ingest", FIXTURES / "history_week.jsonl", FIXTURES / "trading_day.jsonl", "--automate").exit_code == 0
    return msp


def test_json_surface_is_the_reports_themselves(loaded):
    view = loaded("operator", "--date", "2026-11-20", "--tz", NY, "--format", "json").json()
    assert set(view) == {"today", "presence", "coach_queue", "sources"}
    assert view["today"] == loaded("today", "--date", "2026-11-20", "--tz", NY, "--format", "json").json()
    assert set(view["presence"]) == {"market_state", "volatility", "risk_load", "pending_tasks", "top_attention",
                                     "suggested_actions"}
    assert view["coach_queue"] == loaded("tasks", "list", "--limit", "10", "--format", "json").json()
    flows = {(s["source"], s["signal_type"]): (s["signals"], s["passed"], s["plans"]) for s in view["sources"]}
    assert flows[("options-confluence", "options_confluence")] == (2, 1, 1)  # a plan only for the passing one
    assert flows[("momentum-scanner", "breakout")] == (7, 6, 6)


def test_a_past_day_shows_presence_as_it_stood(loaded):
    view = loaded("operator", "--date", "2026-11-20", "--tz", NY, "--format", "json").json()
    # as of midnight ending the day: no signal in the last 8 hours, the day's candidates in the last 24
    assert view["presence"]["market_state"] == "neutral"
    assert [t["symbol"] for t in view["presence"]["top_attention"]] == ["SPY", "NVDA", "MSFT"]


def test_table_at_80_columns_reads_well(loaded, database_url, workspace):
    code, text = run_in_terminal(["--database-url", database_url, "--workspace", workspace, "operator",
                                  "--date", "2026-11-20", "--tz", NY], columns=80)
    assert code == 0, text
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= 80
    for heading in ("Today's workflow", "Loop conversion", "Last coach insight", "Coach action queue",
                    "Operator presence", "Signal sources", "msp tasks accept|reject task_"):
        assert heading in text, heading
    assert "╭─" in text  # a terminal gets rich panels


def test_empty_workspace_tells_a_new_user_what_to_run(msp):
    text = msp("operator").stdout
    assert "Nothing here yet" in text and "msp demo" in text
    view = msp("operator", "--format", "json").json()
    assert view["coach_queue"] == [] and view["today"]["last_coach_insight"] is None


def _tmux(*args):
    return subprocess.run(["tmux", *args], capture_output=True, text=True)


def _screen(session):
    return _tmux("capture-pane", "-p", "-t", session).stdout


def _wait_for(session, text, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        screen = _screen(session)
        if text in screen:
            return screen
        time.sleep(0.3)
    raise AssertionError(f"{text!r} never appeared; screen was:\n{_screen(session)}")


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
def test_watch_refreshes_in_a_real_terminal(database_url, workspace, tmp_path):
    session = f"msp-{uuid.uuid4().hex[:8]}"
    command = (f"{sys.executable} -m msp --database-url '{database_url}' --workspace {workspace} "
               f"operator --watch 1 --tz UTC")
    assert _tmux("new-session", "-d", "-s", session, "-x", "100", "-y", "60", command).returncode == 0
    try:
        _wait_for(session, "Nothing here yet")
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        path = ev.write(tmp_path / "live.jsonl",
                        *[ev.signal(f"SYM{i}", event_id=f"live-{i}", at=now, workflow=f"wf-live-{i}")
                          for i in range(3)])
        subprocess.run([sys.executable, "-m", "msp", "--database-url", database_url, "--workspace", workspace,
                        "ingest", path], check=True, capture_output=True)
        screen = _wait_for(session, "Today's workflow")
        assert "Signals" in screen and "updated " in screen
        _tmux("send-keys", "-t", session, "C-c")
        deadline = time.time() + 10
        while time.time() < deadline and _tmux("has-session", "-t", session).returncode == 0:
            time.sleep(0.2)
        assert _tmux("has-session", "-t", session).returncode != 0, "msp operator --watch did not stop on Ctrl-C"
    finally:
        _tmux("kill-session", "-t", session)


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
def test_watch_survives_a_database_outage_and_recovers(database_url, workspace, tmp_path):
    from tcp_proxy import Proxy

    proxy = Proxy(database_url).start()
    url = proxy.url_for(database_url)
    path = ev.write(tmp_path / "s.jsonl", ev.signal(event_id="s1", at=time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                                                                      time.gmtime())))
    subprocess.run([sys.executable, "-m", "msp", "--database-url", database_url, "--workspace", workspace,
                    "ingest", path], check=True, capture_output=True)
    session = f"msp-{uuid.uuid4().hex[:8]}"
    command = f"{sys.executable} -m msp --database-url '{url}' --workspace {workspace} operator --watch 1 --tz UTC"
    _tmux("new-session", "-d", "-s", session, "-x", "140", "-y", "60", command)
    try:
        _wait_for(session, "Today's workflow")
        proxy.cut()
        screen = _wait_for(session, "database unreachable")
        assert "Today's workflow" in screen  # the last good screen stays, under the notice
        assert "Traceback" not in screen
        proxy.restore()
        _wait_for(session, "updated ", timeout=30)
        assert _tmux("has-session", "-t", session).returncode == 0
    finally:
        _tmux("kill-session", "-t", session)
        proxy.cut()
