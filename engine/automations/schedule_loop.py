"""``msp automate --every N``: sweep on a schedule until SIGTERM/SIGINT.

Uses the ``schedule`` package.  A signal only sets a flag: the sweep in
progress finishes its current batch (which commits whole), then the loop
exits cleanly.  A database that is briefly unreachable is retried at the
next tick instead of ending the loop, and reported for cron's log: one line
when the outage starts (with the reason) and one when a sweep succeeds again
(how long it lasted, how many sweeps failed) — not a line per failed tick.
"""

from __future__ import annotations

import time
from typing import Callable, Optional

import psycopg

from ..db import Database, database_error
from ..errors import DatabaseError
from ..stopping import SignalFlag, stop_on_signals
from .runner import RunReport, run_once


def run_every(db: Database, seconds: int, on_report: Callable[[RunReport], None], *,
              batch_size: int, all_workspaces: bool = False, jobs: Optional[int] = None,
              on_error: Callable[[str], None] = lambda message: None,
              max_runs: int | None = None) -> int:
    """Sweep now and then every ``seconds``; return the number of sweeps done."""
    with stop_on_signals() as stopping:
        return _loop(db, seconds, on_report, stopping, batch_size=batch_size, all_workspaces=all_workspaces,
                     jobs=jobs, on_error=on_error, max_runs=max_runs)


def _loop(db: Database, seconds: int, on_report: Callable[[RunReport], None], stopping: SignalFlag, *,
          batch_size: int, all_workspaces: bool, on_error: Callable[[str], None], max_runs: int | None,
          jobs: Optional[int] = None) -> int:
    import schedule

    runs = 0
    outage: Optional[list] = None  # [monotonic start, failed sweeps] while the database is unreachable

    def sweep():
        nonlocal runs, outage
        try:
            report = run_once(db, batch_size=batch_size, all_workspaces=all_workspaces, stop=stopping.is_set,
                              jobs=jobs)
        except (psycopg.OperationalError, psycopg.InterfaceError, DatabaseError) as exc:
            db.close()
            if outage is None:
                outage = [time.monotonic(), 0]
                reason = exc.message if isinstance(exc, DatabaseError) else database_error(exc, db.url).message
                on_error(f"sweep failed, retrying every {seconds}s until the database answers: {reason}")
            outage[1] += 1
        else:
            if outage is not None:
                lasted = time.monotonic() - outage[0]
                on_error(f"database reachable again after {lasted:.0f}s ({outage[1]} failed "
                         f"sweep{'s' if outage[1] != 1 else ''}); sweeping resumed")
                outage = None
            on_report(report)
        runs += 1
        if max_runs is not None and runs >= max_runs:
            stopping.set()

    scheduler = schedule.Scheduler()
    scheduler.every(seconds).seconds.do(sweep)
    sweep()
    while not stopping.is_set():
        scheduler.run_pending()
        stopping.wait(min(1.0, max(0.05, scheduler.idle_seconds or 1.0)))
    return runs
