-- msp review: the closed trades of a period and the coach decisions to weigh
-- them against.  Read-only.  A trade counts once, by its first trade.closed
-- event (as positions do: engine/sql/lifecycle.sql), at its close time: the
-- payload's closed_at, else the event's occurred_at.

-- name: closes
-- The workspace's closed trades up to %(end)s, one row per trade_id (a slot
-- of the statements below: `{closes}`).
SELECT *
FROM (
    SELECT DISTINCT ON (e.event #>> '{payload,trade_id}')
           e.event_id, e.seq, e.workflow_id,
           e.event #>> '{payload,trade_id}' AS trade_id,
           e.event #>> '{payload,symbol}' AS symbol,
           e.event #>> '{payload,plan_id}' AS plan_id,
           (e.event #>> '{payload,realized_pnl}')::numeric AS pnl,
           coalesce((e.event #>> '{payload,closed_at}')::timestamptz, e.occurred_at) AS closed_at,
           e.event #>> '{payload,execution,side}' AS side,
           (e.event #>> '{payload,execution,quantity}')::numeric AS quantity,
           (e.event #>> '{payload,execution,entry_price}')::numeric AS entry_price,
           e.event #>> '{payload,strategy}' AS close_strategy,
           CASE WHEN jsonb_typeof(e.event #> '{payload,tags}') = 'array' THEN e.event #> '{payload,tags}' END
               AS close_tags
    FROM workflow_events e
    WHERE e.workspace = %(workspace)s AND e.event_type = 'trade.closed'
    ORDER BY e.event #>> '{payload,trade_id}', e.seq
) c
WHERE c.closed_at < %(end)s

-- name: window_trades
-- The trades closed in [start, end), with what the review groups them by:
-- entry time (the first trade.executed of the trade), the plan's first stop
-- (risk.invalidation of the first trade.plan.created of its plan), the
-- strategy (the close's or execution's own `strategy`, else the newest
-- journal.updated strategy of its workflow, else its signal's
-- source.strategy, else the plan's setup.signal_type, else the signal's
-- signal_type) and tags (its journal.updated tags and the close's own).
WITH w AS MATERIALIZED (
    SELECT * FROM ({closes}) c WHERE c.closed_at >= %(start)s
),
entries AS MATERIALIZED (
    SELECT DISTINCT ON (x.event #>> '{payload,trade_id}')
           x.event #>> '{payload,trade_id}' AS trade_id, x.occurred_at AS entered_at,
           x.event #>> '{payload,plan_id}' AS plan_id, x.event #>> '{payload,strategy}' AS strategy
    FROM workflow_events x
    WHERE x.workspace = %(workspace)s AND x.event_type = 'trade.executed'
      AND x.event #>> '{payload,trade_id}' IN (SELECT trade_id FROM w)
    ORDER BY x.event #>> '{payload,trade_id}', x.seq
),
plans AS MATERIALIZED (
    SELECT DISTINCT ON (p.event #>> '{payload,plan_id}')
           p.event #>> '{payload,plan_id}' AS plan_id,
           CASE WHEN jsonb_typeof(p.event #> '{payload,risk,invalidation}') = 'number'
                THEN (p.event #>> '{payload,risk,invalidation}')::numeric END AS stop,
           p.event #>> '{payload,setup,signal_type}' AS signal_type
    FROM workflow_events p
    WHERE p.workspace = %(workspace)s AND p.event_type = 'trade.plan.created'
      AND p.event #>> '{payload,plan_id}' IN (SELECT coalesce(w.plan_id, n.plan_id)
                                              FROM w LEFT JOIN entries n USING (trade_id))
    ORDER BY p.event #>> '{payload,plan_id}', p.seq
),
workflow_facts AS MATERIALIZED (
    SELECT f.workflow_id,
           (array_agg(f.event #>> '{payload,strategy}' ORDER BY f.occurred_at DESC, f.seq DESC)
                FILTER (WHERE f.event_type = 'journal.updated' AND f.event #>> '{payload,strategy}' <> ''))[1]
               AS journal_strategy,
           (array_agg(f.event #>> '{payload,source,strategy}' ORDER BY f.seq)
                FILTER (WHERE f.event_type = 'signal.created' AND f.event #>> '{payload,source,strategy}' <> ''))[1]
               AS signal_strategy,
           (array_agg(f.event #>> '{payload,signal_type}' ORDER BY f.seq)
                FILTER (WHERE f.event_type = 'signal.created' AND f.event #>> '{payload,signal_type}' <> ''))[1]
               AS signal_type,
           coalesce(jsonb_agg(f.event #> '{payload,tags}')
                        FILTER (WHERE f.event_type = 'journal.updated'
                                  AND jsonb_typeof(f.event #> '{payload,tags}') = 'array'), '[]') AS journal_tags
    FROM workflow_events f
    WHERE f.workspace = %(workspace)s AND f.event_type IN ('journal.updated', 'signal.created')
      AND f.workflow_id IN (SELECT workflow_id FROM w)
    GROUP BY f.workflow_id
)
SELECT w.event_id, w.trade_id, w.symbol, w.side, w.quantity, w.entry_price, w.pnl, w.closed_at,
       n.entered_at, p.stop,
       coalesce(nullif(w.close_strategy, ''), nullif(n.strategy, ''), f.journal_strategy, f.signal_strategy,
                nullif(p.signal_type, ''), f.signal_type) AS strategy,
       coalesce(w.close_tags, '[]') AS close_tags, coalesce(f.journal_tags, '[]') AS journal_tags
FROM w
LEFT JOIN entries n ON n.trade_id = w.trade_id
LEFT JOIN plans p ON p.plan_id = coalesce(w.plan_id, n.plan_id)
LEFT JOIN workflow_facts f ON f.workflow_id = w.workflow_id
ORDER BY w.closed_at, w.event_id

-- name: close_sequence
-- Every closed trade up to %(end)s, in close order: the sample the rules
-- are weighed on.
SELECT c.pnl, c.closed_at
FROM ({closes}) c
ORDER BY c.closed_at, c.event_id

-- name: accepted_rules
-- Coach tasks accepted before %(end)s (the first decision of each task: the
-- first one wins, engine/actions/tasks.py), with what the task said.
WITH decisions AS MATERIALIZED (
    SELECT *
    FROM (
        SELECT DISTINCT ON (a.event #>> '{payload,task_id}')
               a.event #>> '{payload,task_id}' AS task_id, a.event #>> '{payload,decision}' AS decision,
               coalesce((a.event #>> '{payload,decided_at}')::timestamptz, a.occurred_at) AS decided_at,
               a.event #>> '{payload,action}' AS action
        FROM workflow_events a
        WHERE a.workspace = %(workspace)s AND a.event_type = 'strategy.rule.applied'
        ORDER BY a.event #>> '{payload,task_id}', a.seq
    ) first_decision
    WHERE first_decision.decision = 'accepted' AND first_decision.decided_at < %(end)s
),
suggestions AS MATERIALIZED (
    SELECT DISTINCT ON (g.event #>> '{payload,task_id}')
           g.event #>> '{payload,task_id}' AS task_id, g.event #>> '{payload,action}' AS action,
           g.event #>> '{payload,detail}' AS detail
    FROM workflow_events g
    WHERE g.workspace = %(workspace)s AND g.event_type = 'strategy.rule.suggested'
      AND g.event #>> '{payload,task_id}' IN (SELECT task_id FROM decisions)
    ORDER BY g.event #>> '{payload,task_id}', g.seq
)
SELECT d.task_id, d.decided_at, coalesce(d.action, s.action) AS action, s.detail
FROM decisions d
LEFT JOIN suggestions s USING (task_id)
ORDER BY d.decided_at, d.task_id
