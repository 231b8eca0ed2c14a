-- msp review: the closed trades of a period and the coach decisions to weigh
-- them against.  Read-only.  A trade counts once, by its first trade.closed
-- event (as positions do: engine/sql/lifecycle.sql), at its close time: the
-- payload's closed_at (required by the schema), else the event's occurred_at.
--
-- The closes are read from closed_trades — the coach's narrow projection of
-- every close, indexed by close time (engine/sql/coach_analysis.sql
-- project_closes) — and, for the closes the sweep has not projected yet
-- (seq above %(floor)s = coach_analysis.projected_up_to), from the events
-- themselves; so the review is complete whether or not `msp automate` ran,
-- and a week of a long history is an index range, not a scan of every close.
-- What the review groups a trade by (its entry, its plan's first stop, its
-- journal, its signal: trade_facts below) is kept beside each close by the
-- sweep (engine/automations/review_facts.py, migrations/019_review_facts.sql)
-- as of its checkpoint; the review reads it from there (window_trades), and
-- computes it from the events (trade_facts) only for the trades whose
-- workflow has events the sweep has not read, or that have no facts yet —
-- one answer either way (engine/reports/review.py).

-- name: all_closes
-- Every close event up to %(end)s: projected (with the facts the sweep keeps
-- beside it, where it has them), then the unprojected tail, which has none (a
-- slot of the statements below: `{all_closes}`).  %(floor)s is read in a
-- statement of its own: a close the sweep projected in between is in both
-- halves, and counted once, in the first.
SELECT t.close_event_id AS event_id, t.close_seq AS seq, t.trade_id, t.workflow_id, t.realized_pnl AS pnl,
       t.closed_at, t.has_facts, t.symbol, t.side, t.quantity, t.entry_price, t.entered_at, t.stop, t.strategy,
       t.tags
FROM closed_trades t
WHERE t.workspace = %(workspace)s AND t.closed_at < %(end)s
UNION ALL
SELECT tail.event_id, tail.seq, tail.trade_id, tail.workflow_id, tail.pnl, tail.closed_at, false, NULL::text,
       NULL::text, NULL::numeric, NULL::numeric, NULL::timestamptz, NULL::numeric, NULL::text, NULL::text[]
FROM (
    SELECT e.event_id, e.seq, e.event #>> '{payload,trade_id}' AS trade_id, e.workflow_id,
           (e.event #>> '{payload,realized_pnl}')::numeric AS pnl,
           coalesce((e.event #>> '{payload,closed_at}')::timestamptz, e.occurred_at) AS closed_at
    FROM workflow_events e
    WHERE e.workspace = %(workspace)s AND e.event_type = 'trade.closed'
      AND e.seq > %(floor)s  -- a value, not a subquery: the partial index on closes by seq answers it
      AND NOT EXISTS (SELECT 1 FROM closed_trades p  -- projected since %(floor)s was read: counted above
                      WHERE p.workspace = %(workspace)s AND p.close_event_id = e.event_id)
) tail
WHERE tail.closed_at < %(end)s

-- name: trade_facts
-- What the review groups each close of the workflows %(fact_workflows)s (an
-- array: engine/trade_facts.py passes a thousand at a time, and says why) by,
-- from their events: one row per trade.closed of them.  Read by msp review
-- where the facts the sweep keeps are stale, and kept beside each close by
-- the sweep (engine/sql/review_facts.sql refresh, of which it is the
-- `{trade_facts}` slot).  The entry is the trade's first trade.executed; the
-- stop and signal type are the first trade.plan.created of the close's plan
-- (else the entry's); the strategy is the first set of: the close's, the
-- entry's, the latest journal entry's, the first signal's, the plan's signal
-- type, the signal's type; the tags are the close's and every journal
-- entry's, each once, sorted.
WITH related AS MATERIALIZED (  -- only the fields read below, each from the event types that have it
    -- (narrow rows: the documents themselves made every sort and join below carry a payload per row)
    SELECT r.event_id, r.seq, r.occurred_at, r.event_type, r.workflow_id,
           CASE WHEN r.event_type IN ('trade.closed', 'trade.executed') THEN r.event #>> '{payload,trade_id}' END
               AS trade_id,
           CASE WHEN r.event_type IN ('trade.closed', 'trade.executed', 'trade.plan.created')
                THEN r.event #>> '{payload,plan_id}' END AS plan_id,
           CASE WHEN r.event_type IN ('trade.closed', 'trade.executed', 'journal.updated')
                THEN r.event #>> '{payload,strategy}' END AS strategy,
           CASE r.event_type WHEN 'trade.closed' THEN r.event #>> '{payload,symbol}' END AS symbol,
           CASE r.event_type WHEN 'trade.closed' THEN r.event #>> '{payload,execution,side}' END AS side,
           CASE r.event_type WHEN 'trade.closed' THEN (r.event #>> '{payload,execution,quantity}')::numeric END
               AS quantity,
           CASE r.event_type WHEN 'trade.closed' THEN (r.event #>> '{payload,execution,entry_price}')::numeric END
               AS entry_price,
           CASE WHEN r.event_type = 'trade.plan.created'
                     AND jsonb_typeof(r.event #> '{payload,risk,invalidation}') = 'number'
                THEN (r.event #>> '{payload,risk,invalidation}')::numeric END AS stop,
           CASE r.event_type WHEN 'trade.plan.created' THEN r.event #>> '{payload,setup,signal_type}'
                             WHEN 'signal.created' THEN r.event #>> '{payload,signal_type}' END AS signal_type,
           CASE r.event_type WHEN 'signal.created' THEN r.event #>> '{payload,source,strategy}' END
               AS signal_strategy,
           CASE WHEN r.event_type IN ('trade.closed', 'journal.updated')
                     AND jsonb_typeof(r.event #> '{payload,tags}') = 'array'
                THEN ARRAY(SELECT jsonb_array_elements_text(r.event #> '{payload,tags}')) END AS tags
    FROM workflow_events r
    WHERE r.workspace = %(workspace)s AND r.workflow_id = ANY(%(fact_workflows)s::text[])
      AND r.event_type IN ('trade.closed', 'trade.executed', 'trade.plan.created', 'journal.updated',
                           'signal.created')
),
entries AS (
    SELECT DISTINCT ON (r.workflow_id, r.trade_id) r.workflow_id, r.trade_id,
           r.occurred_at AS entered_at, r.plan_id, r.strategy
    FROM related r
    WHERE r.event_type = 'trade.executed'
    ORDER BY r.workflow_id, r.trade_id, r.seq
),
plans AS (
    SELECT DISTINCT ON (r.workflow_id, r.plan_id) r.workflow_id, r.plan_id, r.stop, r.signal_type
    FROM related r
    WHERE r.event_type = 'trade.plan.created'
    ORDER BY r.workflow_id, r.plan_id, r.seq
),
-- What the workflow's journal and signal say, one small set each (not one aggregate per
-- workflow sorting its own few rows four times: that was an eighth of the statement).
journal_strategy AS (  -- the latest journal entry's strategy
    SELECT DISTINCT ON (r.workflow_id) r.workflow_id, r.strategy
    FROM related r
    WHERE r.event_type = 'journal.updated' AND r.strategy <> ''
    ORDER BY r.workflow_id, r.occurred_at DESC, r.seq DESC
),
signal_strategy AS (  -- the first signal's strategy …
    SELECT DISTINCT ON (r.workflow_id) r.workflow_id, r.signal_strategy AS strategy
    FROM related r
    WHERE r.event_type = 'signal.created' AND r.signal_strategy <> ''
    ORDER BY r.workflow_id, r.seq
),
signal_type AS (  -- … and its signal type
    SELECT DISTINCT ON (r.workflow_id) r.workflow_id, r.signal_type
    FROM related r
    WHERE r.event_type = 'signal.created' AND r.signal_type <> ''
    ORDER BY r.workflow_id, r.seq
),
journal_tags AS (  -- every journal tag (each once, with the close's own, below)
    SELECT r.workflow_id, array_agg(t.tag) AS tags
    FROM related r
    CROSS JOIN LATERAL unnest(r.tags) AS t (tag)
    WHERE r.event_type = 'journal.updated' AND t.tag <> ''
    GROUP BY r.workflow_id
)
SELECT c.event_id, c.symbol, c.side, c.quantity, c.entry_price, n.entered_at, pl.stop,
       coalesce(nullif(c.strategy, ''), nullif(n.strategy, ''), js.strategy, ss.strategy,
                nullif(pl.signal_type, ''), st.signal_type) AS strategy,
       ARRAY(SELECT DISTINCT x.tag  -- the close's own tags and its journal entries', each once
             FROM unnest(coalesce(c.tags, '{}') || coalesce(jt.tags, '{}')) AS x (tag)
             WHERE x.tag <> '' ORDER BY x.tag) AS tags
FROM related c
LEFT JOIN entries n ON n.workflow_id = c.workflow_id AND n.trade_id = c.trade_id
LEFT JOIN plans pl ON pl.workflow_id = c.workflow_id AND pl.plan_id = coalesce(c.plan_id, n.plan_id)
LEFT JOIN journal_strategy js ON js.workflow_id = c.workflow_id
LEFT JOIN signal_strategy ss ON ss.workflow_id = c.workflow_id
LEFT JOIN signal_type st ON st.workflow_id = c.workflow_id
LEFT JOIN journal_tags jt ON jt.workflow_id = c.workflow_id
WHERE c.event_type = 'trade.closed'

-- name: window_trades
-- The trades whose first close falls in [start, end), in close order, with
-- the facts the sweep keeps beside them (all_closes).  `stale`: the facts are
-- missing (never computed, or the close not projected yet) or may be older
-- than the workflow's events (it has events above the sweep's checkpoint, the
-- registry's swept_seq, read in this statement's own snapshot, in which the
-- facts and the checkpoint were committed together, or an event the sweep set
-- aside); the review then takes that trade's facts from trade_facts instead.
WITH candidates AS MATERIALIZED (
    SELECT c.* FROM ({all_closes}) c WHERE c.closed_at >= %(start)s
),
firsts AS MATERIALIZED (
    SELECT c.*
    FROM candidates c
    WHERE NOT EXISTS (SELECT 1 FROM closed_trades t  -- an earlier close of the same trade: this one is a repeat
                      WHERE t.workspace = %(workspace)s AND t.trade_id = c.trade_id AND t.close_seq < c.seq)
      AND NOT EXISTS (SELECT 1 FROM workflow_events e
                      WHERE e.workspace = %(workspace)s AND e.event_type = 'trade.closed'
                        AND e.seq > %(floor)s AND e.seq < c.seq AND e.event #>> '{payload,trade_id}' = c.trade_id)
),
unswept AS MATERIALIZED (  -- the checkpoint, when events wait above it (no row: the sweep has read every event)
    SELECT g.swept_seq FROM workspaces g WHERE g.workspace = %(workspace)s AND g.head_seq > g.swept_seq
),
set_aside AS MATERIALIZED (  -- workflows with an event the sweep passed over (engine/automations/runner.py
    -- poison events): its batch, review facts included, was rolled back, so they may not count it
    SELECT e.workflow_id
    FROM automation_failures a
    JOIN workflow_events e ON e.workspace = %(workspace)s AND e.seq = a.seq
    WHERE a.workspace = %(workspace)s AND a.status = 'failed'
)
SELECT f.event_id, f.trade_id, f.workflow_id, f.symbol, f.side, f.quantity, f.entry_price, f.pnl, f.closed_at,
       f.entered_at, f.stop, f.strategy, f.tags,
       NOT f.has_facts
       OR EXISTS (SELECT 1 FROM unswept u
                  JOIN workflow_events e ON e.workspace = %(workspace)s AND e.workflow_id = f.workflow_id
                                         AND e.seq > u.swept_seq)
       OR f.workflow_id IN (SELECT s.workflow_id FROM set_aside s) AS stale
FROM firsts f
ORDER BY f.closed_at, f.event_id

-- name: close_sequence
-- Every trade's first close up to %(end)s, in close order: the sample the
-- accepted rules are weighed on.
SELECT c.pnl, c.closed_at
FROM (
    SELECT DISTINCT ON (a.trade_id) a.event_id, a.pnl, a.closed_at
    FROM ({all_closes}) a
    ORDER BY a.trade_id, a.seq
) c
ORDER BY c.closed_at, c.event_id

-- name: accepted_rules
-- Coach tasks accepted before %(end)s (the first decision of each task: the
-- first one wins, engine/actions/tasks.py), with what the task said (its
-- strategy.rule.suggested, in the decision's workflow as msp writes it).
WITH decisions AS MATERIALIZED (
    SELECT *
    FROM (
        SELECT DISTINCT ON (a.event #>> '{payload,task_id}')
               a.event #>> '{payload,task_id}' AS task_id, a.event #>> '{payload,decision}' AS decision,
               coalesce((a.event #>> '{payload,decided_at}')::timestamptz, a.occurred_at) AS decided_at,
               a.event #>> '{payload,action}' AS action, a.workflow_id
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
    WHERE g.workspace = %(workspace)s AND g.workflow_id IN (SELECT workflow_id FROM decisions)
      AND g.event_type = 'strategy.rule.suggested'
      AND g.event #>> '{payload,task_id}' IN (SELECT task_id FROM decisions)
    ORDER BY g.event #>> '{payload,task_id}', g.seq
)
SELECT d.task_id, d.decided_at, coalesce(d.action, s.action) AS action, s.detail
FROM decisions d
LEFT JOIN suggestions s USING (task_id)
ORDER BY d.decided_at, d.task_id
