-- Automation 1: a trade.plan.created event for each passing candidate.
-- Parameters: workspace, lo, hi (the batch's seq range), since (replay floor or NULL).

-- name: plan_events
-- The plan events to emit: one per candidate_id, unless a plan for that
-- candidate already exists (linked by links.candidate_id — the generated
-- column plan_candidate_id — or a child plan).
SELECT msp_event(
           kind => 'plan', key => c.candidate_id, event_type => 'trade.plan.created',
           occurred_at => c.event ->> 'occurred_at', context => c.event -> 'context',
           entity_type => 'trade_plan', entity_id => 'plan_' || c.candidate_id, symbol => c.dp ->> 'symbol',
           workflow_id => c.workflow_id, parent_event_id => c.event_id,
           trace_id => c.event #>> '{correlation,trace_id}',
           payload => jsonb_build_object(
               'plan_id', 'plan_' || c.candidate_id,
               'symbol', c.dp ->> 'symbol',
               'direction', CASE c.dp ->> 'bias' WHEN 'bullish' THEN 'long' WHEN 'bearish' THEN 'short'
                                 ELSE 'neutral' END,
               'timeframe', coalesce(c.event #>> '{payload,timeframe}', c.dp #>> '{timeframeBias,0}'),
               'setup', jsonb_build_object('source', c.dp ->> 'signalSource',
                                           'signal_type', c.event #>> '{payload,signal_type}',
                                           'confidence', c.event #> '{payload,final_confidence}',
                                           'decision_packet_id', c.dp ->> 'id'),
               'entry', jsonb_build_object('zone', c.dp -> 'entryZone'),
               'risk', jsonb_build_object('invalidation', c.dp -> 'invalidation', 'targets', c.dp -> 'targets',
                                          'risk_score', c.dp -> 'riskScore',
                                          'volatility_regime', c.dp -> 'volatilityRegime'),
               'links', jsonb_build_object('candidate_id', c.candidate_id,
                                           'signal_id', c.event #>> '{payload,signal_id}',
                                           'decision_packet_id', c.dp ->> 'id'))) AS event,
       NULL::bigint AS source_line
FROM (
    SELECT DISTINCT ON (e.event #>> '{payload,candidate_id}')
           e.event, e.event_id, e.workflow_id, e.seq,
           e.event #>> '{payload,candidate_id}' AS candidate_id,
           e.event #> '{payload,decision_packet}' AS dp
    FROM workflow_events e
    WHERE e.workspace = %(workspace)s AND e.seq > %(lo)s AND e.seq <= %(hi)s
      AND e.event_type = 'candidate.created'
      AND (%(since)s::timestamptz IS NULL OR e.occurred_at >= %(since)s::timestamptz)
      AND e.event #>> '{payload,result}' = 'pass'
    ORDER BY e.event #>> '{payload,candidate_id}', e.seq
) c
-- (OFFSET 0 keeps each NOT EXISTS a probe of its index per candidate: as an
-- anti-join, a planner whose statistics predate the sweep's own plans chose
-- to rescan every plan of the workspace once per candidate — 1 s for 114.)
WHERE NOT EXISTS (
        SELECT 1 FROM workflow_events p
        WHERE p.workspace = %(workspace)s AND p.plan_candidate_id = c.candidate_id
        OFFSET 0)
  AND NOT EXISTS (
        SELECT 1 FROM workflow_events p
        WHERE p.workspace = %(workspace)s AND p.parent_event_id = c.event_id
          AND p.event_type = 'trade.plan.created'
        OFFSET 0)
ORDER BY c.seq

-- name: skipped
-- Passing candidates of the batch that already had a plan from elsewhere.
-- (OFFSET 0 keeps candidate_id a column: under row-level security a jsonb
-- expression may not be an index condition, a plain column may.)
SELECT c.candidate_id AS item,
       'a plan for this candidate already exists' AS reason
FROM (
    SELECT e.event_id, e.seq, e.event #>> '{payload,candidate_id}' AS candidate_id
    FROM workflow_events e
    WHERE e.workspace = %(workspace)s AND e.seq > %(lo)s AND e.seq <= %(hi)s
      AND e.event_type = 'candidate.created'
      AND e.event #>> '{payload,result}' = 'pass'
    OFFSET 0
) c
WHERE EXISTS (SELECT 1 FROM workflow_events p
              WHERE p.workspace = %(workspace)s AND p.plan_candidate_id = c.candidate_id
                AND p.event_id <> 'msp.plan.' || md5(c.candidate_id))
   OR EXISTS (SELECT 1 FROM workflow_events p
              WHERE p.workspace = %(workspace)s AND p.parent_event_id = c.event_id
                AND p.event_type = 'trade.plan.created'
                AND p.event_id <> 'msp.plan.' || md5(c.candidate_id))
ORDER BY c.seq
