-- The coach action queue (README.md#reports; docs/ARCHITECTURE.md#first-decision-wins).

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

-- name: applied_event
-- The strategy.rule.applied event of a decided task; parent: its suggestion,
-- when msp suggested it.  %(occurred_at)s is the decision's time as the caller
-- formats it (it is also the payload's decided_at).
SELECT msp_event(
           kind => 'decision', key => t.task_id, event_type => 'strategy.rule.applied',
           occurred_at => %(occurred_at)s, actor_type => 'user',
           entity_type => 'coach', entity_id => t.analysis_id, symbol => t.symbol,
           workflow_id => coalesce(t.workflow_id, 'coach-' || t.analysis_id),
           parent_event_id => (SELECT s.event_id FROM workflow_events s
                               WHERE s.workspace = t.workspace AND s.event_type = 'strategy.rule.suggested'
                                 AND s.event_id = msp_event_id('task', t.task_id)),
           payload => jsonb_build_object(
               'task_id', t.task_id, 'decision', t.status, 'decided_at', %(occurred_at)s::text,
               'analysis_id', t.analysis_id, 'action', t.action, 'priority', t.priority))
FROM coach_tasks t
WHERE t.workspace = %(workspace)s AND t.task_id = %(task_id)s
