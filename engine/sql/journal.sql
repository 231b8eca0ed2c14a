-- Journal entries (docs/ARCHITECTURE.md#the-automations).

-- name: list
SELECT journal_id, origin, status, symbol, side, workflow_id, plan_id, outcome, realized_pnl, tags,
       occurred_at, updated_at
FROM journal_entries
WHERE workspace = %(workspace)s AND (%(status)s::text IS NULL OR status = %(status)s)
ORDER BY occurred_at DESC, journal_id
LIMIT %(limit)s

-- name: get
SELECT journal_id, origin, status, symbol, side, workflow_id, plan_id, alert_id, decision_packet_id, source,
       direction, risk_score, strategy, entry_price, exit_price, outcome, realized_pnl, closed_at, tags, notes,
       source_event_id, occurred_at, updated_at, created_at
FROM journal_entries WHERE workspace = %(workspace)s AND journal_id = %(journal_id)s

-- name: enrichments
SELECT analysis_id, summary, occurred_at FROM journal_enrichments
WHERE workspace = %(workspace)s AND journal_id = %(journal_id)s
ORDER BY occurred_at, analysis_id
