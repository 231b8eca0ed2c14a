-- msp trace (README.md#reports).

-- name: workflow_of_event
SELECT workflow_id FROM workflow_events WHERE workspace = %(workspace)s AND event_id = %(id)s

-- name: events
SELECT seq, event_id, event_type, occurred_at, actor_type, parent_event_id, symbol, workflow_id,
       event -> 'payload' AS payload
FROM workflow_events
WHERE workspace = %(workspace)s AND workflow_id = %(workflow_id)s
ORDER BY seq
LIMIT %(limit)s
