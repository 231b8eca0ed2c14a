"""Planner statistics after bulk changes.

msp's statements are index-backed only while PostgreSQL knows how big its
tables are.  Autovacuum refreshes that eventually — or never, where it is off
or lagging — and a year of history imported in one go, planned with the
statistics of an empty table, turns millisecond look-ups into scans.  So the
writers that change many rows at once (a large ingest, a catch-up sweep)
refresh the statistics themselves, the way pg_restore users are told to.
"""

from __future__ import annotations

import psycopg

from .db import as_login_role

BULK_ROWS = 10_000  # changes after which a writer refreshes the statistics itself

# The events' columns the planner can use: not the jsonb document itself, whose
# statistics no query uses and whose sampling costs most of the ANALYZE.
WORKFLOW_EVENTS = ("workflow_events (workspace, seq, event_id, event_type, occurred_at, workflow_id, parent_event_id, "
                   "actor_type, symbol, plan_candidate_id)")
EVENT_TABLES = (WORKFLOW_EVENTS,)
AUTOMATION_TABLES = (WORKFLOW_EVENTS, "closed_trades", "positions", "alerts", "journal_entries",
                     "coach_analyses", "coach_tasks", "journal_enrichments")


def refresh(conn: psycopg.Connection, tables: tuple[str, ...]) -> bool:
    """ANALYZE ``tables`` (inside the caller's transaction, as the login role:
    only a table's owner may).  False when the login role may not."""
    try:
        with as_login_role(conn):
            for table in tables:
                conn.execute(f"ANALYZE {table}")  # names from the constants above, never from input
        return True
    except psycopg.errors.InsufficientPrivilege:
        return False
