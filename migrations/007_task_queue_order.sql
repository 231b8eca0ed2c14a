-- The coach queue is read "pending first, high priority first, oldest first";
-- a stored priority rank lets an index serve that order with a LIMIT instead
-- of sorting every pending task.
ALTER TABLE coach_tasks
    -- squawk-ignore prefer-bigint-over-smallint -- a rank of 0, 1 or 2
    ADD COLUMN IF NOT EXISTS priority_rank smallint
    -- squawk-ignore adding-field-with-default -- applied history, never edited: a stored generated column is added only by a rewrite of coach_tasks
    GENERATED ALWAYS AS (CASE priority WHEN 'high' THEN 0 WHEN 'medium' THEN 1 ELSE 2 END) STORED;

-- squawk-ignore require-concurrent-index-creation -- indexes priority_rank, added above under ACCESS EXCLUSIVE in this same transaction
CREATE INDEX IF NOT EXISTS coach_tasks_queue_idx
    ON coach_tasks (workspace, status, priority_rank, occurred_at, task_id);
