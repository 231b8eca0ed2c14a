-- Automation 8: the review's facts of each close, kept beside it in
-- closed_trades (engine/automations/review_facts.py).

-- name: workflows
-- The workflows whose closes get their facts computed again: those the batch
-- brought an event of a type the facts are read from (%(triggers)s:
-- engine/automations/review_facts.py TRIGGERS), and those of the first
-- %(backlog)s closes without facts (projected ahead of their batch, or stored
-- before migrations/019_review_facts.sql).
SELECT e.workflow_id
FROM workflow_events e
WHERE {in_batch} AND e.event_type = ANY(%(triggers)s)
UNION
SELECT b.workflow_id
FROM (
    SELECT c.workflow_id FROM closed_trades c
    WHERE c.workspace = %(workspace)s AND NOT c.has_facts
    ORDER BY c.close_seq
    LIMIT %(backlog)s
) b

-- name: refresh
-- The facts (engine/sql/review.sql trade_facts) of every projected close of
-- the workflows %(fact_workflows)s, written where they changed.
WITH facts AS MATERIALIZED ({trade_facts})
UPDATE closed_trades t
SET has_facts = true, side = f.side, quantity = f.quantity, entry_price = f.entry_price, entered_at = f.entered_at,
    stop = f.stop, strategy = f.strategy, tags = f.tags
FROM facts f
WHERE t.workspace = %(workspace)s AND t.close_event_id = f.event_id
  AND (NOT t.has_facts
       OR (t.side, t.quantity, t.entry_price, t.entered_at, t.stop, t.strategy, t.tags)
          IS DISTINCT FROM (f.side, f.quantity, f.entry_price, f.entered_at, f.stop, f.strategy, f.tags))
