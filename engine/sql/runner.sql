-- The automation runner's bookkeeping (engine/automations/runner.py).

-- name: ensure_checkpoint
INSERT INTO automation_checkpoints (workspace) VALUES (%(workspace)s) ON CONFLICT DO NOTHING

-- name: read_checkpoint
SELECT last_seq FROM automation_checkpoints WHERE workspace = %(workspace)s FOR UPDATE

-- name: batch_end
-- The seq that closes the next batch of at most %(size)s events after %(lo)s,
-- how many events the batch holds, and their types (an automation none of
-- whose triggers is among them has nothing to do in it).  The batch ends
-- early, right after a coach analysis that a journal event follows in it, so
-- the analysis's journal enrichment sees the entries (their status, their
-- notes) exactly as the events before it left them, wherever batch boundaries
-- would otherwise fall.
-- `drained`: the batch holds every event visible after %(lo)s (no cut, fewer than
-- %(size)s), so a sweep ends with it instead of opening a transaction to find
-- nothing; an event committed later has its own notification or next run.
-- (A sweep handles its own analyses after the ingested events of their
-- batch, so only analyses ingested among journal events, or a sweep running
-- alongside an ingest, cut a batch.)
-- `first`: the seq of the batch's first event.  seq is one sequence for every
-- workspace, so a trader idle while the desk wrote millions of events has
-- its next events far above its checkpoint; the automations read the batch
-- as (first - 1, max], not (lo, max], because the planner sizes a seq range
-- by the whole table's seqs: (checkpoint, max] looked like every event of the
-- workspace, and the first sweep after a quiet spell scanned all its closes
-- (seconds) instead of probing the batch's.  Nothing of the workspace lies in
-- (lo, first): under the writer lock every smaller seq is visible.
WITH b AS MATERIALIZED (
    SELECT seq, event_type FROM workflow_events
    WHERE workspace = %(workspace)s AND seq > %(lo)s AND seq <= %(limit)s
    ORDER BY seq
    LIMIT %(size)s
),
cut AS (
    SELECT min(seq) AS seq FROM b
    WHERE event_type = 'coach.analysis.generated'
      AND seq < (SELECT max(seq) FROM b WHERE event_type IN ('journal.updated', 'journal.completed'))
)
SELECT max(seq), count(*), array_agg(DISTINCT event_type),
       count(*) = (SELECT count(*) FROM b) AND count(*) < %(size)s AS drained,  -- nothing visible beyond it
       min(seq) AS first
FROM b
WHERE seq <= coalesce((SELECT seq FROM cut), %(limit)s)

-- name: backlog_at_least
-- Whether at least %(n)s events wait after the checkpoint (stops counting there).
SELECT count(*) >= %(n)s FROM (
    SELECT 1 FROM workflow_events WHERE workspace = %(workspace)s AND seq > %(lo)s LIMIT %(n)s
) b

-- name: save_checkpoint
-- The checkpoint, and its mirror in the registry that finds pending workspaces
-- (migrations/017_desk_scale.sql); one statement, under the writer lock.
WITH registry AS (
    UPDATE workspaces SET swept_seq = %(hi)s WHERE workspace = %(workspace)s
)
UPDATE automation_checkpoints SET last_seq = %(hi)s, updated_at = now() WHERE workspace = %(workspace)s

-- name: workspaces
-- Every workspace with events (the registry event writers keep): a replay's list.
SELECT workspace FROM workspaces ORDER BY workspace

-- name: pending_workspaces
-- The workspaces with events after their checkpoint: head_seq (kept by the
-- event writers' trigger) above swept_seq (the checkpoint's mirror).  One
-- read of the partial index workspaces_pending_idx, which holds only those
-- workspaces: an idle desk costs an empty index scan, whatever its size.
SELECT workspace FROM workspaces WHERE head_seq > swept_seq ORDER BY workspace

-- name: in_batch
-- The one filter of a batch's events (alias e), the {in_batch} slot of every
-- automation's statements: the workspace's seqs in (lo, hi], and on a replay
-- only those that occurred at or after `since`.
e.workspace = %(workspace)s AND e.seq > %(lo)s AND e.seq <= %(hi)s
  AND (%(since)s::timestamptz IS NULL OR e.occurred_at >= %(since)s::timestamptz)

-- name: set_aside
-- The event right after the checkpoint %(lo)s, which a batch of one could not
-- apply, into the quarantine of automation failures (migrations/016_automation_failures.sql); a second
-- failure of the same event updates its reason and counts the attempt.
INSERT INTO automation_failures AS f (workspace, seq, event_id, event_type, automation, sqlstate, message)
SELECT e.workspace, e.seq, e.event_id, e.event_type, %(automation)s, %(sqlstate)s, %(message)s
FROM workflow_events e
WHERE e.workspace = %(workspace)s AND e.seq > %(lo)s
ORDER BY e.seq
LIMIT 1
ON CONFLICT (workspace, event_id) DO UPDATE
    SET automation = excluded.automation, sqlstate = excluded.sqlstate, message = excluded.message,
        attempts = f.attempts + 1, status = 'failed', failed_at = now(), resolved_at = NULL
RETURNING failure_id, seq, event_id, event_type, automation, message
