-- The coach action queue (DESIGN §6).

-- name: list
SELECT task_id, status, priority, action, detail, symbol, analysis_id, workflow_id, occurred_at, decided_at
FROM coach_tasks
WHERE workspace = %(workspace)s
  AND (%(status)s = 'all' OR (%(status)s = 'pending' AND status = 'pending')
       OR (%(status)s = 'resolved' AND status <> 'pending'))
ORDER BY CASE WHEN status = 'pending' THEN 0 ELSE 1 END,
         CASE priority WHEN 'high' THEN 0 WHEN 'medium' THEN 1 ELSE 2 END,
         occurred_at, task_id
LIMIT %(limit)s

-- name: get
SELECT task_id, status, priority, action, detail, symbol, analysis_id, workflow_id, occurred_at, decided_at
FROM coach_tasks WHERE workspace = %(workspace)s AND task_id = %(task_id)s

-- name: decide
UPDATE coach_tasks SET status = %(decision)s, decided_at = now()
WHERE workspace = %(workspace)s AND task_id = %(task_id)s AND status = 'pending'
RETURNING task_id, status, priority, action, detail, symbol, analysis_id, workflow_id, occurred_at, decided_at

-- name: suggested_event
SELECT event_id FROM workflow_events
WHERE workspace = %(workspace)s AND event_type = 'strategy.rule.suggested'
  AND event_id = 'msp.task.' || md5(%(task_id)s)
