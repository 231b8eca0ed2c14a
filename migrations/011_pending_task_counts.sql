-- How many coach tasks wait for a decision, per workspace: `msp presence`
-- reports it, and counting the pending rows grew with every task ever
-- suggested (an index scan over hundreds of thousands of entries on a year
-- of a busy desk).  Statement triggers on coach_tasks keep the count from
-- the rows each statement inserted or changed; tasks are never deleted.
CREATE TABLE IF NOT EXISTS pending_task_counts (
    workspace text   NOT NULL,
    pending   bigint NOT NULL,
    CONSTRAINT pending_task_counts_pkey PRIMARY KEY (workspace)
);

CREATE OR REPLACE FUNCTION msp_pending_task_counts_inserted() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
    INSERT INTO pending_task_counts AS c (workspace, pending)
    SELECT workspace, count(*) FROM new_tasks WHERE status = 'pending' GROUP BY workspace
    ON CONFLICT (workspace) DO UPDATE SET pending = c.pending + excluded.pending;
    RETURN NULL;
END
$fn$;

CREATE OR REPLACE FUNCTION msp_pending_task_counts_updated() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
    UPDATE pending_task_counts AS c SET pending = c.pending + d.delta
    FROM (SELECT workspace, sum(delta) AS delta
          FROM (SELECT workspace, 1 AS delta FROM new_tasks WHERE status = 'pending'
                UNION ALL
                SELECT workspace, -1 FROM old_tasks WHERE status = 'pending') AS changes
          GROUP BY workspace) AS d
    WHERE c.workspace = d.workspace AND d.delta <> 0;
    RETURN NULL;
END
$fn$;

CREATE OR REPLACE TRIGGER coach_tasks_pending_inserted
    AFTER INSERT ON coach_tasks
    REFERENCING NEW TABLE AS new_tasks
    FOR EACH STATEMENT EXECUTE FUNCTION msp_pending_task_counts_inserted();

CREATE OR REPLACE TRIGGER coach_tasks_pending_updated
    AFTER UPDATE ON coach_tasks
    REFERENCING OLD TABLE AS old_tasks NEW TABLE AS new_tasks
    FOR EACH STATEMENT EXECUTE FUNCTION msp_pending_task_counts_updated();

-- The tasks stored before this migration (the triggers, created first, hold
-- off writers until it commits; running it again recounts the same).
INSERT INTO pending_task_counts AS c (workspace, pending)
SELECT workspace, count(*) FILTER (WHERE status = 'pending') FROM coach_tasks GROUP BY workspace
ON CONFLICT (workspace) DO UPDATE SET pending = excluded.pending;

-- The same wall as every other workspace table (migrations/010_workflow_stages.sql).
SELECT msp_wall_off('pending_task_counts');
