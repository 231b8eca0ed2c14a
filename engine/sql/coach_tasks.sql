-- Automation 6: the coach analysis row and its action tasks.  Triggered by
-- coach.analysis.generated events (msp's own, or ingested history): the
-- first three recommendations become pending tasks (key: task_id =
-- task_<analysis_id>_<n>) announced by strategy.rule.suggested events.

-- name: analyses
SELECT e.event_id, e.workflow_id, e.occurred_at, e.event ->> 'occurred_at' AS occurred_text,
       e.parent_event_id, e.event -> 'payload' AS p,
       e.event #>> '{payload,analysis_id}' AS analysis_id
FROM workflow_events e
WHERE {in_batch}
  AND e.event_type = 'coach.analysis.generated'

-- name: store_analyses
INSERT INTO coach_analyses (workspace, analysis_id, close_event_id, trade_id, symbol, workflow_id, sample_size,
                            win_rate, avg_win, avg_loss, expectancy, recommendations, occurred_at)
SELECT DISTINCT ON (a.analysis_id)
       %(workspace)s, a.analysis_id, coalesce(a.parent_event_id, a.event_id), a.p ->> 'trade_id', a.p ->> 'symbol',
       a.workflow_id, (a.p ->> 'sample_size')::integer, (a.p ->> 'win_rate')::numeric,
       (a.p ->> 'avg_win')::numeric, (a.p ->> 'avg_loss')::numeric, (a.p ->> 'expectancy')::numeric,
       a.p -> 'recommendations', a.occurred_at
FROM ({analyses}) a
ORDER BY a.analysis_id, a.occurred_at
ON CONFLICT DO NOTHING

-- name: recommendations
-- The first three recommendations of each analysis, numbered from 1.
SELECT a.*, r.n, r.rec,
       'task_' || a.analysis_id || '_' || r.n AS task_id,
       coalesce(r.rec ->> 'priority', 'medium') AS priority,
       coalesce(r.rec ->> 'action', 'review') AS action,
       coalesce(r.rec ->> 'detail', '') AS detail
FROM ({analyses}) a
CROSS JOIN LATERAL jsonb_array_elements(
    CASE WHEN jsonb_typeof(a.p -> 'recommendations') = 'array' THEN a.p -> 'recommendations' ELSE '[]' END
) WITH ORDINALITY AS r (rec, n)
WHERE r.n <= 3

-- name: create_tasks
INSERT INTO coach_tasks (workspace, task_id, analysis_id, position, priority, action, detail, symbol,
                         workflow_id, occurred_at)
SELECT DISTINCT ON (t.task_id)
       %(workspace)s, t.task_id, t.analysis_id, t.n, t.priority, t.action, t.detail, t.p ->> 'symbol',
       t.workflow_id, t.occurred_at
FROM ({recommendations}) t
ORDER BY t.task_id
ON CONFLICT (workspace, task_id) DO NOTHING

-- name: suggested_events
SELECT msp_event(
           kind => 'task', key => t.task_id, event_type => 'strategy.rule.suggested', occurred_at => t.occurred_text,
           entity_type => 'coach', entity_id => t.analysis_id, symbol => t.p ->> 'symbol',
           workflow_id => t.workflow_id, parent_event_id => t.event_id,
           payload => jsonb_build_object(
               'task_id', t.task_id, 'analysis_id', t.analysis_id, 'action', t.action, 'priority', t.priority,
               'detail', t.detail)),
       NULL::bigint
FROM ({recommendations}) t
