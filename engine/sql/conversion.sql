-- msp conversion --cohort: per workflow, of the workflows that reached a
-- stage, the share that reached the next.  The cohort is every workflow whose
-- loop activity overlaps the window (its first loop event before the window's
-- end, its last at or after its start); stages reached count over all time.
-- workflow_stages (migrations/010_workflow_stages.sql) holds one row per
-- workflow, kept in step with the events by a trigger.

-- name: cohort
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
FROM workflow_stages
WHERE workspace = %(workspace)s AND last_at >= %(start)s AND first_at < %(end)s
