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
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Optional

import psycopg

from .. import statistics
from ..db import Database, workspace_transaction
from ..event_store import lock_writers
from ..sql import query
from . import DEFAULT_BATCH_SIZE
from .base import Scope
from .registry import SCANNED, automations, counters

SKIP_LIST_LIMIT = 200


@dataclass
class RunReport:
    counts: dict = field(default_factory=lambda: dict.fromkeys(counters(), 0))
    skipped: list = field(default_factory=list)  # {"automation", "item", "reason"}
    skipped_total: int = 0
    batches: int = 0
    workspaces: list = field(default_factory=list)
    catching_up: Optional[bool] = None  # the sweep started with a large backlog (None: not checked yet)
    emitted: int = 0  # events the automations stored

    def counters(self) -> dict:
        return dict(self.counts)

    def add(self, other: "RunReport") -> None:
        for key, value in other.counts.items():
            self.counts[key] += value
        self.skipped.extend(other.skipped[: SKIP_LIST_LIMIT - len(self.skipped)])
        self.skipped_total += other.skipped_total
        self.batches += other.batches
        self.emitted += other.emitted

    def as_dict(self) -> dict:
        return {**self.counts, "skipped": self.skipped, "skipped_total": self.skipped_total}


def _apply(conn: psycopg.Connection, scope: Scope, scanned: int, types: list, report: RunReport) -> None:
    """Apply every automation with something to act on among the batch's event ``types``
    (a small batch, as a follower sweeps, needs two or three of the seven)."""
    report.counts[SCANNED] += scanned
    present = set(types or ())
    for automation in automations():
        if present.isdisjoint(automation.triggers):
            continue
        outcome = automation.apply(conn, scope)
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
    """(hi, events, event types) of the next batch in (lo, limit]; hi is None when there is none."""
    return conn.execute(query("runner.batch_end"),
                        {"workspace": workspace, "lo": lo, "limit": limit, "size": batch_size}).fetchone()


def _sweep_batch(conn: psycopg.Connection, workspace: str, batch_size: int, report: RunReport) -> bool:
    """Process the next batch after the checkpoint; False when there was nothing to do.

    The events the automations emit are processed in the same transaction, pass
    after pass, while the batch holds fewer than ``batch_size`` events: a plan
    and its alert commit together, and a follower's sweep of a few new events
    is one transaction."""
    with workspace_transaction(conn, workspace):
        lo = hi = _lock_and_read_checkpoint(conn, workspace)
        total = 0
        while total < batch_size:
            end, scanned, types = _batch_end(conn, workspace, hi, 2**62, batch_size - total)
            if end is None:
                break
            if not total:
                _refresh_statistics_if_due(conn, workspace, lo, report)
            emitted = report.emitted
            _apply(conn, Scope(workspace, hi, end), scanned, types, report)
            hi, total = end, total + scanned
            if report.emitted == emitted:
                break  # nothing of ours to follow up; whatever others commit waits for the next batch
        if not total:
            return False
        conn.execute(query("runner.save_checkpoint"), {"workspace": workspace, "hi": hi})
    report.batches += 1
    return True


def _refresh_statistics_if_due(conn: psycopg.Connection, workspace: str, lo: int, report: RunReport) -> None:
    """A catch-up sweep (a backlog of BULK_ROWS events or more) keeps the
    planner's statistics current as it goes: before each batch, the tables the
    automations look rows up in are analyzed if they doubled since their last
    ANALYZE, so tables filling by thousands of rows keep their index look-ups;
    at the end of the sweep every table it filled is (for the reports)."""
    if report.catching_up is None:  # the sweep's first batch (a replay before it does not count)
        report.catching_up = conn.execute(query("runner.backlog_at_least"),
                                          {"workspace": workspace, "lo": lo, "n": statistics.BULK_ROWS}).fetchone()[0]
    if report.catching_up:
        statistics.refresh(conn, statistics.LOOKUP_TABLES)


def _replay(conn: psycopg.Connection, workspace: str, since: str, batch_size: int, report: RunReport,
            stop: Callable[[], bool]) -> None:
    """Re-walk events up to the checkpoint that occurred at or after ``since``;
    unique keys make it create only what is missing.  The checkpoint stays."""
    lo = 0
    while not stop():
        with workspace_transaction(conn, workspace):
            limit = _lock_and_read_checkpoint(conn, workspace)
            hi, scanned, types = _batch_end(conn, workspace, lo, limit, batch_size)
            if hi is None:
                return
            _apply(conn, Scope(workspace, lo, hi, since), scanned, types, report)
        report.batches += 1
        lo = hi


def sweep_workspace(conn: psycopg.Connection, workspace: str, *, batch_size: int = DEFAULT_BATCH_SIZE,
                    since: Optional[str] = None, stop: Callable[[], bool] = lambda: False) -> RunReport:
    report = RunReport(workspaces=[workspace])
    if since is not None:
        _replay(conn, workspace, since, batch_size, report, stop)
    while not stop() and _sweep_batch(conn, workspace, batch_size, report):
        pass
    if report.catching_up:  # what the last batches added, for the reports and the next sweep
        with workspace_transaction(conn, workspace):
            statistics.refresh(conn, statistics.SWEEP_TABLES)
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
             all_workspaces: bool = False, stop: Callable[[], bool] = lambda: False) -> RunReport:
    """One sweep (for cron): process every new event, then return the counters."""
    conn = db.conn
    names = workspaces_with_events(conn, pending_only=since is None) if all_workspaces else [db.workspace]
    report = RunReport(workspaces=names)
    for name in names:
        if stop():
            break
        report.add(sweep_workspace(conn, name, batch_size=batch_size, since=since, stop=stop))
    return report
