-- Smart alerts and the alert-triggered journal draft (docs/ARCHITECTURE.md#the-automations).

-- name: list
SELECT alert_id, plan_id, symbol, condition, level, status, occurred_at, triggered_at, trigger_price, workflow_id
FROM alerts
WHERE workspace = %(workspace)s AND (%(status)s::text IS NULL OR status = %(status)s)
ORDER BY occurred_at DESC, alert_id
LIMIT %(limit)s

-- name: get
SELECT alert_id, plan_id, plan_event_id, symbol, condition, level, status, occurred_at, triggered_at,
       trigger_price, workflow_id
FROM alerts WHERE workspace = %(workspace)s AND alert_id = %(alert_id)s

-- name: trigger
UPDATE alerts SET status = 'triggered', triggered_at = now(), trigger_price = %(price)s
WHERE workspace = %(workspace)s AND alert_id = %(alert_id)s AND status = 'active'
RETURNING triggered_at

-- name: draft_event
-- The journal.draft.created event of a triggered alert's draft entry;
-- %(occurred_at)s is the trigger's time as the caller formats it.
SELECT msp_event(
           kind => 'alertdraft', key => a.alert_id, event_type => 'journal.draft.created',
           occurred_at => %(occurred_at)s, entity_type => 'journal', entity_id => 'ja_' || a.alert_id,
           symbol => a.symbol, workflow_id => a.workflow_id, parent_event_id => a.plan_event_id,
           payload => jsonb_build_object(
               'journal_id', 'ja_' || a.alert_id, 'symbol', a.symbol,
               'side', CASE a.condition WHEN 'price_above' THEN 'long' ELSE 'short' END,
               'plan_id', a.plan_id, 'alert_id', a.alert_id,
               'tags', jsonb_build_array('auto_alert_draft', 'alert_' || a.alert_id)))
FROM alerts a
WHERE a.workspace = %(workspace)s AND a.alert_id = %(alert_id)s

-- name: create_draft
INSERT INTO journal_entries (workspace, journal_id, origin, status, symbol, side, workflow_id, plan_id, alert_id,
                             tags, notes, source_event_id, occurred_at, updated_at)
SELECT a.workspace, 'ja_' || a.alert_id, 'alert_draft', 'open', a.symbol,
       CASE a.condition WHEN 'price_above' THEN 'long' ELSE 'short' END,
       a.workflow_id, a.plan_id, a.alert_id,
       ARRAY['auto_alert_draft', 'workflow_' || a.workflow_id, 'plan_' || a.plan_id, 'alert_' || a.alert_id],
       format('Alert %%s triggered: %%s %%s %%s (at %%s).', a.alert_id, a.symbol,
              replace(a.condition, '_', ' '), a.level, a.trigger_price),
       a.plan_event_id, a.triggered_at, a.triggered_at
FROM alerts a
WHERE a.workspace = %(workspace)s AND a.alert_id = %(alert_id)s AND a.status = 'triggered'
ON CONFLICT (workspace, journal_id) DO NOTHING
RETURNING journal_id
