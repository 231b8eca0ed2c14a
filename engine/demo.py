"""``msp demo``: the first thing a new user runs.

Migrates the database, ingests the bundled fixtures (a week of history and
one realistic trading day), runs the automations and returns what the demo
screen shows.  Re-running it is safe: ingest and automations are idempotent.
"""

from __future__ import annotations

import datetime as dt
from importlib import resources

from .automations.runner import run_once
from .db import Database
from .ingest import ingest
from .reports.presence import presence
from .reports.tasks import list_tasks
from .reports.today import today

DEMO_FILES = ("history_week.jsonl", "trading_day.jsonl")
DEMO_DATE = dt.date(2026, 11, 20)
DEMO_TZ = "America/New_York"
DEMO_NOW = dt.datetime(2026, 11, 20, 16, 30, tzinfo=dt.timezone(dt.timedelta(hours=-5)))


def fixture_paths() -> list[str]:
    folder = resources.files("msp") / "fixtures"
    return [str(folder / name) for name in DEMO_FILES if (folder / name).is_file()]


def run_demo(db: Database) -> dict:
    report = ingest(db, fixture_paths(), from_start=True)  # a re-run says how many were already there
    sweep = run_once(db)
    return {
        "ingest": report.counts(),
        "automate": sweep.counters(),
        "today": today(db, DEMO_DATE, db.settings.tz or DEMO_TZ),
        "presence": presence(db, now=DEMO_NOW),
        "tasks": list_tasks(db, "pending", 10),
    }
