-- msp today (README.md#reports): the day's loop counts, by occurred_at in [start, end).

-- name: counts
SELECT
  (SELECT count(*) FROM workflow_events WHERE workspace = %(workspace)s AND event_type = 'signal.created'
      AND occurred_at >= %(start)s AND occurred_at < %(end)s) AS signals,
  (SELECT count(*) FROM workflow_events WHERE workspace = %(workspace)s AND event_type = 'candidate.created'
      AND occurred_at >= %(start)s AND occurred_at < %(end)s) AS candidates,
  (SELECT count(*) FROM workflow_events WHERE workspace = %(workspace)s AND event_type = 'trade.plan.created'
      AND occurred_at >= %(start)s AND occurred_at < %(end)s) AS plans,
  (SELECT count(*) FROM workflow_events WHERE workspace = %(workspace)s AND event_type = 'trade.executed'
      AND occurred_at >= %(start)s AND occurred_at < %(end)s) AS executions,
  (SELECT count(*) FROM workflow_events WHERE workspace = %(workspace)s AND event_type = 'trade.closed'
      AND occurred_at >= %(start)s AND occurred_at < %(end)s) AS closed,
  (SELECT count(*) FROM workflow_events WHERE workspace = %(workspace)s AND event_type = 'coach.analysis.generated'
      AND occurred_at >= %(start)s AND occurred_at < %(end)s) AS coach_analyses,
  (SELECT count(*) FROM workflow_events WHERE workspace = %(workspace)s AND event_type = 'strategy.rule.suggested'
      AND occurred_at >= %(start)s AND occurred_at < %(end)s) AS tasks_suggested,
  (SELECT count(*) FROM workflow_events WHERE workspace = %(workspace)s AND event_type = 'strategy.rule.applied'
      AND occurred_at >= %(start)s AND occurred_at < %(end)s
      AND event #>> '{payload,decision}' = 'accepted') AS tasks_accepted,
  (SELECT count(*) FROM workflow_events WHERE workspace = %(workspace)s AND event_type = 'strategy.rule.applied'
      AND occurred_at >= %(start)s AND occurred_at < %(end)s
      AND event #>> '{payload,decision}' = 'rejected') AS tasks_rejected,
  (SELECT count(*) FROM alerts WHERE workspace = %(workspace)s
      AND occurred_at >= %(start)s AND occurred_at < %(end)s) AS auto_alerts,
  (SELECT count(*) FROM journal_entries WHERE workspace = %(workspace)s AND origin IN ('plan_draft', 'alert_draft')
      AND occurred_at >= %(start)s AND occurred_at < %(end)s) AS auto_journal_drafts,
  (SELECT count(*) FROM journal_enrichments WHERE workspace = %(workspace)s
      AND occurred_at >= %(start)s AND occurred_at < %(end)s) AS coach_journal_updates

-- name: last_insight
-- The newest coach analysis of the window (msp's own or ingested).
SELECT e.event #>> '{payload,analysis_id}' AS analysis_id, e.occurred_at,
       e.event #>> '{payload,symbol}' AS symbol,
       e.event #> '{payload,sample_size}' AS sample_size, e.event #> '{payload,win_rate}' AS win_rate,
       e.event #> '{payload,avg_win}' AS avg_win, e.event #> '{payload,avg_loss}' AS avg_loss,
       e.event #> '{payload,expectancy}' AS expectancy,
       e.event #> '{payload,recommendations}' AS recommendations
FROM workflow_events e
WHERE e.workspace = %(workspace)s AND e.event_type = 'coach.analysis.generated'
  AND e.occurred_at >= %(start)s AND e.occurred_at < %(end)s
ORDER BY e.occurred_at DESC, e.seq DESC
LIMIT 1
