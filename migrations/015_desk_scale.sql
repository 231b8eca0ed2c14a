-- `msp automate --all-workspaces` on a desk (issue 16): which workspaces have
-- events the runner has not swept, in one indexed query whose cost follows the
-- work, not the number of tenants.  The registry of workspaces (the one table
-- read across workspaces, migrations/008_row_level_security.sql) keeps two
-- seqs per workspace: head_seq, the highest seq stored (kept by a statement
-- trigger on workflow_events, so every writer — ingest's COPY, the
-- automations, a decision — moves it), and swept_seq, the runner's checkpoint
-- (moved in the statement that saves it, engine/sql/runner.sql).  Both move
-- under the workspace's event-writer lock, so a workspace is pending exactly
-- when head_seq > swept_seq, and the partial index below holds only the
-- pending workspaces: an idle desk's query reads an empty index.
ALTER TABLE workspaces ADD COLUMN IF NOT EXISTS head_seq bigint NOT NULL DEFAULT 0;

ALTER TABLE workspaces ADD COLUMN IF NOT EXISTS swept_seq bigint NOT NULL DEFAULT 0;

-- One index probe per registered workspace (the registry is small; the
-- events' primary key is (workspace, seq)).
UPDATE workspaces w
SET head_seq = coalesce((SELECT max(e.seq) FROM workflow_events e WHERE e.workspace = w.workspace), 0),
    swept_seq = coalesce((SELECT c.last_seq FROM automation_checkpoints c WHERE c.workspace = w.workspace), 0);

-- squawk-ignore require-concurrent-index-creation -- the registry holds one row per workspace; its ALTER TABLE above holds ACCESS EXCLUSIVE in this transaction
CREATE INDEX IF NOT EXISTS workspaces_pending_idx
    ON workspaces (workspace)
    WHERE head_seq > swept_seq;

-- The event writers move head_seq (msp_app may update only the two seqs; the
-- rows it inserts into workflow_events are its own workspace's, by the wall).
CREATE OR REPLACE FUNCTION msp_workflow_events_head() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
    INSERT INTO workspaces AS w (workspace, head_seq)
    SELECT n.workspace, max(n.seq) FROM new_events n GROUP BY n.workspace
    ON CONFLICT (workspace) DO UPDATE SET head_seq = greatest(w.head_seq, excluded.head_seq);
    RETURN NULL;
END
$fn$;

CREATE OR REPLACE TRIGGER workflow_events_head
    AFTER INSERT ON workflow_events
    REFERENCING NEW TABLE AS new_events
    FOR EACH STATEMENT EXECUTE FUNCTION msp_workflow_events_head();

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'msp_app') THEN
        EXECUTE 'GRANT UPDATE (head_seq, swept_seq) ON workspaces TO msp_app';
    END IF;
END
$$;

ANALYZE workspaces;
