"""``msp review --html`` over a generated year of trades: under 1 MB, nothing
loaded from outside the file, and it renders in headless Chromium.

The Chromium test needs Debian's ``chromium`` (``apt-get install chromium``;
.ci/run installs it); without it the test is skipped and says why, unless
``MSP_REQUIRE_CHROMIUM=1``, which makes a missing browser a failure.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import shutil
import subprocess
from zoneinfo import ZoneInfo

import pytest

import events as ev
from test_review import assert_no_external_references

NY = ZoneInfo("America/New_York")
SYMBOLS = ("AAPL", "MSFT", "NVDA", "AMD", "TSLA", "META")
STRATEGIES = ("breakout", "pullback", "fade")
MAX_BYTES = 1_000_000


TRADES_A_DAY = 8


def year_of_trades():
    """Eight trades each weekday of 2026 (2,088: more closes than the HTML curve
    draws, so it is thinned), seeded: P&L between -300 and +400."""
    rng = random.Random(14)
    events = []
    day = dt.date(2026, 1, 1)
    while day.year == 2026:
        if day.weekday() < 5:
            for n in range(TRADES_A_DAY):
                trade_id = f"Y{day.isoformat()}-{n}"
                entered = dt.datetime.combine(day, dt.time(9, 35), NY) + dt.timedelta(minutes=25 * n)
                closed = entered + dt.timedelta(minutes=rng.randint(5, 110))
                workflow = f"wf-{trade_id}"
                symbol = rng.choice(SYMBOLS)
                events.append(ev.executed(trade_id, symbol, workflow=workflow, at=entered.isoformat(),
                                          event_id=f"x-{trade_id}"))
                close = ev.closed(trade_id, round(rng.uniform(-300, 400), 2), symbol, workflow=workflow,
                                  at=closed.isoformat(), event_id=f"c-{trade_id}")
                close["payload"]["strategy"] = rng.choice(STRATEGIES)
                events.append(close)
        day += dt.timedelta(days=1)
    return events


@pytest.fixture
def year_html(msp, tmp_path):
    events = year_of_trades()
    assert msp("ingest", ev.write(tmp_path / "year.jsonl", *events)).exit_code == 0
    path = tmp_path / "year.html"
    result = msp("review", "--from", "2026-01-01", "--to", "2026-12-31", "--tz", "America/New_York",
                 "--by", "strategy", "--html", path, "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert result.json()["trades"] == len(events) // 2 == 261 * TRADES_A_DAY
    return path


def test_a_year_is_one_self_contained_file_under_1_mb(year_html):
    document = year_html.read_text(encoding="utf-8")
    assert len(document.encode()) < MAX_BYTES, len(document.encode())
    assert document.count("<svg") == 4
    assert "Weekly P&amp;L" in document  # a year gets weekly bars, not 365
    assert_no_external_references(document)


def test_a_long_curve_is_thinned_to_its_extremes():
    from msp.engine.reports.review_metrics import curve_points, equity_points

    rng = random.Random(3)
    equity, drawdown = equity_points(rng.uniform(-100, 120) for _ in range(90_000))
    kept = curve_points(equity, drawdown, 1500)
    assert len(kept) <= 1500 and kept == sorted(set(kept)) and kept[0] == 0 and kept[-1] == 90_000
    shown = [equity[i] for i in kept]
    assert max(shown) == max(equity) and min(shown) == min(equity)
    assert min(drawdown[i] for i in kept) == min(drawdown)  # the deepest drawdown is drawn
    assert curve_points(equity[:100], drawdown[:100], 1500) == list(range(100))


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def _offline_prefix() -> list[str]:
    """``unshare -n`` (no network at all) where this user may use it; else nothing
    (the reference check above already proves the file asks for nothing)."""
    unshare = shutil.which("unshare")
    if unshare and subprocess.run([unshare, "-n", "true"], capture_output=True).returncode == 0:
        return [unshare, "-n"]
    return []


def test_the_report_renders_in_headless_chromium(year_html, tmp_path):
    browser = _chromium()
    if browser is None:
        if os.environ.get("MSP_REQUIRE_CHROMIUM") == "1":
            pytest.fail("MSP_REQUIRE_CHROMIUM=1 but no chromium on the PATH (apt-get install chromium)")
        pytest.skip("chromium is not installed (apt-get install chromium); MSP_REQUIRE_CHROMIUM=1 makes this fail")
    from PIL import Image

    shot = tmp_path / "year.png"
    command = [*_offline_prefix(), browser, "--headless", "--no-sandbox", "--disable-gpu",
               "--disable-background-networking", "--disable-component-update", "--no-first-run",
               f"--user-data-dir={tmp_path / 'chromium-profile'}", f"--screenshot={shot}", "--window-size=1200,2400",
               year_html.as_uri()]
    result = subprocess.run(command, capture_output=True, text=True, timeout=180)
    assert shot.exists(), result.stderr[-2000:]
    image = Image.open(shot).convert("RGB")
    assert image.size == (1200, 2400)
    colours = image.getcolors(maxcolors=1 << 20)
    assert len(colours) > 200  # text, charts and the heat map, not a blank page
    counts = {rgb: n for n, rgb in colours}
    white = counts.get((255, 255, 255), 0)
    assert white < 0.95 * image.size[0] * image.size[1]
    assert counts.get((0x1A, 0x7F, 0x37), 0) > 500 and counts.get((0xCF, 0x22, 0x2E), 0) > 500  # gain, loss bars
