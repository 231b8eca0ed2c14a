-- The coach action queue (DESIGN §6).

-- name: list
-- pending: the queue order, served by coach_tasks_queue_idx; resolved: newest
-- decision first; all: pending first, then resolved.
(SELECT task_id, status, priority, action, detail, symbol, analysis_id, workflow_id, occurred_at, decided_at,
        0 AS part, priority_rank AS k1, occurred_at AS k2
 FROM coach_tasks
 WHERE workspace = %(workspace)s AND status = 'pending' AND %(status)s IN ('pending', 'all')
 ORDER BY priority_rank, occurred_at, task_id
 LIMIT %(limit)s)
UNION ALL
(SELECT task_id, status, priority, action, detail, symbol, analysis_id, workflow_id, occurred_at, decided_at,
        1 AS part, 0 AS k1, decided_at AS k2
 FROM coach_tasks
 WHERE workspace = %(workspace)s AND status <> 'pending' AND %(status)s IN ('resolved', 'all')
 ORDER BY decided_at DESC, task_id
 LIMIT %(limit)s)
ORDER BY part, k1, k2, task_id
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
