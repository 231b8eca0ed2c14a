-- Automation 4: the trade and journal lifecycle, and the operator context.
-- trade.executed opens a position, trade.updated moves its last price and
-- unrealized P&L, trade.closed closes it; journal.updated upserts an entry,
-- journal.completed completes it.  Within a batch each statement applies
-- the batch's events as a one-by-one sweep would (open, quotes in between,
-- close; updates folded in seq order), so the result does not depend on how
-- events fall into batches.

-- name: open_positions
-- The first execution of each trade opens it — unless the batch closed the
-- trade before that (a close delivered first opens and closes it, as a
-- one-by-one sweep would).
WITH closes AS MATERIALIZED (  -- the first close of each trade in the batch
    SELECT e.event #>> '{payload,trade_id}' AS trade_id, min(e.seq) AS seq
    FROM workflow_events e
    WHERE {in_batch} AND e.event_type = 'trade.closed'
    GROUP BY 1
)
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
  AND NOT EXISTS (SELECT 1 FROM closes c WHERE c.trade_id = e.event #>> '{payload,trade_id}' AND c.seq < e.seq)
ORDER BY e.event #>> '{payload,trade_id}', e.seq
ON CONFLICT (workspace, trade_id) DO NOTHING

-- name: quote_positions
-- The newest quote of each open position, counting only the quotes a one-by-one
-- sweep would have applied: after the batch's execution that opened the trade
-- and before the batch's close of it.
WITH marks AS MATERIALIZED (
    SELECT e.event #>> '{payload,trade_id}' AS trade_id,
           min(e.seq) FILTER (WHERE e.event_type = 'trade.executed') AS opened_seq,
           min(e.seq) FILTER (WHERE e.event_type = 'trade.closed') AS closed_seq
    FROM workflow_events e
    WHERE {in_batch}
      AND e.event_type IN ('trade.executed', 'trade.closed')
    GROUP BY 1
)
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
    LEFT JOIN marks m ON m.trade_id = e.event #>> '{payload,trade_id}'
    WHERE {in_batch}
      AND e.event_type = 'trade.updated'
      AND e.event #> '{payload,live,quote_price}' IS NOT NULL  -- v2 may carry a scale-in and no quote
      AND e.seq > coalesce(m.opened_seq, 0) AND e.seq < coalesce(m.closed_seq, 9223372036854775807)
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

-- name: journal_events
-- journal.updated upserts an entry, journal.completed completes it (creating it
-- when it is the entry's first event).  The batch's events of each entry are
-- folded in seq order from the entry as stored, exactly as if each were swept
-- on its own: a field an update carries replaces the entry's, one it does not
-- carry is kept; tags are added once, in order; a note is appended unless the
-- entry's notes already hold it; a completion sets the outcome; the entry is
-- dated by the event that created it.
WITH RECURSIVE events AS MATERIALIZED (
    SELECT u.*,
           row_number() OVER (PARTITION BY u.journal_id ORDER BY u.seq) AS n,
           count(*) OVER (PARTITION BY u.journal_id) AS last
    FROM (
        SELECT e.event #>> '{payload,journal_id}' AS journal_id, e.event_type = 'journal.completed' AS completes,
               e.seq, e.event_id, e.workflow_id, e.occurred_at,
               e.event #>> '{payload,symbol}' AS symbol, e.event #>> '{payload,side}' AS side,
               e.event #>> '{payload,plan_id}' AS plan_id, e.event #>> '{payload,strategy}' AS strategy,
               (e.event #>> '{payload,entry_price}')::numeric AS entry_price,
               (e.event #>> '{payload,exit_price}')::numeric AS exit_price,
               coalesce(ARRAY(SELECT jsonb_array_elements_text(
                                  CASE WHEN jsonb_typeof(e.event #> '{payload,tags}') = 'array'
                                       THEN e.event #> '{payload,tags}' ELSE '[]' END)), '{}') AS tags,
               coalesce(e.event #>> '{payload,notes}', '') AS notes,
               e.event #>> '{payload,outcome}' AS outcome,
               (e.event #>> '{payload,realized_pnl}')::numeric AS realized_pnl,
               (e.event #>> '{payload,closed_at}')::timestamptz AS closed_at
        FROM workflow_events e
        WHERE {in_batch}
          AND e.event_type IN ('journal.updated', 'journal.completed')
        OFFSET 0  -- the payload's fields first: the window sorts these, not whole events
    ) u
),
folded (journal_id, n, last, status, symbol, side, workflow_id, plan_id, strategy, entry_price,
        exit_price, outcome, realized_pnl, closed_at, tags, notes, source_event_id, occurred_at, updated_at) AS (
    -- (status NULL: no entry yet)
    SELECT d.journal_id, 0::bigint, d.last, j.status, j.symbol, j.side, j.workflow_id,
           j.plan_id, j.strategy, j.entry_price, j.exit_price, j.outcome, j.realized_pnl, j.closed_at,
           coalesce(j.tags, '{}'), coalesce(j.notes, ''), j.source_event_id, j.occurred_at, j.updated_at
    FROM (SELECT journal_id, last FROM events WHERE n = 1) d
    LEFT JOIN journal_entries j ON j.workspace = %(workspace)s AND j.journal_id = d.journal_id
    UNION ALL
    SELECT f.journal_id, u.n, f.last,
           CASE WHEN u.completes THEN 'completed' ELSE coalesce(f.status, 'open') END,
           CASE WHEN f.status IS NULL OR NOT u.completes THEN coalesce(u.symbol, f.symbol) ELSE f.symbol END,
           CASE WHEN u.completes THEN f.side ELSE coalesce(u.side, f.side) END,
           CASE WHEN f.status IS NULL THEN u.workflow_id ELSE f.workflow_id END,
           CASE WHEN u.completes THEN f.plan_id ELSE coalesce(u.plan_id, f.plan_id) END,
           CASE WHEN u.completes THEN f.strategy ELSE coalesce(u.strategy, f.strategy) END,
           CASE WHEN u.completes THEN f.entry_price ELSE coalesce(u.entry_price, f.entry_price) END,
           CASE WHEN u.completes THEN f.exit_price ELSE coalesce(u.exit_price, f.exit_price) END,
           CASE WHEN u.completes THEN u.outcome ELSE f.outcome END,
           CASE WHEN u.completes THEN u.realized_pnl ELSE f.realized_pnl END,
           CASE WHEN u.completes THEN u.closed_at ELSE f.closed_at END,
           CASE WHEN u.completes THEN f.tags ELSE f.tags || ARRAY(SELECT t FROM unnest(u.tags) AS t
                                                                  WHERE t <> ALL (f.tags)) END,
           CASE WHEN u.completes OR u.notes = '' OR position(u.notes IN f.notes) > 0 THEN f.notes
                ELSE concat_ws(E'\n', nullif(f.notes, ''), u.notes) END,
           CASE WHEN f.status IS NULL THEN u.event_id ELSE f.source_event_id END,  -- the entry's first event
           CASE WHEN f.status IS NULL THEN u.occurred_at ELSE f.occurred_at END,
           greatest(f.updated_at, u.occurred_at)
    FROM folded f JOIN events u ON u.journal_id = f.journal_id AND u.n = f.n + 1
)
INSERT INTO journal_entries AS j (workspace, journal_id, origin, status, symbol, side, workflow_id, plan_id,
                                  strategy, entry_price, exit_price, outcome, realized_pnl, closed_at, tags, notes,
                                  source_event_id, occurred_at, updated_at)
SELECT %(workspace)s, f.journal_id, 'journal', f.status, f.symbol, f.side, f.workflow_id, f.plan_id, f.strategy,
       f.entry_price, f.exit_price, f.outcome, f.realized_pnl, f.closed_at, f.tags, f.notes, f.source_event_id,
       f.occurred_at, f.updated_at
FROM folded f
WHERE f.n = f.last
ON CONFLICT (workspace, journal_id) DO UPDATE  -- the fold started from the stored entry
SET status = excluded.status, symbol = excluded.symbol, side = excluded.side, plan_id = excluded.plan_id,
    strategy = excluded.strategy, entry_price = excluded.entry_price, exit_price = excluded.exit_price,
    outcome = excluded.outcome, realized_pnl = excluded.realized_pnl, closed_at = excluded.closed_at,
    tags = excluded.tags, notes = excluded.notes, updated_at = excluded.updated_at

-- name: operator_context
-- operator.context.updated sets the fields it carries on the operator state;
-- a field it does not carry keeps its value.  The batch's events are folded in
-- seq order exactly as if each were swept on its own: an event applies when it
-- is not older than the state (its updated_at, or any earlier event of the
-- batch), and each field takes the value of the last applied event carrying
-- it — so the result never depends on where batch boundaries fall.
WITH batch AS MATERIALIZED (
    SELECT e.seq, e.occurred_at, e.event -> 'payload' AS p,
           max(e.occurred_at) OVER (ORDER BY e.seq ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS before
    FROM workflow_events e
    WHERE {in_batch}
      AND e.event_type = 'operator.context.updated'
),
applied AS MATERIALIZED (
    SELECT b.seq, b.occurred_at,
           b.p ->> 'focus' AS focus,
           CASE WHEN jsonb_typeof(b.p -> 'active_candidates') = 'array' AND b.p -> 'active_candidates' <> '[]'
                THEN b.p -> 'active_candidates' END AS active_candidates,
           b.p ->> 'risk_environment' AS risk_environment,
           least(100, greatest(0, CASE WHEN jsonb_typeof(b.p -> 'attention_score') = 'number'
                                       THEN (b.p ->> 'attention_score')::numeric END)) AS attention_score,
           b.p ->> 'mode' AS mode,
           least(100, greatest(0, CASE WHEN jsonb_typeof(b.p -> 'cognitive_load') = 'number'
                                       THEN (b.p ->> 'cognitive_load')::numeric END)) AS cognitive_load,
           CASE WHEN (b.p ->> 'timezone') IN (SELECT name FROM pg_timezone_names) THEN b.p ->> 'timezone' END
               AS timezone
    FROM batch b
    LEFT JOIN operator_state s ON s.workspace = %(workspace)s
    WHERE b.occurred_at >= coalesce(greatest(s.updated_at, b.before), '-infinity')  -- greatest() skips NULLs
)
INSERT INTO operator_state AS s (workspace, focus, active_candidates, risk_environment, attention_score, mode,
                                 cognitive_load, timezone, updated_at)
SELECT %(workspace)s,
       (SELECT a.focus FROM applied a WHERE a.focus IS NOT NULL ORDER BY a.seq DESC LIMIT 1),
       coalesce((SELECT a.active_candidates FROM applied a WHERE a.active_candidates IS NOT NULL
                 ORDER BY a.seq DESC LIMIT 1), '[]'),
       (SELECT a.risk_environment FROM applied a WHERE a.risk_environment IS NOT NULL ORDER BY a.seq DESC LIMIT 1),
       (SELECT a.attention_score FROM applied a WHERE a.attention_score IS NOT NULL ORDER BY a.seq DESC LIMIT 1),
       (SELECT a.mode FROM applied a WHERE a.mode IS NOT NULL ORDER BY a.seq DESC LIMIT 1),
       (SELECT a.cognitive_load FROM applied a WHERE a.cognitive_load IS NOT NULL ORDER BY a.seq DESC LIMIT 1),
       (SELECT a.timezone FROM applied a WHERE a.timezone IS NOT NULL ORDER BY a.seq DESC LIMIT 1),
       max(occurred_at)
FROM applied
HAVING count(*) > 0
ON CONFLICT (workspace) DO UPDATE
SET focus = coalesce(excluded.focus, s.focus),
    active_candidates = CASE WHEN excluded.active_candidates = '[]' THEN s.active_candidates
                             ELSE excluded.active_candidates END,
    risk_environment = coalesce(excluded.risk_environment, s.risk_environment),
    attention_score = coalesce(excluded.attention_score, s.attention_score),
    mode = coalesce(excluded.mode, s.mode),
    cognitive_load = coalesce(excluded.cognitive_load, s.cognitive_load),
    timezone = coalesce(excluded.timezone, s.timezone),
    updated_at = greatest(s.updated_at, excluded.updated_at)
