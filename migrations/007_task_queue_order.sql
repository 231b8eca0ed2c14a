-- The coach queue is read "pending first, high priority first, oldest first";
-- a stored priority rank lets an index serve that order with a LIMIT instead
-- of sorting every pending task.
ALTER TABLE coach_tasks
    ADD COLUMN IF NOT EXISTS priority_rank smallint
    GENERATED ALWAYS AS (CASE priority WHEN 'high' THEN 0 WHEN 'medium' THEN 1 ELSE 2 END) STORED;

CREATE INDEX IF NOT EXISTS coach_tasks_queue_idx
    ON coach_tasks (workspace, status, priority_rank, occurred_at, task_id);
