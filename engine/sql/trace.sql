-- msp trace (README.md#reports).

-- name: workflow_of_event
-- (an archived event still names its workflow)
SELECT workflow_id FROM workflow_events WHERE workspace = %(workspace)s AND event_id = %(id)s
UNION ALL
SELECT workflow_id FROM archived_events WHERE workspace = %(workspace)s AND event_id = %(id)s
LIMIT 1

-- name: events
SELECT seq, event_id, event_type, occurred_at, actor_type, parent_event_id, symbol, workflow_id,
       event -> 'payload' AS payload
FROM workflow_events
WHERE workspace = %(workspace)s AND workflow_id = %(workflow_id)s
ORDER BY seq
LIMIT %(limit)s

-- name: archived
-- The workflow's events that msp archive moved out, per archive.
SELECT count(*) AS events, a.archive_no, a.path AS file, a.archived_at
FROM archived_events x
JOIN archives a ON a.workspace = x.workspace AND a.archive_no = x.archive_no
WHERE x.workspace = %(workspace)s AND x.workflow_id = %(workflow_id)s
GROUP BY a.archive_no, a.path, a.archived_at
ORDER BY a.archive_no
