"""``msp automate --follow``: sweep whenever new events commit.

Every statement that stores events notifies channel ``msp_events`` with its
workspace (a trigger of migrations/014_ingest_checkpoints.sql, delivered at commit).  The follower
LISTENs on a connection of its own and sweeps when its workspace (any, with
``all_workspaces``) is named; a sweep every ``poll_seconds`` is the safety net.
Through a pooler in transaction mode (PgBouncer) LISTEN is accepted but
notifications never arrive, so at start the follower has its other
connection NOTIFY a token; if the token is not back within two seconds it
says so in one line and polls every ``poll_seconds`` instead.

Sweeps are the runner's (engine/automations/runner.py): each batch holds the
workspace's writer lock and every side effect has a unique key, so several
followers, cron runs and ``--every`` loops at once stay exactly-once.  A
database that goes away is reported and retried; stopping (the ``stop``
event, set by SIGINT/SIGTERM in the CLI) ends the loop after the batch in
progress commits.
"""

from __future__ import annotations

import time
import uuid
from typing import Callable, Optional

import psycopg
from pydantic import create_model

from .. import statistics
from ..db import Database, connect, database_error
from ..errors import DatabaseError
from ..stopping import Stop, Stopper
from . import DEFAULT_BATCH_SIZE
from .registry import counters
from .runner import RunReport, run_once

CHANNEL = "msp_events"
TOKEN_PREFIX = "msp.follow-token:"
TOKEN_WAIT_SECONDS = 2.0
LISTEN_SETTLE_SECONDS = 0.2
DEFAULT_POLL_SECONDS = 1.0
LISTEN_STEP_SECONDS = 0.1  # how often a wait for notifications looks at ``stop``


class Wakeups:
    """The LISTEN side: a connection of its own on ``msp_events``, proven at
    start to receive what others notify (``None`` from ``open`` if not)."""

    def __init__(self, conn: psycopg.Connection, workspace: Optional[str]):
        self.conn = conn
        self.workspace = workspace  # None: any workspace

    @classmethod
    def open(cls, db: Database, workspace: Optional[str], stopper: Stopper) -> Optional["Wakeups"]:
        conn = connect(db.url)
        try:
            conn.execute(f"LISTEN {CHANNEL}")
            token = f"{TOKEN_PREFIX}{uuid.uuid4().hex}"
            # Sent by the other connection, a moment later: a pool in transaction mode passes a
            # notification on only while the server connection is still linked to this client (just
            # after LISTEN returns, sometimes), never once it is back in the pool.
            stopper.wait(LISTEN_SETTLE_SECONDS)
            db.conn.execute("SELECT pg_notify(%s, %s)", (CHANNEL, token))
            deadline = time.monotonic() + TOKEN_WAIT_SECONDS
            while not stopper.requested():
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                for note in conn.notifies(timeout=min(LISTEN_STEP_SECONDS, left)):
                    if note.payload == token:
                        return cls(conn, workspace)
        except BaseException:
            conn.close()
            raise
        conn.close()
        return None

    def wait(self, seconds: float, stopper: Stopper) -> bool:
        """Wait up to ``seconds`` for a commit in the followed workspace(s);
        True if one came (every notification waiting is consumed)."""
        deadline = time.monotonic() + seconds
        woken = False
        while not stopper.requested():
            if woken:  # take what else is already here (one sweep serves it all), without waiting
                for note in self.conn.notifies(timeout=0):
                    pass
                return True
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            for note in self.conn.notifies(timeout=min(LISTEN_STEP_SECONDS, left), stop_after=1):
                woken = not note.payload.startswith(TOKEN_PREFIX) and self.workspace in (None, note.payload)
        return woken

    def close(self) -> None:
        self.conn.close()


# The runner's counters as a model (zero by default), for the followers' results.
SweepCounters = create_model("SweepCounters", **{name: (int, 0) for name in counters()})


class FollowTotals(SweepCounters):
    """What ``msp automate --follow`` did until it stopped: the counters summed
    over its sweeps, how many sweeps, and whether notifications woke it (or it polled)."""

    sweeps: int = 0
    notified: bool = False


def follow(db: Database, on_report: Callable[[RunReport], None] = lambda report: None, *,
           batch_size: int = DEFAULT_BATCH_SIZE, all_workspaces: bool = False, jobs: Optional[int] = None,
           poll_seconds: float = DEFAULT_POLL_SECONDS, stop: Stop = None,
           on_notice: Callable[[str], None] = lambda message: None) -> FollowTotals:
    """Sweep now, then whenever events commit (or every ``poll_seconds``) until
    ``stop``; return the totals."""
    stopper = Stopper(stop)
    upkeep = statistics.Upkeep(grown=statistics.SWEEP_WRITES)
    totals = FollowTotals()
    wakeups: Optional[Wakeups] = None
    said_polling = False
    outage: Optional[list] = None  # [monotonic start, failed sweeps]: one line when it starts, one when it ends
    try:
        while not stopper.requested():
            try:
                if wakeups is None and not said_polling:
                    wakeups = Wakeups.open(db, None if all_workspaces else db.workspace, stopper)
                    if wakeups is None and not stopper.requested():
                        said_polling = True
                        on_notice(f"notifications do not reach this connection (a pooler in transaction mode?): "
                                  f"polling every {poll_seconds:g}s")
                totals.notified = wakeups is not None
                report = run_once(db, batch_size=batch_size, all_workspaces=all_workspaces, stop=stopper,
                                  upkeep=upkeep, jobs=jobs)
                if outage is not None:
                    on_notice(f"database reachable again after {time.monotonic() - outage[0]:.0f}s "
                              f"({outage[1]} failed sweep{'s' if outage[1] != 1 else ''}); sweeping resumed")
                    outage = None
                totals.sweeps += 1
                for key, value in report.counters().items():
                    setattr(totals, key, getattr(totals, key) + value)
                on_report(report)
                if wakeups is not None:
                    wakeups.wait(poll_seconds, stopper)
                else:
                    stopper.wait(poll_seconds)
            except (psycopg.OperationalError, psycopg.InterfaceError, DatabaseError) as exc:
                db.close()
                if wakeups is not None:
                    wakeups.close()
                    wakeups = None
                said_polling = False  # after a reconnect, try notifications again
                if outage is None:
                    outage = [time.monotonic(), 0]
                    reason = exc.message if isinstance(exc, DatabaseError) else database_error(exc, db.url).message
                    on_notice(f"sweep failed, retrying every {poll_seconds:g}s until the database answers: {reason}")
                outage[1] += 1
                stopper.wait(poll_seconds)
    finally:
        if wakeups is not None:
            wakeups.close()
    return totals
