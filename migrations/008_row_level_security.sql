-- Row-level security as a second wall between workspaces (DESIGN §2).
--
-- Every workspace table gets a policy on the transaction's `msp.workspace`
-- setting.  msp runs each workspace transaction as the role msp_app (a
-- transaction-local SET ROLE), which is neither owner nor superuser, so the
-- policy binds it: a query that forgot its workspace filter still sees only
-- its own workspace.  The policies are not FORCEd: ingest's COPY (which
-- PostgreSQL refuses under row-level security) runs as the owning login role,
-- writing rows whose workspace msp sets itself.  Where the migrating role may
-- not create roles, there is no app role and `msp doctor` says the wall is off.

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'msp_app') THEN
        CREATE ROLE msp_app NOLOGIN NOSUPERUSER NOINHERIT NOCREATEDB NOCREATEROLE NOBYPASSRLS;
    END IF;
EXCEPTION
    WHEN duplicate_object OR unique_violation THEN NULL;  -- another database's migration made it first
    WHEN insufficient_privilege THEN RAISE NOTICE 'msp: may not create role msp_app; relying on forced policies';
END
$$;

-- The migrating (login) user must be able to SET ROLE msp_app.  On 16+ a role
-- created by a non-superuser is granted to its creator without SET, so the
-- grant is made explicitly (a repeat grant is a no-op).
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'msp_app')
       AND NOT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
        EXECUTE format('GRANT msp_app TO %I', current_user);
    END IF;
EXCEPTION
    WHEN insufficient_privilege OR invalid_grant_operation THEN
        RAISE NOTICE 'msp: may not grant msp_app to %', current_user;
END
$$;

-- The one table without a workspace wall: the names of the workspaces, for
-- `msp automate --all-workspaces`.  It holds nothing else.
CREATE TABLE IF NOT EXISTS workspaces (
    workspace  text        PRIMARY KEY,
    created_at timestamptz NOT NULL DEFAULT now()
);

INSERT INTO workspaces (workspace)
SELECT DISTINCT workspace FROM workflow_events
ON CONFLICT DO NOTHING;

-- Under row-level security only leakproof operators may be index conditions,
-- and jsonb's #>> is not: the plan-per-candidate look-up moves from an
-- expression index to a generated column.
ALTER TABLE workflow_events
    ADD COLUMN IF NOT EXISTS plan_candidate_id text
    -- squawk-ignore adding-field-with-default -- applied history, never edited: rewrites workflow_events under ACCESS EXCLUSIVE (statement_timeout bounds it)
    GENERATED ALWAYS AS (CASE WHEN event_type = 'trade.plan.created'
                              THEN event #>> '{payload,links,candidate_id}' END) STORED;

-- squawk-ignore require-concurrent-index-creation -- indexes plan_candidate_id, added above under ACCESS EXCLUSIVE in this same transaction
CREATE INDEX IF NOT EXISTS workflow_events_plan_candidate_id_idx
    ON workflow_events (workspace, plan_candidate_id)
    WHERE plan_candidate_id IS NOT NULL;

-- squawk-ignore require-concurrent-index-deletion -- the ALTER TABLE above already holds ACCESS EXCLUSIVE on workflow_events in this transaction
DROP INDEX IF EXISTS workflow_events_plan_candidate_idx;

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['workflow_events', 'rejected_lines', 'automation_checkpoints', 'positions',
                             'closed_trades', 'alerts', 'journal_entries', 'coach_analyses', 'coach_tasks',
                             'journal_enrichments', 'operator_state'] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        IF NOT EXISTS (SELECT 1 FROM pg_policies
                       WHERE schemaname = current_schema() AND tablename = t
                         AND policyname = 'msp_workspace_wall') THEN
            EXECUTE format($p$CREATE POLICY msp_workspace_wall ON %I
                              USING (workspace = current_setting('msp.workspace', true))
                              WITH CHECK (workspace = current_setting('msp.workspace', true))$p$, t);
        END IF;
        IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'msp_app') THEN
            EXECUTE format('GRANT SELECT, INSERT, UPDATE ON %I TO msp_app', t);
        END IF;
    END LOOP;
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'msp_app') THEN
        EXECUTE 'GRANT SELECT, INSERT ON workspaces TO msp_app';
        EXECUTE format('GRANT USAGE ON SCHEMA %I TO msp_app', current_schema());
    END IF;
END
$$;

-- The table was rewritten above: fresh statistics for the planner.
ANALYZE workflow_events;
