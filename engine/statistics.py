"""Planner statistics after bulk changes.

msp's statements are index-backed only while PostgreSQL knows how big its
tables are.  Autovacuum refreshes that eventually — or never, where it is off
or lagging — and a year of history imported in one go, planned with the
statistics of an empty table, turns millisecond look-ups into scans.  So the
writers refresh the statistics themselves, the way pg_restore users are told
to: a catch-up sweep as it goes, and every ingest and every sweep once it has
committed (``refresh_after_writes``: one cheap look at the catalog, an
ANALYZE only of a table that doubled or grew by a twentieth).  The small
writes add up: a file fed by cron every minute, or followed with
``--follow``, grows a workspace from nothing to a year, and with autovacuum
off a follower's sweep once slowed from 60 ms to seconds within five minutes
as its tables outgrew the statistics of their first rows.
"""

from __future__ import annotations

import time

import psycopg

from .db import as_login_role, workspace_transaction
from .sql import compose, query

BULK_ROWS = 10_000  # a sweep's backlog from which it is a catch-up, refreshing statistics as it goes

# The events' columns the planner can use: not the jsonb document itself, whose
# statistics no query uses and whose sampling costs most of the ANALYZE.
WORKFLOW_EVENTS = ("workflow_events (workspace, seq, event_id, event_type, occurred_at, workflow_id, parent_event_id, "
                   "actor_type, symbol, plan_candidate_id)")
EVENT_TABLES = (WORKFLOW_EVENTS, "workflow_stages")  # what an ingest fills (the stages by trigger)
# (an ingest counts events, not workflows: only the events' count fits the twentieth rule)
# Likewise the sweep's tables leave out their free text and documents (notes,
# tags, recommendations, task details, enrichment summaries): no statement
# filters, joins or sorts on them, and they were two thirds of each ANALYZE.
JOURNAL_ENTRIES = ("journal_entries (workspace, journal_id, origin, status, symbol, side, workflow_id, plan_id, "
                   "alert_id, decision_packet_id, source, outcome, realized_pnl, closed_at, source_event_id, "
                   "occurred_at, updated_at)")
COACH_ANALYSES = "coach_analyses (workspace, analysis_id, close_event_id, trade_id, symbol, workflow_id, occurred_at)"
COACH_TASKS = ("coach_tasks (workspace, task_id, analysis_id, position, priority, action, symbol, workflow_id, "
               "status, occurred_at, decided_at, priority_rank)")
JOURNAL_ENRICHMENTS = "journal_enrichments (workspace, journal_id, analysis_id, occurred_at)"
# The tables the automations look rows up in (the rest they only insert into by unique key) …
LOOKUP_TABLES = (WORKFLOW_EVENTS, "closed_trades", "positions", JOURNAL_ENTRIES)
# … and every table a sweep fills besides the events, for the reports that read them.
SWEEP_TABLES = ("closed_trades", "positions", JOURNAL_ENTRIES, "alerts", COACH_ANALYSES, COACH_TASKS,
                JOURNAL_ENRICHMENTS, "workflow_stages")
SWEEP_WRITES = (WORKFLOW_EVENTS,) + SWEEP_TABLES  # its own events too


# A table's statistics are stale (``statistics.stale``) once it has doubled
# since its last ANALYZE, or when the writer asking added at least a twentieth
# of the rows it had then (a new workspace's 500,000 events on six million: the
# planner must learn that workspace exists).  The planner scales row counts
# with a table's size by itself, but its column statistics (the workspaces, the
# values of event_type, the range of seq) are those of the table it last
# sampled.  Doubling keeps the total cost of a growing table's ANALYZEs under
# twice one ANALYZE of its final size; ten thousand events added to millions
# cost none.


def _name(table: str) -> str:
    return table.split(" ", 1)[0]


def refresh(conn: psycopg.Connection, tables: tuple[str, ...], added: int = 0) -> frozenset:
    """ANALYZE those of ``tables`` whose statistics are stale (inside the
    caller's transaction, as the login role: only a table's owner may);
    ``added``: the rows the caller wrote to them since it last asked.  The
    names of the tables analyzed (none when the login role may not)."""
    stale = {row[0] for row in conn.execute(query("statistics.stale"),
                                            {"tables": [_name(t) for t in tables], "added": added}).fetchall()}
    if not stale:  # the usual answer before each batch of a catch-up: no savepoint or role switch for it
        return frozenset()
    try:
        with as_login_role(conn):
            for table in tables:
                if _name(table) in stale:
                    conn.execute(compose("statistics.analyze", table=table))  # the constants above, never input
        return frozenset(stale)
    except psycopg.errors.InsufficientPrivilege:
        return frozenset()


def refresh_after_writes(conn: psycopg.Connection, workspace: str, *, counted: tuple[str, ...] = (),
                         added: int = 0, grown: tuple[str, ...] = ()) -> frozenset:
    """``refresh``, in a transaction of its own, for a writer that has committed:
    ``counted``, the tables it added ``added`` rows to, and ``grown``, the tables
    it wrote without a count that fits them (refreshed once they doubled)."""
    grown = tuple(t for t in grown if t not in counted)
    with workspace_transaction(conn, workspace):
        analyzed = refresh(conn, counted, added=added) if counted else frozenset()
        return analyzed | refresh(conn, grown) if grown else analyzed


class Upkeep:
    """The statistics of a follower (``--follow``), which commits several times a
    second: ``refresh_after_writes`` at most every ``every_seconds``, with the rows
    added to the ``counted`` tables summed since their last refresh."""

    def __init__(self, counted: tuple[str, ...] = (), grown: tuple[str, ...] = (), every_seconds: float = 1.0):
        self.counted, self.grown = counted, grown
        self.every_seconds = every_seconds
        self.added = 0
        self._last = time.monotonic()

    def wrote(self, conn: psycopg.Connection, workspace: str, rows: int = 0) -> frozenset:
        """Count ``rows`` just committed to the counted tables; refresh what went
        stale if it is time to look."""
        self.added += rows
        now = time.monotonic()
        if now - self._last < self.every_seconds:
            return frozenset()
        self._last = now
        analyzed = refresh_after_writes(conn, workspace, counted=self.counted, added=self.added, grown=self.grown)
        if analyzed & {_name(t) for t in self.counted}:
            self.added = 0
        return analyzed
