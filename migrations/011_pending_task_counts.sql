-- How many coach tasks wait for a decision, per workspace: `msp presence`
-- reports it, and counting the pending rows grew with every task ever
-- suggested (an index scan over hundreds of thousands of entries on a year
-- of a busy desk).  Statement triggers on coach_tasks keep the count from
-- the rows each statement inserted, changed or removed.
CREATE TABLE IF NOT EXISTS pending_task_counts (
    workspace text   NOT NULL,
    pending   bigint NOT NULL,
    CONSTRAINT pending_task_counts_pkey PRIMARY KEY (workspace)
);

-- Pending rows a statement added count up, pending rows it changed or removed
-- count down (a workspace without a row yet gets one either way).
CREATE OR REPLACE FUNCTION msp_pending_task_counts_changed() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        DELETE FROM pending_task_counts;
        RETURN NULL;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO pending_task_counts AS c (workspace, pending)
        SELECT workspace, count(*) FROM new_tasks WHERE status = 'pending' GROUP BY workspace
        ON CONFLICT (workspace) DO UPDATE SET pending = c.pending + excluded.pending;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        INSERT INTO pending_task_counts AS c (workspace, pending)
        SELECT workspace, -count(*) FROM old_tasks WHERE status = 'pending' GROUP BY workspace
        ON CONFLICT (workspace) DO UPDATE SET pending = c.pending + excluded.pending;
    END IF;
    RETURN NULL;
END
$fn$;

CREATE OR REPLACE TRIGGER coach_tasks_pending_inserted
    AFTER INSERT ON coach_tasks
    REFERENCING NEW TABLE AS new_tasks
    FOR EACH STATEMENT EXECUTE FUNCTION msp_pending_task_counts_changed();

CREATE OR REPLACE TRIGGER coach_tasks_pending_updated
    AFTER UPDATE ON coach_tasks
    REFERENCING OLD TABLE AS old_tasks NEW TABLE AS new_tasks
    FOR EACH STATEMENT EXECUTE FUNCTION msp_pending_task_counts_changed();

CREATE OR REPLACE TRIGGER coach_tasks_pending_deleted
    AFTER DELETE ON coach_tasks
    REFERENCING OLD TABLE AS old_tasks
    FOR EACH STATEMENT EXECUTE FUNCTION msp_pending_task_counts_changed();

CREATE OR REPLACE TRIGGER coach_tasks_pending_truncated
    AFTER TRUNCATE ON coach_tasks
    FOR EACH STATEMENT EXECUTE FUNCTION msp_pending_task_counts_changed();

-- The tasks stored before this migration (the triggers, created first, hold
-- off writers until it commits; running it again recounts the same).
INSERT INTO pending_task_counts AS c (workspace, pending)
SELECT workspace, count(*) FILTER (WHERE status = 'pending') FROM coach_tasks GROUP BY workspace
ON CONFLICT (workspace) DO UPDATE SET pending = excluded.pending;

-- The same wall as every other workspace table (migrations/010_workflow_stages.sql).
SELECT msp_wall_off('pending_task_counts');
