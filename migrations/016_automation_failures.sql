-- The quarantine of automation failures (engine/automations/runner.py,
-- docs/ARCHITECTURE.md#poison-events): an event that an automation cannot
-- apply — the database refuses what it would write (a value too large for an
-- index, a check it breaks) — is set aside here with the database's reason,
-- and the sweep's checkpoint moves past it, so one bad event never stops a
-- workspace's automations for good.  `msp automate failures retry` applies the
-- automations to it again (after a fix) and marks it retried.  One row per
-- event: a second failure of the same event updates its reason and attempts.
CREATE TABLE IF NOT EXISTS automation_failures (
    failure_id  bigint GENERATED ALWAYS AS IDENTITY,
    workspace   text        NOT NULL,
    seq         bigint      NOT NULL,  -- the event's seq in workflow_events
    event_id    text        NOT NULL,
    event_type  text        NOT NULL,
    automation  text,                  -- the automation whose statement failed, when known
    sqlstate    text,
    message     text        NOT NULL,
    attempts    bigint      NOT NULL DEFAULT 1 CHECK (attempts >= 1),
    status      text        NOT NULL DEFAULT 'failed' CHECK (status IN ('failed', 'retried')),
    failed_at   timestamptz NOT NULL DEFAULT now(),
    resolved_at timestamptz,
    CONSTRAINT automation_failures_pkey PRIMARY KEY (workspace, failure_id),  -- workspace first, as every key (docs/SCALING.md)
    CONSTRAINT automation_failures_event_key UNIQUE (workspace, event_id)
);

CREATE INDEX IF NOT EXISTS automation_failures_workspace_idx
    ON automation_failures (workspace, status, failure_id);

SELECT msp_wall_off('automation_failures');
