-- msp import fills: what earlier imports of the same broker format left (engine/imports/fills.py).
-- Imported fill events have ids "<format>.<fill key>.open|add|close"; the prefix is "<format>.".

-- name: stored_fill_events
-- Every stored fill event of the format: a fill whose key is among them was imported before.
SELECT event_id
FROM workflow_events
WHERE workspace = %(workspace)s
  AND event_type IN ('trade.executed', 'trade.updated', 'trade.closed')
  AND left(event_id, length(%(prefix)s)) = %(prefix)s;

-- name: open_fill_positions
-- The events of imported positions still open (no trade.closed of the position's own trade_id), in order.
WITH opened AS MATERIALIZED (
    SELECT o.workflow_id, o.event #>> '{payload,trade_id}' AS trade_id
    FROM workflow_events o
    WHERE o.workspace = %(workspace)s AND o.event_type = 'trade.executed'
      AND left(o.event_id, length(%(prefix)s)) = %(prefix)s
), still_open AS MATERIALIZED (
    SELECT op.workflow_id
    FROM opened op
    WHERE NOT EXISTS (
        SELECT 1 FROM workflow_events c
        WHERE c.workspace = %(workspace)s AND c.workflow_id = op.workflow_id AND c.event_type = 'trade.closed'
          AND c.event #>> '{payload,trade_id}' = op.trade_id)
)
SELECT e.event
FROM still_open s
JOIN workflow_events e ON e.workspace = %(workspace)s AND e.workflow_id = s.workflow_id
WHERE left(e.event_id, length(%(prefix)s)) = %(prefix)s
ORDER BY e.seq;
