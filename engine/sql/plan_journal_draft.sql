-- Automation 3: an open draft journal entry per trade plan (key: plan_id),
-- announced by a journal.draft.created event.

-- name: plans
-- The batch's plans, as the draft sees them.
SELECT DISTINCT ON (e.event #>> '{payload,plan_id}')
       e.event_id, e.workflow_id, e.occurred_at, e.event ->> 'occurred_at' AS occurred_text,
       e.event #>> '{payload,plan_id}' AS plan_id,
       e.event #>> '{payload,symbol}' AS symbol,
       e.event #>> '{payload,direction}' AS direction,
       coalesce(e.event #>> '{payload,setup,decision_packet_id}',
                e.event #>> '{payload,links,decision_packet_id}') AS dp_id,
       e.event #>> '{payload,setup,source}' AS source,
       (e.event #>> '{payload,risk,risk_score}')::numeric AS risk_score,
       e.event -> 'context' AS context
FROM workflow_events e
WHERE e.workspace = %(workspace)s AND e.seq > %(lo)s AND e.seq <= %(hi)s
  AND e.event_type = 'trade.plan.created'
  AND (%(since)s::timestamptz IS NULL OR e.occurred_at >= %(since)s::timestamptz)
ORDER BY e.event #>> '{payload,plan_id}', e.seq

-- name: create_entries
INSERT INTO journal_entries (workspace, journal_id, origin, status, symbol, side, workflow_id, plan_id,
                             decision_packet_id, source, direction, risk_score, tags, notes,
                             source_event_id, occurred_at, updated_at)
SELECT %(workspace)s, 'jd_' || p.plan_id, 'plan_draft', 'open', p.symbol, p.direction, p.workflow_id, p.plan_id,
       p.dp_id, p.source, p.direction, p.risk_score,
       array_remove(ARRAY['auto_plan_draft', 'workflow_' || p.workflow_id, 'plan_' || p.plan_id,
                          'dp_' || p.dp_id], NULL),
       'Draft for plan ' || p.plan_id || ': ' || p.direction || ' ' || p.symbol || '.',
       p.event_id, p.occurred_at, p.occurred_at
FROM ({plans}) p
ON CONFLICT (workspace, journal_id) DO NOTHING

-- name: draft_events
SELECT jsonb_strip_nulls(jsonb_build_object(
           'event_id', 'msp.draft.' || md5(p.plan_id),
           'event_type', 'journal.draft.created',
           'event_version', 1,
           'occurred_at', p.occurred_text,
           'actor', jsonb_build_object('actor_type', 'system'),
           'context', p.context,
           'entity', jsonb_build_object('entity_type', 'journal', 'entity_id', 'jd_' || p.plan_id, 'symbol', p.symbol),
           'correlation', jsonb_build_object('workflow_id', p.workflow_id, 'parent_event_id', p.event_id),
           'payload', jsonb_build_object(
               'journal_id', 'jd_' || p.plan_id, 'symbol', p.symbol, 'side', p.direction, 'plan_id', p.plan_id,
               'tags', to_jsonb(array_remove(ARRAY['auto_plan_draft', 'workflow_' || p.workflow_id,
                                                   'plan_' || p.plan_id, 'dp_' || p.dp_id], NULL))))),
       NULL::bigint
FROM ({plans}) p
