-- Issue 16: a desk of many traders on one server, and the path past it.
--
-- First, the one key that did not start with the workspace: rejected_lines's
-- primary key was its identity column alone.  Sharding by workspace (Citus,
-- docs/SCALING.md) needs every primary and unique key to hold the
-- distribution column, and row-level security reads the same way; the key
-- becomes (workspace, reject_id) — reject_id stays unique on its own, from
-- its identity sequence.  The index is built first (CONCURRENTLY, before the
-- transaction, when the table exists: engine/migrations.py), then swapped in.
-- squawk-ignore require-concurrent-index-creation -- msp builds it CONCURRENTLY before the transaction when rejected_lines exists (engine/migrations.py)
CREATE UNIQUE INDEX IF NOT EXISTS rejected_lines_workspace_pkey
    ON rejected_lines (workspace, reject_id);

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_constraint
                   WHERE conrelid = 'rejected_lines'::regclass AND conname = 'rejected_lines_workspace_pkey') THEN
        ALTER TABLE rejected_lines DROP CONSTRAINT IF EXISTS rejected_lines_pkey;
        ALTER TABLE rejected_lines ADD CONSTRAINT rejected_lines_workspace_pkey
            PRIMARY KEY USING INDEX rejected_lines_workspace_pkey;
    END IF;
END
$$;

-- Then `msp automate --all-workspaces` on a desk: which workspaces have
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
