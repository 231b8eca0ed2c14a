"""Effects never depend on where batch boundaries fall (issue 10, item 4a).

The fixtures plus a generated week (tests/events.py ``varied_week``) are swept
with batch sizes 1, 2, 3, 7 and the default, each into its own workspace; every
table the sweep derives (found in the catalog, so a table added later is
compared too) and the operator state must hold identical rows.  Compared
without the workspace, sequence numbers and msp's own write timestamps.
"""

import pytest

import events as ev
from support import FIXTURES

from msp.engine.automations import DEFAULT_BATCH_SIZE

NOT_DERIVED = {"rejected_lines", "automation_checkpoints", "ingest_checkpoints", "workspaces"}  # input, bookkeeping, registry
NOT_COMPARED = {"workspace", "seq", "close_seq", "last_seq", "created_at", "ingested_at"}  # msp's own numbering/clock
BATCH_SIZES = (1, 2, 3, 7, DEFAULT_BATCH_SIZE)


def derived_tables(conn) -> dict:
    rows = conn.execute(
        "SELECT c.table_name, array_agg(c.column_name::text ORDER BY c.ordinal_position) "
        "FROM information_schema.columns c JOIN information_schema.tables t USING (table_schema, table_name) "
        "WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE' AND c.table_name IN ("
        "  SELECT table_name FROM information_schema.columns "
        "  WHERE table_schema = current_schema() AND column_name = 'workspace') "
        "GROUP BY c.table_name").fetchall()
    return {table: [c for c in columns if c not in NOT_COMPARED] for table, columns in rows
            if table not in NOT_DERIVED}


def workspace_rows(conn, workspace: str, tables: dict) -> dict:
    out = {}
    for table, columns in sorted(tables.items()):
        cols = ", ".join(f'"{c}"' for c in columns)
        order = ", ".join(str(i) for i in range(1, len(columns) + 1))
        out[table] = conn.execute(f'SELECT {cols} FROM "{table}" WHERE workspace = %s ORDER BY {order}',
                                  (workspace,)).fetchall()
    return out


@pytest.fixture(scope="module")
def week_file(tmp_path_factory):
    return ev.write(tmp_path_factory.mktemp("week") / "varied_week.jsonl", *ev.varied_week())


def test_every_derived_row_is_the_same_whatever_the_batch_size(msp, conn, workspace, week_file):
    files = [str(FIXTURES / "history_week.jsonl"), str(FIXTURES / "trading_day.jsonl"), week_file]
    tables = derived_tables(conn)
    assert {"positions", "alerts", "journal_entries", "journal_enrichments", "coach_analyses", "coach_tasks",
            "workflow_stages", "pending_task_counts", "operator_state", "closed_trades",
            "workflow_events"} <= set(tables)
    results = {}
    for size in BATCH_SIZES:
        name = f"{workspace}_{size}"
        loaded = msp("ingest", *files, "--format", "json", workspace_name=name)
        assert loaded.exit_code == 0, loaded.stderr
        swept = msp("automate", "--batch-size", size, "--format", "json", workspace_name=name)
        assert swept.exit_code == 0, swept.stderr
        results[size] = workspace_rows(conn, name, tables)
    reference = results[DEFAULT_BATCH_SIZE]
    assert reference["coach_analyses"] and reference["journal_enrichments"] and reference["operator_state"]
    differing = {(table, size): [row for row in results[size][table] if row not in reference[table]][:3]
                 for size in BATCH_SIZES for table in tables if results[size][table] != reference[table]}
    assert not differing, "\n".join(f"{table} with --batch-size {size}: {rows}"
                                     for (table, size), rows in differing.items())


def test_a_partial_context_update_keeps_what_an_earlier_one_set_in_the_same_sweep(msp, tmp_path):
    """Two operator.context.updated in one batch: the later one carries only some
    fields; the zone the earlier one set stays (as when each is swept alone)."""
    lines = (FIXTURES / "trading_day.jsonl").read_text().splitlines()
    assert msp("ingest", "-", input=f"{lines[1]}\n{lines[39]}\n").exit_code == 0
    assert msp("automate").exit_code == 0
    state = msp("state", "show", "--format", "json").json()
    assert (state["timezone"], state["focus"], state["mode"], state["attention_score"]) == \
        ("America/New_York", "review", "active", 55.0)


def test_the_demo_leaves_the_operator_zone_set(msp):
    result = msp("demo", "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert msp("state", "show", "--format", "json").json()["timezone"] == "America/New_York"


def test_a_catch_up_is_not_cut_into_one_batch_per_analysis(msp, database_url, workspace):
    """In a catch-up, msp's own analyses are followed in their batch by the plans of
    the next one; only a journal event after an analysis ends a batch early, so
    the sweep takes the batches its size calls for (not one per analysis)."""
    from msp.engine.automations.runner import run_once
    from msp.engine.config import resolve_settings
    from msp.engine.db import Database

    files = [str(FIXTURES / "history_week.jsonl"), str(FIXTURES / "trading_day.jsonl")]
    assert msp("ingest", *files).exit_code == 0
    db = Database(resolve_settings(database_url, workspace))
    try:
        report = run_once(db, batch_size=30)
    finally:
        db.close()
    assert report.counts["auto_coach_analyses_generated"] == 19
    assert report.batches <= -(-report.counts["events_scanned"] // 30) + 2, report.batches
