-- Automation 1: a trade.plan.created event for each passing candidate.
-- Parameters: workspace, lo, hi (the batch's seq range), since (replay floor or NULL).

-- name: candidates
-- Every passing candidate of the batch, classified once (plan_events and
-- skipped both read this): a plan from elsewhere for it (linked by
-- links.candidate_id, the generated column plan_candidate_id, or a child plan
-- of the candidate event) makes it skipped, with the reason; msp's own plan
-- for it (a re-run) makes it done; otherwise it gets a plan.
-- (OFFSET 0 keeps candidate_id and msp's plan id plain columns, and each
-- EXISTS a probe of its index per candidate.  Under row-level security an
-- expression with a function that is not leakproof (#>>, md5) may not be an
-- index condition: md5 there made the look-up of msp's own plan a scan of
-- the events per candidate.  As an anti-join, a planner whose statistics
-- predate the sweep's own plans rescanned every plan once per candidate:
-- 1 s for 114.)
SELECT c.*,
       CASE WHEN EXISTS (SELECT 1 FROM workflow_events p
                         WHERE p.workspace = %(workspace)s AND p.plan_candidate_id = c.candidate_id
                           AND p.event_id <> c.own_plan_event_id
                         OFFSET 0)
              OR EXISTS (SELECT 1 FROM workflow_events p
                         WHERE p.workspace = %(workspace)s AND p.parent_event_id = c.event_id
                           AND p.event_type = 'trade.plan.created'
                           AND p.event_id <> c.own_plan_event_id
                         OFFSET 0)
            THEN 'a plan for this candidate already exists' END AS skip_reason,
       EXISTS (SELECT 1 FROM workflow_events p
               WHERE p.workspace = %(workspace)s AND p.event_id = c.own_plan_event_id
               OFFSET 0) AS done
FROM (
    SELECT e.event, e.event_id, e.workflow_id, e.seq,
           e.event #>> '{payload,candidate_id}' AS candidate_id,
           e.event #> '{payload,decision_packet}' AS dp,
           msp_event_id('plan', e.event #>> '{payload,candidate_id}') AS own_plan_event_id
    FROM workflow_events e
    WHERE {in_batch}
      AND e.event_type = 'candidate.created'
      AND e.event #>> '{payload,result}' = 'pass'
    OFFSET 0
) c

-- name: plan_events
-- The plan events to emit: one per candidate_id, for the candidates that get one.
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
    SELECT DISTINCT ON (k.candidate_id) k.*
    FROM ({candidates}) k
    WHERE k.skip_reason IS NULL AND NOT k.done
    ORDER BY k.candidate_id, k.seq
) c
ORDER BY c.seq

-- name: skipped
-- Passing candidates of the batch that already had a plan from elsewhere.
SELECT c.candidate_id AS item, c.skip_reason AS reason
FROM ({candidates}) c
WHERE c.skip_reason IS NOT NULL
ORDER BY c.seq
