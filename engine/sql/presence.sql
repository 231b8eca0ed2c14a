-- msp presence (README.md#reports, docs/ARCHITECTURE.md#reports).

-- name: signal_bias
SELECT count(*) FILTER (WHERE event #>> '{payload,direction}' = 'long') AS bullish,
       count(*) FILTER (WHERE event #>> '{payload,direction}' = 'short') AS bearish,
       count(*) AS total
FROM workflow_events
WHERE workspace = %(workspace)s AND event_type = 'signal.created'
  AND occurred_at > %(now)s - interval '8 hours' AND occurred_at <= %(now)s

-- name: median_risk
SELECT percentile_cont(0.5) WITHIN GROUP (
           ORDER BY (event #>> '{payload,decision_packet,riskScore}')::numeric) AS median
FROM workflow_events
WHERE workspace = %(workspace)s AND event_type = 'candidate.created'
  AND occurred_at > %(now)s - interval '24 hours' AND occurred_at <= %(now)s

-- name: state
SELECT attention_score, cognitive_load FROM operator_state WHERE workspace = %(workspace)s

-- name: pending_tasks
-- Kept by triggers on coach_tasks (migrations/011_pending_task_counts.sql).
SELECT coalesce((SELECT pending FROM pending_task_counts WHERE workspace = %(workspace)s), 0)

-- name: top_attention
SELECT symbol, max(confidence) AS confidence, count(*) AS hits, max(occurred_at) AS last_seen,
       (array_agg(workflow_id ORDER BY occurred_at DESC))[1] AS workflow_id
FROM (
    SELECT coalesce(event #>> '{payload,decision_packet,symbol}', symbol) AS symbol,
           (event #>> '{payload,final_confidence}')::numeric AS confidence, occurred_at, workflow_id
    FROM workflow_events
    WHERE workspace = %(workspace)s AND event_type = 'candidate.created'
      AND occurred_at > %(now)s - interval '24 hours' AND occurred_at <= %(now)s
) c
WHERE symbol IS NOT NULL
GROUP BY symbol
ORDER BY confidence DESC, hits DESC, last_seen DESC, symbol
LIMIT %(top)s
