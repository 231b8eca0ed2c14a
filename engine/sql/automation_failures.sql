-- The quarantine of automation failures (migrations/016_automation_failures.sql, docs/ARCHITECTURE.md#poison-events).

-- name: list
SELECT failure_id, seq, event_id, event_type, automation, sqlstate, message, attempts, status,
       failed_at, resolved_at
FROM automation_failures
WHERE workspace = %(workspace)s AND (%(status)s::text IS NULL OR status = %(status)s)
ORDER BY failure_id
LIMIT %(limit)s

-- name: get
SELECT f.failure_id, f.seq, f.event_id, f.event_type, f.automation, f.sqlstate, f.message, f.attempts, f.status,
       f.failed_at, f.resolved_at, e.event
FROM automation_failures f
JOIN workflow_events e ON e.workspace = f.workspace AND e.seq = f.seq
WHERE f.workspace = %(workspace)s AND f.failure_id = %(failure_id)s

-- name: pending
SELECT failure_id, seq, event_id, event_type
FROM automation_failures
WHERE workspace = %(workspace)s AND status = 'failed'
  AND (%(ids)s::bigint[] IS NULL OR failure_id = ANY(%(ids)s::bigint[]))
ORDER BY failure_id
FOR UPDATE SKIP LOCKED

-- name: mark_retried
UPDATE automation_failures SET status = 'retried', resolved_at = now()
WHERE workspace = %(workspace)s AND failure_id = %(failure_id)s

-- name: failed_again
UPDATE automation_failures
SET attempts = attempts + 1, automation = %(automation)s, sqlstate = %(sqlstate)s, message = %(message)s,
    failed_at = now()
WHERE workspace = %(workspace)s AND failure_id = %(failure_id)s
