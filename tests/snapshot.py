"""A workspace's derived state as comparable data (ids and values, no wall-clock times)."""

SNAPSHOT_QUERIES = {
    "events": "SELECT event_id, event_type, occurred_at, workflow_id, parent_event_id, event FROM workflow_events "
              "WHERE workspace = %s ORDER BY event_id",
    "alerts": "SELECT alert_id, plan_id, symbol, condition, level, status, occurred_at FROM alerts "
              "WHERE workspace = %s ORDER BY alert_id",
    "journal": "SELECT journal_id, origin, status, symbol, side, plan_id, tags, notes, outcome, realized_pnl, "
               "occurred_at FROM journal_entries WHERE workspace = %s ORDER BY journal_id",
    "analyses": "SELECT analysis_id, close_event_id, sample_size, win_rate, avg_win, avg_loss, expectancy, "
                "recommendations, occurred_at FROM coach_analyses WHERE workspace = %s ORDER BY analysis_id",
    "tasks": "SELECT task_id, position, priority, action, detail, status, occurred_at FROM coach_tasks "
             "WHERE workspace = %s ORDER BY task_id",
    "enrichments": "SELECT journal_id, analysis_id, summary, occurred_at FROM journal_enrichments "
                   "WHERE workspace = %s ORDER BY analysis_id",
    "positions": "SELECT trade_id, status, last_price, unrealized_pnl, realized_pnl, closed_at FROM positions "
                 "WHERE workspace = %s ORDER BY trade_id",
}


def snapshot(conn, workspace, *, skip_events_from_files=False):
    data = {}
    for name, sql in SNAPSHOT_QUERIES.items():
        data[name] = conn.execute(sql, (workspace,)).fetchall()
    return data


def counts(conn, workspace):
    return {name: len(rows) for name, rows in snapshot(conn, workspace).items()}
