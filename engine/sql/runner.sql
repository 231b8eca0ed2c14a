-- The automation runner's bookkeeping (engine/automations/runner.py).

-- name: ensure_checkpoint
INSERT INTO automation_checkpoints (workspace) VALUES (%(workspace)s) ON CONFLICT DO NOTHING

-- name: read_checkpoint
SELECT last_seq FROM automation_checkpoints WHERE workspace = %(workspace)s FOR UPDATE

-- name: batch_end
-- The seq that closes the next batch of at most %(size)s events after %(lo)s,
-- and how many events the batch holds.  The batch ends early, right after a
-- coach analysis followed in it by an event that changes what the analysis's
-- journal enrichment looks at (a journal entry, a plan's draft, a position),
-- so the enrichment sees exactly the events before it, wherever batch
-- boundaries would otherwise fall (msp's own analyses follow the events of
-- their batch, so they seldom cut one).
WITH b AS MATERIALIZED (
    SELECT seq, event_type FROM workflow_events
    WHERE workspace = %(workspace)s AND seq > %(lo)s AND seq <= %(limit)s
    ORDER BY seq
    LIMIT %(size)s
),
cut AS (
    SELECT min(seq) AS seq FROM b
    WHERE event_type = 'coach.analysis.generated'
      AND seq < (SELECT max(seq) FROM b WHERE event_type IN ('journal.updated', 'journal.completed',
                                                             'trade.plan.created', 'trade.executed',
                                                             'trade.closed'))
)
SELECT max(seq), count(*) FROM b WHERE seq <= coalesce((SELECT seq FROM cut), %(limit)s)

-- name: backlog_at_least
-- Whether at least %(n)s events wait after the checkpoint (stops counting there).
SELECT count(*) >= %(n)s FROM (
    SELECT 1 FROM workflow_events WHERE workspace = %(workspace)s AND seq > %(lo)s LIMIT %(n)s
) b

-- name: save_checkpoint
UPDATE automation_checkpoints SET last_seq = %(hi)s, updated_at = now() WHERE workspace = %(workspace)s

-- name: workspaces
-- Every workspace with events (the registry event writers keep).
SELECT workspace FROM workspaces ORDER BY workspace
