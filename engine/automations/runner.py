"""The automation runner: every committed event seen exactly once (docs/ARCHITECTURE.md#exactly-once).

A sweep walks a workspace's events in seq order from its checkpoint, in
batches.  Each batch is one transaction that first takes the workspace's
event-writer lock — the same lock every event writer holds from its insert to
its commit — so no batch can commit late below the checkpoint: everything
with a smaller seq is already visible.  The batch applies every automation,
then moves the checkpoint, and commits side effects and checkpoint together;
a crash loses the whole batch and the next sweep redoes it.  Every side effect
also has a unique key, so a replay or several runners at once create each
exactly once.  Events the automations emit get seqs above the batch and are
picked up by a further pass in the same transaction while the batch has room,
else by the next batch of the same sweep.  The automations, their order within
a batch and their counters come from ``registry.py``.

Each automation names the event types it acts on (``Automation.triggers``: its
statements read only those types within the batch); a batch holding none of
them skips it.  A follower's sweep of a few new events (a candidate, then its
plan) runs two or three automations, not seven.

Poison events (docs/ARCHITECTURE.md#poison-events): when a batch's
transaction fails because the database refuses what an automation would write
(SQLSTATE class 22 data, 23 integrity or 54 program limit — never a lost
connection), the sweep bisects: it retries the batch at half the size, down to
the one event, which it sets aside in ``automation_failures``
(migrations/016_automation_failures.sql) with its reason, in a transaction that also moves the
checkpoint past it; then it goes on at full size.  Every batch (and the
set-aside) is redone on a serialization failure or deadlock
(``db.retry_conflicts``).  ``--all-workspaces`` sweeps each workspace on its
own: one that cannot be swept is reported in ``failed_workspaces`` and the
others are swept.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Optional

import psycopg

from .. import statistics
from ..db import Database, fetch_one, retry_conflicts, workspace_transaction
from ..event_store import lock_writers
from ..sql import query
from . import DEFAULT_BATCH_SIZE
from .base import Scope
from .registry import SCANNED, automations, counters

SKIP_LIST_LIMIT = 200

# SQLSTATE classes of an event the database refuses what an automation makes of it:
# 22 data exception, 23 integrity constraint violation, 54 program limit exceeded
# (an index row too large).  A lost connection (08, 57P) or a conflict (40) is never one.
POISON_SQLSTATE_CLASSES = ("22", "23", "54")


def is_poison(exc: BaseException) -> bool:
    """An error the event itself causes, which redoing the same work would meet again."""
    state = getattr(exc, "sqlstate", None) or ""
    return isinstance(exc, psycopg.Error) and state[:2] in POISON_SQLSTATE_CLASSES


def error_line(exc: BaseException) -> str:
    """The server's one-line message of an error (its first line)."""
    diag = getattr(exc, "diag", None)
    text = (getattr(diag, "message_primary", None) or str(exc)).strip()
    return text.splitlines()[0] if text else type(exc).__name__


@dataclass
class RunReport:
    counts: dict = field(default_factory=lambda: dict.fromkeys(counters(), 0))
    skipped: list = field(default_factory=list)  # {"automation", "item", "reason"}
    skipped_total: int = 0
    batches: int = 0
    workspaces: list = field(default_factory=list)
    catching_up: Optional[bool] = None  # the sweep started with a large backlog (None: not checked yet)
    emitted: int = 0  # events the automations stored
    analyzed_at: int = 0  # events scanned and emitted when a catch-up last refreshed the statistics
    set_aside: list = field(default_factory=list)  # events set aside as automation failures (dicts)
    failed_workspaces: list = field(default_factory=list)  # {"workspace", "error"}: not swept at all

    def counters(self) -> dict:
        return dict(self.counts)

    def add(self, other: "RunReport") -> None:
        for key, value in other.counts.items():
            self.counts[key] += value
        self.skipped.extend(other.skipped[: SKIP_LIST_LIMIT - len(self.skipped)])
        self.skipped_total += other.skipped_total
        self.batches += other.batches
        self.emitted += other.emitted
        self.set_aside.extend(other.set_aside)
        self.failed_workspaces.extend(other.failed_workspaces)

    def as_dict(self) -> dict:
        """The result of ``msp automate``; ``set_aside`` and ``failed_workspaces`` only when there are any."""
        out = {**self.counts, "skipped": self.skipped, "skipped_total": self.skipped_total}
        if self.set_aside:
            out["set_aside"] = self.set_aside
        if self.failed_workspaces:
            out["failed_workspaces"] = self.failed_workspaces
        return out


def _apply(conn: psycopg.Connection, scope: Scope, scanned: int, types: list, report: RunReport) -> None:
    """Apply every automation with something to act on among the batch's event ``types``
    (a small batch, as a follower sweeps, needs two or three of the seven)."""
    report.counts[SCANNED] += scanned
    present = set(types or ())
    for automation in automations():
        if present.isdisjoint(automation.triggers):
            continue
        try:
            outcome = automation.apply(conn, scope)
        except psycopg.Error as exc:
            exc.msp_automation = automation.name  # for the record of a poison event
            raise
        if automation.counter:
            report.counts[automation.counter] += outcome.created
        report.emitted += outcome.emitted
        for item, reason in outcome.skipped:
            report.skipped_total += 1
            if len(report.skipped) < SKIP_LIST_LIMIT:
                report.skipped.append({"automation": automation.name, "item": item, "reason": reason})


def _lock_and_read_checkpoint(conn: psycopg.Connection, workspace: str) -> int:
    """Inside a batch's transaction: take the workspace's writer lock (the same
    lock order as every event writer), then its checkpoint row (FOR UPDATE, so
    two sweeps of a workspace take turns batch by batch); the checkpoint."""
    lock_writers(conn, workspace)
    params = {"workspace": workspace}
    conn.execute(query("runner.ensure_checkpoint"), params)
    return conn.execute(query("runner.read_checkpoint"), params).fetchone()[0]


def _batch_end(conn: psycopg.Connection, workspace: str, lo: int, limit: int, batch_size: int) -> tuple:
    """(hi, events, event types, drained, first) of the next batch in (lo, limit]; hi is None when
    there is none; drained: nothing visible lies beyond it; first: the seq of its first event, so
    the automations read it as (first - 1, hi] (engine/sql/runner.sql batch_end says why)."""
    return conn.execute(query("runner.batch_end"),
                        {"workspace": workspace, "lo": lo, "limit": limit, "size": batch_size}).fetchone()


def _sweep_batch(conn: psycopg.Connection, workspace: str, batch_size: int, report: RunReport,
                 started: Optional[dict] = None) -> bool:
    """Process the next batch after the checkpoint; False when there is nothing more to do
    (nothing was there, or the batch took every event visible).

    The events the automations emit are processed in the same transaction, pass
    after pass, while the batch holds fewer than ``batch_size`` events: a plan
    and its alert commit together, and a follower's sweep of a few new events
    is one transaction.  The batch is redone on a serialization failure or a
    deadlock; its counters reach ``report`` only once it has committed.
    ``started["lo"]`` is the checkpoint the (last) attempt started from."""
    started = {} if started is None else started

    def attempt() -> tuple:
        batch = RunReport(catching_up=report.catching_up, analyzed_at=report.analyzed_at)
        with workspace_transaction(conn, workspace):
            lo = hi = started["lo"] = _lock_and_read_checkpoint(conn, workspace)
            total = 0
            while total < batch_size:
                end, scanned, types, drained, first = _batch_end(conn, workspace, hi, 2**62, batch_size - total)
                if end is None:
                    drained = True
                    break
                if not total:
                    _refresh_statistics_if_due(conn, workspace, lo, batch,
                                               done=report.counts[SCANNED] + report.emitted)
                emitted = batch.emitted
                _apply(conn, Scope(workspace, first - 1, end), scanned, types, batch)
                hi, total = end, total + scanned
                if batch.emitted == emitted:
                    break  # nothing of ours to follow up; whatever others commit waits for the next batch
            if not total:
                return batch, False
            conn.execute(query("runner.save_checkpoint"), {"workspace": workspace, "hi": hi})
        batch.batches += 1
        return batch, not drained

    batch, more = retry_conflicts(attempt)
    report.add(batch)
    report.catching_up, report.analyzed_at = batch.catching_up, batch.analyzed_at
    return more


def _set_aside(conn: psycopg.Connection, workspace: str, lo: int, exc: BaseException, report: RunReport, *,
               move_checkpoint: bool = True) -> Optional[int]:
    """Record the event right after checkpoint ``lo`` — the one a batch of one
    could not apply — as an automation failure, and move the checkpoint past it,
    in one transaction; its seq.  If another sweep moved the checkpoint
    meanwhile, nothing is set aside (the next batch tries again from where that
    one left it).  A replay (``move_checkpoint`` False: ``lo`` is its own
    cursor, below the checkpoint) records the event and leaves the checkpoint."""
    params = {"workspace": workspace, "lo": lo, "automation": getattr(exc, "msp_automation", None),
              "sqlstate": getattr(exc, "sqlstate", None), "message": error_line(exc)}

    def attempt() -> Optional[dict]:
        with workspace_transaction(conn, workspace):
            if _lock_and_read_checkpoint(conn, workspace) != lo and move_checkpoint:
                return None
            row = fetch_one(conn, query("runner.set_aside"), params)
            if row is not None and move_checkpoint:
                conn.execute(query("runner.save_checkpoint"), {"workspace": workspace, "hi": row["seq"]})
            return row

    row = retry_conflicts(attempt)
    if row is None:
        return None
    report.set_aside.append({"failure_id": row["failure_id"], "workspace": workspace,
                             "event_id": row["event_id"], "event_type": row["event_type"],
                             "automation": row["automation"], "reason": row["message"]})
    return row["seq"]


def _sweep(conn: psycopg.Connection, workspace: str, batch_size: int, report: RunReport,
           stop: Callable[[], bool]) -> None:
    """Batches until the events run out, isolating poison events by bisection:
    a batch refused for its data is retried at half the size (its first half,
    then the rest), down to the one event, which is set aside; then full size again."""
    size = batch_size
    while not stop():
        started: dict = {}
        try:
            if not _sweep_batch(conn, workspace, size, report, started):
                return
        except psycopg.Error as exc:
            if not is_poison(exc) or "lo" not in started:
                raise
            if size > 1:
                size = max(1, size // 2)
                continue
            _set_aside(conn, workspace, started["lo"], exc, report)
            size = batch_size


def _refresh_statistics_if_due(conn: psycopg.Connection, workspace: str, lo: int, report: RunReport,
                               done: int) -> None:
    """A catch-up sweep (a backlog of BULK_ROWS events or more) keeps the
    planner's statistics current as it goes: before each batch, the tables the
    automations look rows up in are analyzed if they doubled since their last
    ANALYZE, so tables filling by thousands of rows keep their index look-ups;
    at the end of the sweep every table it filled is (for the reports).
    Doubling alone misses a workspace that is new to a shared table: a desk's
    new trader catching up a year beside others' millions of rows never doubles
    the table, and the planner, sure that workspace holds a row or two, walked
    every row of it per look-up (a 150,000-event catch-up beside another
    workspace's 200,000 ran one batch for over ten minutes).  So a table is also
    analyzed once the sweep has added a twentieth of its rows since the last
    refresh (``done``: the events the sweep has scanned and emitted so far, which
    stand for the rows it wrote)."""
    if report.catching_up is None:  # the sweep's first batch (a replay before it does not count)
        report.catching_up = conn.execute(query("runner.backlog_at_least"),
                                          {"workspace": workspace, "lo": lo, "n": statistics.BULK_ROWS}).fetchone()[0]
    if report.catching_up:
        if statistics.refresh(conn, statistics.LOOKUP_TABLES, added=done - report.analyzed_at):
            report.analyzed_at = done


def _replay(conn: psycopg.Connection, workspace: str, since: str, batch_size: int, report: RunReport,
            stop: Callable[[], bool]) -> None:
    """Re-walk events up to the checkpoint that occurred at or after ``since``;
    unique keys make it create only what is missing.  The checkpoint stays.  A
    poison event on the way (one set aside before, say) is bisected down to as in
    a sweep, recorded again, and passed over."""
    lo, size = 0, batch_size
    while not stop():
        def attempt() -> tuple:
            batch = RunReport()
            with workspace_transaction(conn, workspace):
                limit = _lock_and_read_checkpoint(conn, workspace)
                hi, scanned, types, _drained, first = _batch_end(conn, workspace, lo, limit, size)
                if hi is None:
                    return batch, None
                _apply(conn, Scope(workspace, first - 1, hi, since), scanned, types, batch)
            batch.batches += 1
            return batch, hi

        try:
            batch, hi = retry_conflicts(attempt)
        except psycopg.Error as exc:
            if not is_poison(exc):
                raise
            if size > 1:
                size = max(1, size // 2)
                continue
            passed = _set_aside(conn, workspace, lo, exc, report, move_checkpoint=False)
            if passed is None:
                raise
            lo, size = passed, batch_size
            continue
        if hi is None:
            return
        report.add(batch)
        lo = hi


def sweep_workspace(conn: psycopg.Connection, workspace: str, *, batch_size: int = DEFAULT_BATCH_SIZE,
                    since: Optional[str] = None, stop: Callable[[], bool] = lambda: False) -> RunReport:
    report = RunReport(workspaces=[workspace])
    if since is not None:
        _replay(conn, workspace, since, batch_size, report, stop)
    _sweep(conn, workspace, batch_size, report, stop)
    if report.catching_up:  # what the last batches added, for the reports and the next sweep
        with workspace_transaction(conn, workspace):
            statistics.refresh(conn, statistics.SWEEP_TABLES, added=report.counts[SCANNED] + report.emitted)
            # the events too when they doubled, or when the sweep's own (plans, analyses,
            # tasks: types the ingest's statistics never saw) add a twentieth to them
            statistics.refresh(conn, (statistics.WORKFLOW_EVENTS,), added=report.emitted)
    return report


def workspaces_with_events(conn: psycopg.Connection, *, pending_only: bool = False) -> list[str]:
    """Every registered workspace, or (``pending_only``) those with events after
    their checkpoint — one indexed statement either way, never a probe per workspace."""
    statement = "runner.pending_workspaces" if pending_only else "runner.workspaces"
    return [row[0] for row in conn.execute(query(statement)).fetchall()]


def run_once(db: Database, *, batch_size: int = DEFAULT_BATCH_SIZE, since: Optional[str] = None,
             all_workspaces: bool = False, stop: Callable[[], bool] = lambda: False,
             upkeep: Optional[statistics.Upkeep] = None, jobs: Optional[int] = None) -> RunReport:
    """One sweep (for cron): process every new event, then return the counters.
    ``all_workspaces``: every pending workspace, each on its own (one that fails
    never starves the others), over up to ``jobs`` connections (parallel.py).
    Then the statistics of the tables it wrote (engine/statistics.py): a look at
    the end, or ``upkeep``'s, for a follower that sweeps again and again."""
    from .parallel import DEFAULT_JOBS, check_jobs, sweep_workspaces

    check_jobs(jobs, all_workspaces)
    conn = db.conn
    names = workspaces_with_events(conn, pending_only=since is None) if all_workspaces else [db.workspace]
    report = RunReport(workspaces=names)
    if all_workspaces:
        for swept in sweep_workspaces(db, names, jobs=DEFAULT_JOBS if jobs is None else jobs, batch_size=batch_size,
                                      since=since, stop=stop):
            report.add(swept)
    elif not stop():
        report.add(sweep_workspace(conn, db.workspace, batch_size=batch_size, since=since, stop=stop))
    if report.counts[SCANNED]:  # the tables it wrote to, if they doubled
        if upkeep is not None:
            upkeep.wrote(conn, db.workspace)
        else:
            statistics.refresh_after_writes(conn, db.workspace, grown=statistics.SWEEP_WRITES)
    return report


def sweep_isolated(db: Database, workspace: str, *, batch_size: int = DEFAULT_BATCH_SIZE,
                   since: Optional[str] = None, stop: Callable[[], bool] = lambda: False) -> RunReport:
    """Sweep one workspace of ``--all-workspaces``: an error the server reports for
    it (not a lost connection, which ends the whole sweep) is recorded in
    ``failed_workspaces`` and the sweep goes on with the next workspace."""
    conn = db.conn
    try:
        return sweep_workspace(conn, workspace, batch_size=batch_size, since=since, stop=stop)
    except psycopg.Error as exc:
        if conn.closed or conn.broken or not getattr(exc, "sqlstate", None) \
                or exc.sqlstate[:2] in ("08", "57"):
            raise
        state = f" (SQLSTATE {exc.sqlstate})"
        return RunReport(workspaces=[workspace],
                         failed_workspaces=[{"workspace": workspace, "error": error_line(exc) + state}])
