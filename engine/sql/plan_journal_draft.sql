-- Automation 3: an open draft journal entry per trade plan (key: plan_id),
-- announced by a journal.draft.created event.

-- name: plans
-- The batch's plans, as the draft sees them (the entry and its event carry the same tags).
SELECT p.*, array_remove(ARRAY['auto_plan_draft', 'workflow_' || p.workflow_id, 'plan_' || p.plan_id,
                               'dp_' || p.dp_id], NULL) AS tags
FROM (
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
WHERE {in_batch}
  AND e.event_type = 'trade.plan.created'
ORDER BY e.event #>> '{payload,plan_id}', e.seq
) p

-- name: create_entries
INSERT INTO journal_entries (workspace, journal_id, origin, status, symbol, side, workflow_id, plan_id,
                             decision_packet_id, source, direction, risk_score, tags, notes,
                             source_event_id, occurred_at, updated_at)
SELECT %(workspace)s, 'jd_' || p.plan_id, 'plan_draft', 'open', p.symbol, p.direction, p.workflow_id, p.plan_id,
       p.dp_id, p.source, p.direction, p.risk_score, p.tags,
       'Draft for plan ' || p.plan_id || ': ' || p.direction || ' ' || p.symbol || '.',
       p.event_id, p.occurred_at, p.occurred_at
FROM ({plans}) p
ON CONFLICT (workspace, journal_id) DO NOTHING

-- name: draft_events
SELECT msp_event(
           kind => 'draft', key => p.plan_id, event_type => 'journal.draft.created', occurred_at => p.occurred_text,
           context => p.context, entity_type => 'journal', entity_id => 'jd_' || p.plan_id, symbol => p.symbol,
           workflow_id => p.workflow_id, parent_event_id => p.event_id,
           payload => jsonb_build_object(
               'journal_id', 'jd_' || p.plan_id, 'symbol', p.symbol, 'side', p.direction, 'plan_id', p.plan_id,
               'tags', to_jsonb(p.tags))),
       NULL::bigint
FROM ({plans}) p
