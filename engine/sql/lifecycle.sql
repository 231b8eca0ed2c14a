-- Automation 4: the trade and journal lifecycle, and the operator context.
-- trade.executed opens a position, trade.updated moves its last price and
-- unrealized P&L, trade.closed closes it; journal.updated upserts an entry,
-- journal.completed completes it.  Within a batch the lifecycle order is
-- applied (open, then quote, then close), so the result does not depend on
-- how events fall into batches.

-- name: open_positions
INSERT INTO positions (workspace, trade_id, symbol, side, quantity, entry_price, plan_id, workflow_id, opened_at)
SELECT DISTINCT ON (e.event #>> '{payload,trade_id}')
       %(workspace)s, e.event #>> '{payload,trade_id}', e.event #>> '{payload,symbol}',
       e.event #>> '{payload,execution,side}',
       (e.event #>> '{payload,execution,quantity}')::numeric,
       (e.event #>> '{payload,execution,entry_price}')::numeric,
       e.event #>> '{payload,plan_id}', e.workflow_id, e.occurred_at
FROM workflow_events e
WHERE {in_batch}
  AND e.event_type = 'trade.executed'
ORDER BY e.event #>> '{payload,trade_id}', e.seq
ON CONFLICT (workspace, trade_id) DO NOTHING

-- name: quote_positions
UPDATE positions p
SET last_price = q.price,
    quoted_at = q.quoted_at,
    unrealized_pnl = (q.price - p.entry_price) * p.quantity * CASE WHEN p.side = 'SHORT' THEN -1 ELSE 1 END
FROM (
    SELECT DISTINCT ON (e.event #>> '{payload,trade_id}')
           e.event #>> '{payload,trade_id}' AS trade_id,
           (e.event #>> '{payload,live,quote_price}')::numeric AS price,
           coalesce((e.event #>> '{payload,live,quote_at}')::timestamptz, e.occurred_at) AS quoted_at
    FROM workflow_events e
    WHERE {in_batch}
      AND e.event_type = 'trade.updated'
      AND e.event #> '{payload,live,quote_price}' IS NOT NULL  -- v2 may carry a scale-in and no quote
    ORDER BY e.event #>> '{payload,trade_id}', 3 DESC, e.seq DESC
) q
WHERE p.workspace = %(workspace)s AND p.trade_id = q.trade_id AND p.status = 'open'
  AND (p.quoted_at IS NULL OR q.quoted_at >= p.quoted_at)

-- name: resize_positions
-- trade.updated v2 with a position (a fill that added to it, from `msp import fills`):
-- the open position takes the newest quantity and average entry price.
UPDATE positions p
SET quantity = r.quantity, entry_price = r.entry_price
FROM (
    SELECT DISTINCT ON (e.event #>> '{payload,trade_id}')
           e.event #>> '{payload,trade_id}' AS trade_id,
           (e.event #>> '{payload,position,quantity}')::numeric AS quantity,
           (e.event #>> '{payload,position,average_entry_price}')::numeric AS entry_price
    FROM workflow_events e
    WHERE {in_batch}
      AND e.event_type = 'trade.updated' AND e.event_version >= 2  -- v1 never validated a position
      AND e.event #> '{payload,position,quantity}' IS NOT NULL
    ORDER BY e.event #>> '{payload,trade_id}', e.occurred_at DESC, e.seq DESC
) r
WHERE p.workspace = %(workspace)s AND p.trade_id = r.trade_id AND p.status = 'open'

-- name: close_positions
INSERT INTO positions (workspace, trade_id, symbol, side, quantity, entry_price, close_price, realized_pnl,
                       status, plan_id, workflow_id, opened_at, closed_at)
SELECT DISTINCT ON (e.event #>> '{payload,trade_id}')
       %(workspace)s, e.event #>> '{payload,trade_id}', e.event #>> '{payload,symbol}',
       e.event #>> '{payload,execution,side}',
       (e.event #>> '{payload,execution,quantity}')::numeric,
       (e.event #>> '{payload,execution,entry_price}')::numeric,
       (e.event #>> '{payload,execution,close_price}')::numeric,
       (e.event #>> '{payload,realized_pnl}')::numeric,
       'closed', e.event #>> '{payload,plan_id}', e.workflow_id, e.occurred_at,
       (e.event #>> '{payload,closed_at}')::timestamptz
FROM workflow_events e
WHERE {in_batch}
  AND e.event_type = 'trade.closed'
ORDER BY e.event #>> '{payload,trade_id}', e.seq
ON CONFLICT (workspace, trade_id) DO UPDATE
SET status = 'closed', close_price = excluded.close_price, realized_pnl = excluded.realized_pnl,
    closed_at = excluded.closed_at, unrealized_pnl = NULL,
    -- what the close closed (after partial exits, the remainder at its FIFO entry)
    quantity = excluded.quantity, entry_price = excluded.entry_price
WHERE positions.status = 'open'

-- name: upsert_journal
INSERT INTO journal_entries (workspace, journal_id, origin, symbol, side, workflow_id, plan_id, strategy,
                             entry_price, exit_price, tags, notes, source_event_id, occurred_at, updated_at)
SELECT DISTINCT ON (e.event #>> '{payload,journal_id}')
       %(workspace)s, e.event #>> '{payload,journal_id}', 'journal',
       e.event #>> '{payload,symbol}', e.event #>> '{payload,side}', e.workflow_id,
       e.event #>> '{payload,plan_id}', e.event #>> '{payload,strategy}',
       (e.event #>> '{payload,entry_price}')::numeric, (e.event #>> '{payload,exit_price}')::numeric,
       coalesce(ARRAY(SELECT jsonb_array_elements_text(
                          CASE WHEN jsonb_typeof(e.event #> '{payload,tags}') = 'array'
                               THEN e.event #> '{payload,tags}' ELSE '[]' END)), '{}'),
       coalesce(e.event #>> '{payload,notes}', ''),
       e.event_id, e.occurred_at, e.occurred_at
FROM workflow_events e
WHERE {in_batch}
  AND e.event_type = 'journal.updated'
ORDER BY e.event #>> '{payload,journal_id}', e.occurred_at DESC, e.seq DESC
ON CONFLICT (workspace, journal_id) DO UPDATE
SET symbol = coalesce(excluded.symbol, journal_entries.symbol),
    side = coalesce(excluded.side, journal_entries.side),
    plan_id = coalesce(excluded.plan_id, journal_entries.plan_id),
    strategy = coalesce(excluded.strategy, journal_entries.strategy),
    entry_price = coalesce(excluded.entry_price, journal_entries.entry_price),
    exit_price = coalesce(excluded.exit_price, journal_entries.exit_price),
    tags = journal_entries.tags || ARRAY(SELECT t FROM unnest(excluded.tags) AS t
                                         WHERE t <> ALL (journal_entries.tags)),
    notes = CASE WHEN excluded.notes = '' OR position(excluded.notes IN journal_entries.notes) > 0
                 THEN journal_entries.notes
                 ELSE concat_ws(E'\n', nullif(journal_entries.notes, ''), excluded.notes) END,
    updated_at = greatest(journal_entries.updated_at, excluded.updated_at)

-- name: complete_journal
INSERT INTO journal_entries (workspace, journal_id, origin, status, symbol, workflow_id, outcome, realized_pnl,
                             closed_at, source_event_id, occurred_at, updated_at)
SELECT DISTINCT ON (e.event #>> '{payload,journal_id}')
       %(workspace)s, e.event #>> '{payload,journal_id}', 'journal', 'completed',
       e.event #>> '{payload,symbol}', e.workflow_id,
       e.event #>> '{payload,outcome}', (e.event #>> '{payload,realized_pnl}')::numeric,
       (e.event #>> '{payload,closed_at}')::timestamptz, e.event_id, e.occurred_at, e.occurred_at
FROM workflow_events e
WHERE {in_batch}
  AND e.event_type = 'journal.completed'
ORDER BY e.event #>> '{payload,journal_id}', e.occurred_at DESC, e.seq DESC
ON CONFLICT (workspace, journal_id) DO UPDATE
SET status = 'completed', outcome = excluded.outcome, realized_pnl = excluded.realized_pnl,
    closed_at = excluded.closed_at, updated_at = greatest(journal_entries.updated_at, excluded.updated_at)

-- name: operator_context
-- operator.context.updated sets the fields it carries on the operator state.
INSERT INTO operator_state AS s (workspace, focus, active_candidates, risk_environment, attention_score, mode,
                                 cognitive_load, timezone, updated_at)
SELECT %(workspace)s, p ->> 'focus',
       CASE WHEN jsonb_typeof(p -> 'active_candidates') = 'array' THEN p -> 'active_candidates' ELSE '[]' END,
       p ->> 'risk_environment',
       least(100, greatest(0, (CASE WHEN jsonb_typeof(p -> 'attention_score') = 'number'
                                    THEN (p ->> 'attention_score')::numeric END))),
       p ->> 'mode',
       least(100, greatest(0, (CASE WHEN jsonb_typeof(p -> 'cognitive_load') = 'number'
                                    THEN (p ->> 'cognitive_load')::numeric END))),
       CASE WHEN (p ->> 'timezone') IN (SELECT name FROM pg_timezone_names) THEN p ->> 'timezone' END,
       occurred_at
FROM (
    SELECT e.event -> 'payload' AS p, e.occurred_at
    FROM workflow_events e
    WHERE {in_batch}
      AND e.event_type = 'operator.context.updated'
    ORDER BY e.occurred_at DESC, e.seq DESC
    LIMIT 1
) latest
ON CONFLICT (workspace) DO UPDATE
SET focus = coalesce(excluded.focus, s.focus),
    active_candidates = CASE WHEN excluded.active_candidates = '[]' THEN s.active_candidates
                             ELSE excluded.active_candidates END,
    risk_environment = coalesce(excluded.risk_environment, s.risk_environment),
    attention_score = coalesce(excluded.attention_score, s.attention_score),
    mode = coalesce(excluded.mode, s.mode),
    cognitive_load = coalesce(excluded.cognitive_load, s.cognitive_load),
    timezone = coalesce(excluded.timezone, s.timezone),
    updated_at = excluded.updated_at
WHERE excluded.updated_at >= s.updated_at
