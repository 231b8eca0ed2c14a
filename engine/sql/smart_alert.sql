-- Automation 2: one smart alert per trade plan (key: plan_id).
-- Level: entry.zone, else the midpoint of entry.low/entry.high, else
-- entry.current_price; price_above for long plans, price_below for short.

-- name: plans
-- Every plan of the batch, classified once: skip_reason NULL gets an alert,
-- any other is reported with that reason (create and skipped both read this).
SELECT p.*,
       CASE WHEN p.direction IS NULL OR p.direction NOT IN ('long', 'short') THEN 'neutral plan: no alert'
            WHEN p.level IS NULL THEN 'plan has no price level (entry zone, low/high or current price)'
       END AS skip_reason
FROM (
    SELECT e.seq, e.event_id, e.workflow_id, e.occurred_at,
           e.event #>> '{payload,plan_id}' AS plan_id,
           e.event #>> '{payload,symbol}' AS symbol,
           e.event #>> '{payload,direction}' AS direction,
           coalesce((e.event #>> '{payload,entry,zone}')::numeric,
                    ((e.event #>> '{payload,entry,low}')::numeric + (e.event #>> '{payload,entry,high}')::numeric) / 2,
                    (e.event #>> '{payload,entry,current_price}')::numeric) AS level
    FROM workflow_events e
    WHERE {in_batch}
      AND e.event_type = 'trade.plan.created'
) p

-- name: create
INSERT INTO alerts (workspace, alert_id, plan_id, plan_event_id, workflow_id, symbol, condition, level, occurred_at)
SELECT DISTINCT ON (p.plan_id)
       %(workspace)s, 'alert_' || p.plan_id, p.plan_id, p.event_id, p.workflow_id, p.symbol,
       CASE p.direction WHEN 'long' THEN 'price_above' ELSE 'price_below' END, p.level, p.occurred_at
FROM ({plans}) p
WHERE p.skip_reason IS NULL
ORDER BY p.plan_id, p.seq
ON CONFLICT DO NOTHING

-- name: skipped
SELECT p.plan_id AS item, p.skip_reason AS reason
FROM ({plans}) p
WHERE p.skip_reason IS NOT NULL
ORDER BY p.seq
