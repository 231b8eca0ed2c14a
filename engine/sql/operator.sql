-- msp operator: the day's flows by signal source (scanner, options confluence…).

-- name: sources
-- Signals of the window by source and type; their candidates by result and
-- the plans msp made from them, joined through the workflow.
WITH signals AS (
    SELECT workflow_id,
           coalesce(event #>> '{payload,source,submodule}', event #>> '{payload,source,module}', 'unknown') AS source,
           event #>> '{payload,signal_type}' AS signal_type
    FROM workflow_events
    WHERE workspace = %(workspace)s AND event_type = 'signal.created'
      AND occurred_at >= %(start)s AND occurred_at < %(end)s
),
flows AS (
    SELECT s.source, s.signal_type, s.workflow_id,
           (SELECT e.event #>> '{payload,result}' FROM workflow_events e
             WHERE e.workspace = %(workspace)s AND e.workflow_id = s.workflow_id
               AND e.event_type = 'candidate.created' ORDER BY e.seq LIMIT 1) AS result,
           EXISTS (SELECT 1 FROM workflow_events e
                    WHERE e.workspace = %(workspace)s AND e.workflow_id = s.workflow_id
                      AND e.event_type = 'trade.plan.created') AS planned
    FROM signals s
)
SELECT source, signal_type, count(*) AS signals,
       count(*) FILTER (WHERE result = 'pass') AS passed,
       count(*) FILTER (WHERE result = 'watch') AS watched,
       count(*) FILTER (WHERE result = 'fail') AS failed,
       count(*) FILTER (WHERE planned) AS plans
FROM flows
GROUP BY source, signal_type
ORDER BY signals DESC, source, signal_type
