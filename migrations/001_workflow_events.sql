-- The event table: canonical workflow events, append-only, ordered by seq,
-- unique per (workspace, event_id).  Reports read it by (type, time); the
-- runner sweeps it by seq; trace walks it by workflow.
CREATE TABLE IF NOT EXISTS workflow_events (
    seq             bigint GENERATED ALWAYS AS IDENTITY,
    workspace       text        NOT NULL,
    event_id        text        NOT NULL,
    event_type      text        NOT NULL,
    -- squawk-ignore prefer-bigint-over-int -- an event type's schema version (1, 2, …), never near 2^31
    event_version   integer     NOT NULL,
    occurred_at     timestamptz NOT NULL,
    workflow_id     text        NOT NULL,
    parent_event_id text,
    actor_type      text        NOT NULL DEFAULT 'user',
    symbol          text,
    event           jsonb       NOT NULL,
    source          text,
    source_line     bigint,
    ingested_at     timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT workflow_events_pkey PRIMARY KEY (workspace, seq),
    CONSTRAINT workflow_events_event_id_key UNIQUE (workspace, event_id)
);

CREATE INDEX IF NOT EXISTS workflow_events_type_time_idx
    ON workflow_events (workspace, event_type, occurred_at);

CREATE INDEX IF NOT EXISTS workflow_events_workflow_idx
    ON workflow_events (workspace, workflow_id, seq);

-- "Is there already a plan for this candidate?" by link or by parent.
CREATE INDEX IF NOT EXISTS workflow_events_plan_candidate_idx
    ON workflow_events (workspace, (event #>> '{payload,links,candidate_id}'))
    WHERE event_type = 'trade.plan.created';

CREATE INDEX IF NOT EXISTS workflow_events_plan_parent_idx
    ON workflow_events (workspace, parent_event_id)
    WHERE event_type = 'trade.plan.created';

-- Append-only: an event, once stored, is never changed or removed.
CREATE OR REPLACE FUNCTION msp_workflow_events_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'workflow_events is append-only: % is not allowed', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE OR REPLACE TRIGGER workflow_events_append_only
    BEFORE UPDATE OR DELETE ON workflow_events
    FOR EACH ROW EXECUTE FUNCTION msp_workflow_events_append_only();
