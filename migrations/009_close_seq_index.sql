-- The coach brings every stored close into its sample before each batch
-- ("closes after seq N").  With only (workspace, seq) and (workspace,
-- event_type, occurred_at) to choose from, the planner walked every close in
-- history each batch once the tail above N held many other events; this
-- small partial index answers it directly.
-- squawk-ignore require-concurrent-index-creation -- msp builds it CONCURRENTLY before the transaction when workflow_events exists (engine/migrations.py)
CREATE INDEX IF NOT EXISTS workflow_events_close_seq_idx
    ON workflow_events (workspace, seq)
    WHERE event_type = 'trade.closed';
