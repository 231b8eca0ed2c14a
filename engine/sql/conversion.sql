-- msp conversion --cohort: per workflow, of the workflows that reached a
-- stage, the share that reached the next.  The cohort is every workflow
-- with a loop event in the window; stages are looked up over all time.

-- name: cohort
WITH cohort AS (
    SELECT DISTINCT workflow_id FROM workflow_events
    WHERE workspace = %(workspace)s
      AND event_type IN ('signal.created', 'candidate.created', 'trade.plan.created', 'trade.executed',
                         'trade.closed', 'coach.analysis.generated', 'strategy.rule.suggested',
                         'strategy.rule.applied')
      AND occurred_at >= %(start)s AND occurred_at < %(end)s
),
stages AS (
    SELECT e.workflow_id,
           bool_or(e.event_type = 'signal.created') AS signals,
           bool_or(e.event_type = 'candidate.created') AS candidates,
           bool_or(e.event_type = 'trade.plan.created') AS plans,
           bool_or(e.event_type = 'trade.executed') AS executions,
           bool_or(e.event_type = 'trade.closed') AS closed,
           bool_or(e.event_type = 'coach.analysis.generated') AS coach_analyses,
           bool_or(e.event_type = 'strategy.rule.suggested') AS tasks_suggested,
           bool_or(e.event_type = 'strategy.rule.applied' AND e.event #>> '{payload,decision}' = 'accepted')
               AS tasks_accepted
    FROM workflow_events e
    JOIN cohort c ON c.workflow_id = e.workflow_id
    WHERE e.workspace = %(workspace)s
    GROUP BY e.workflow_id
)
SELECT count(*) FILTER (WHERE signals) AS signals,
       count(*) FILTER (WHERE signals AND candidates) AS signals_candidates,
       count(*) FILTER (WHERE candidates) AS candidates,
       count(*) FILTER (WHERE candidates AND plans) AS candidates_plans,
       count(*) FILTER (WHERE plans) AS plans,
       count(*) FILTER (WHERE plans AND executions) AS plans_executions,
       count(*) FILTER (WHERE executions) AS executions,
       count(*) FILTER (WHERE executions AND closed) AS executions_closed,
       count(*) FILTER (WHERE closed) AS closed,
       count(*) FILTER (WHERE closed AND coach_analyses) AS closed_coach_analyses,
       count(*) FILTER (WHERE tasks_suggested) AS tasks_suggested,
       count(*) FILTER (WHERE tasks_suggested AND tasks_accepted) AS tasks_suggested_tasks_accepted,
       count(*) AS workflows
FROM stages
