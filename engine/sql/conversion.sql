-- msp conversion --cohort: per workflow, of the workflows that reached a
-- stage, the share that reached the next.  The cohort is every workflow with a
-- loop event in the window; stages reached count over all time.
-- workflow_stages (migrations/010_workflow_stages.sql) holds one row per
-- workflow — its stage flags and the times of its first and last loop event —
-- kept in step with the events by a trigger.  A workflow whose first or last
-- loop event falls in the window is in; one whose loop activity spans the
-- whole window (a task decided weeks after its close, say) is in only if an
-- event of it falls inside, which its few events answer.

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
FROM workflow_stages s
WHERE s.workspace = %(workspace)s AND s.last_at >= %(start)s AND s.first_at < %(end)s
  AND (s.first_at >= %(start)s OR s.last_at < %(end)s
       OR EXISTS (SELECT 1 FROM workflow_events e
                  WHERE e.workspace = %(workspace)s AND e.workflow_id = s.workflow_id
                    AND e.occurred_at >= %(start)s AND e.occurred_at < %(end)s
                    AND e.event_type IN ('signal.created', 'candidate.created', 'trade.plan.created',
                                         'trade.executed', 'trade.closed', 'coach.analysis.generated',
                                         'strategy.rule.suggested', 'strategy.rule.applied')
                  OFFSET 0))  -- a per-row probe, only for the rows the ORs before it leave: not a hashed
                              -- scan of the whole window, whose estimate also woke the JIT (400 ms)
