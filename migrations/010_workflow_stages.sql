-- Which stages of the loop each workflow has reached, and when its loop
-- activity began and last moved: `msp conversion --cohort` reads this table
-- (one narrow row per workflow) instead of every event of every workflow in
-- its window.  A statement-level trigger keeps it in step with every writer
-- of workflow_events (ingest's COPY, the automations, task decisions, alerts)
-- from the rows each statement actually inserted, so a duplicate, which is
-- never inserted, never counts.
CREATE TABLE IF NOT EXISTS workflow_stages (
    workspace       text        NOT NULL,
    workflow_id     text        NOT NULL,
    first_at        timestamptz NOT NULL,  -- occurred_at of its first loop event
    last_at         timestamptz NOT NULL,  -- … and of its last
    signals         boolean     NOT NULL DEFAULT false,
    candidates      boolean     NOT NULL DEFAULT false,
    plans           boolean     NOT NULL DEFAULT false,
    executions      boolean     NOT NULL DEFAULT false,
    closed          boolean     NOT NULL DEFAULT false,
    coach_analyses  boolean     NOT NULL DEFAULT false,
    tasks_suggested boolean     NOT NULL DEFAULT false,
    tasks_accepted  boolean     NOT NULL DEFAULT false,
    CONSTRAINT workflow_stages_pkey PRIMARY KEY (workspace, workflow_id)
);

-- The cohort of a window: workflows whose loop activity overlaps it.
CREATE INDEX IF NOT EXISTS workflow_stages_last_at_idx
    ON workflow_stages (workspace, last_at) INCLUDE (first_at);

-- The statement that merges the stage flags of a set of events (a statement's
-- new rows, or the history stored before this migration) into
-- workflow_stages.  One definition, used by the trigger and by the backfill.
CREATE OR REPLACE FUNCTION msp_workflow_stages_merge_sql(events_table text) RETURNS text
LANGUAGE sql IMMUTABLE AS $fn$
SELECT format($q$
    INSERT INTO workflow_stages AS s (workspace, workflow_id, first_at, last_at, signals, candidates, plans,
                                      executions, closed, coach_analyses, tasks_suggested, tasks_accepted)
    SELECT e.workspace, e.workflow_id, min(e.occurred_at), max(e.occurred_at),
           bool_or(e.event_type = 'signal.created'),
           bool_or(e.event_type = 'candidate.created'),
           bool_or(e.event_type = 'trade.plan.created'),
           bool_or(e.event_type = 'trade.executed'),
           bool_or(e.event_type = 'trade.closed'),
           bool_or(e.event_type = 'coach.analysis.generated'),
           bool_or(e.event_type = 'strategy.rule.suggested'),
           coalesce(bool_or(e.event_type = 'strategy.rule.applied'
                            AND e.event #>> '{payload,decision}' = 'accepted'), false)
    FROM %I AS e
    WHERE e.event_type IN ('signal.created', 'candidate.created', 'trade.plan.created', 'trade.executed',
                           'trade.closed', 'coach.analysis.generated', 'strategy.rule.suggested',
                           'strategy.rule.applied')
    GROUP BY e.workspace, e.workflow_id
    ON CONFLICT (workspace, workflow_id) DO UPDATE SET
        first_at = least(s.first_at, excluded.first_at),
        last_at = greatest(s.last_at, excluded.last_at),
        signals = s.signals OR excluded.signals,
        candidates = s.candidates OR excluded.candidates,
        plans = s.plans OR excluded.plans,
        executions = s.executions OR excluded.executions,
        closed = s.closed OR excluded.closed,
        coach_analyses = s.coach_analyses OR excluded.coach_analyses,
        tasks_suggested = s.tasks_suggested OR excluded.tasks_suggested,
        tasks_accepted = s.tasks_accepted OR excluded.tasks_accepted
$q$, events_table)
$fn$;

-- (The transition table is visible only to statements of the trigger function itself.)
CREATE OR REPLACE FUNCTION msp_workflow_events_stages() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
    EXECUTE msp_workflow_stages_merge_sql('new_events');
    RETURN NULL;
END
$fn$;

CREATE OR REPLACE TRIGGER workflow_events_stages
    AFTER INSERT ON workflow_events
    REFERENCING NEW TABLE AS new_events
    FOR EACH STATEMENT EXECUTE FUNCTION msp_workflow_events_stages();

-- History stored before this migration (the trigger, created first, holds off
-- writers until the migration commits; merging twice changes nothing).
DO $$
BEGIN
    EXECUTE msp_workflow_stages_merge_sql('workflow_events');
END
$$;

-- The wall of migrations/008_row_level_security.sql, for a workspace table
-- added later: row-level security, the workspace policy, msp_app's grants.
CREATE OR REPLACE FUNCTION msp_wall_off(t text) RETURNS void
LANGUAGE plpgsql AS $fn$
BEGIN
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
END
$fn$;

SELECT msp_wall_off('workflow_stages');

ANALYZE workflow_stages;
