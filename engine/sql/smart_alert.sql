-- Automation 2: one smart alert per trade plan (key: plan_id).
-- Level: entry.zone, else the midpoint of entry.low/entry.high, else
-- entry.current_price; price_above for long plans, price_below for short.

-- name: create
INSERT INTO alerts (workspace, alert_id, plan_id, plan_event_id, workflow_id, symbol, condition, level, occurred_at)
SELECT DISTINCT ON (p.plan_id)
       %(workspace)s, 'alert_' || p.plan_id, p.plan_id, p.event_id, p.workflow_id, p.symbol,
       CASE p.direction WHEN 'long' THEN 'price_above' ELSE 'price_below' END, p.level, p.occurred_at
FROM (
    SELECT e.seq, e.event_id, e.workflow_id, e.occurred_at,
           e.event #>> '{payload,plan_id}' AS plan_id,
           e.event #>> '{payload,symbol}' AS symbol,
           e.event #>> '{payload,direction}' AS direction,
           coalesce((e.event #>> '{payload,entry,zone}')::numeric,
                    ((e.event #>> '{payload,entry,low}')::numeric + (e.event #>> '{payload,entry,high}')::numeric) / 2,
                    (e.event #>> '{payload,entry,current_price}')::numeric) AS level
    FROM workflow_events e
    WHERE e.workspace = %(workspace)s AND e.seq > %(lo)s AND e.seq <= %(hi)s
      AND e.event_type = 'trade.plan.created'
      AND (%(since)s::timestamptz IS NULL OR e.occurred_at >= %(since)s::timestamptz)
) p
WHERE p.direction IN ('long', 'short') AND p.level IS NOT NULL
ORDER BY p.plan_id, p.seq
ON CONFLICT DO NOTHING

-- name: skipped
SELECT e.event #>> '{payload,plan_id}' AS item,
       CASE WHEN e.event #>> '{payload,direction}' NOT IN ('long', 'short') THEN 'neutral plan: no alert'
            ELSE 'plan has no price level (entry zone, low/high or current price)' END AS reason
FROM workflow_events e
WHERE e.workspace = %(workspace)s AND e.seq > %(lo)s AND e.seq <= %(hi)s
  AND e.event_type = 'trade.plan.created'
  AND (e.event #>> '{payload,direction}' NOT IN ('long', 'short')
       OR coalesce(e.event #>> '{payload,entry,zone}',
                   CASE WHEN e.event #> '{payload,entry,low}' IS NOT NULL
                         AND e.event #> '{payload,entry,high}' IS NOT NULL THEN 'mid' END,
                   e.event #>> '{payload,entry,current_price}') IS NULL)
ORDER BY e.seq
