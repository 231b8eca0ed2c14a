-- The coach: one analysis per close, its action tasks, and the journal
-- enrichments it wrote (once per journal entry and analysis).
CREATE TABLE IF NOT EXISTS coach_analyses (
    workspace       text        NOT NULL,
    analysis_id     text        NOT NULL,
    close_event_id  text        NOT NULL,
    trade_id        text        NOT NULL,
    symbol          text,
    workflow_id     text        NOT NULL,
    -- squawk-ignore prefer-bigint-over-int -- the coach's sample of closes: at most 20
    sample_size     integer     NOT NULL,
    win_rate        numeric     NOT NULL,
    avg_win         numeric     NOT NULL,
    avg_loss        numeric     NOT NULL,
    expectancy      numeric     NOT NULL,
    recommendations jsonb       NOT NULL,
    occurred_at     timestamptz NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT coach_analyses_pkey PRIMARY KEY (workspace, analysis_id),
    CONSTRAINT coach_analyses_close_key UNIQUE (workspace, close_event_id)
);

CREATE INDEX IF NOT EXISTS coach_analyses_time_idx
    ON coach_analyses (workspace, occurred_at);

CREATE TABLE IF NOT EXISTS coach_tasks (
    workspace   text        NOT NULL,
    task_id     text        NOT NULL,
    analysis_id text        NOT NULL,
    -- squawk-ignore prefer-bigint-over-smallint -- a task's place among one analysis's few recommendations
    position    smallint    NOT NULL,
    priority    text        NOT NULL,
    action      text        NOT NULL,
    detail      text        NOT NULL,
    symbol      text,
    workflow_id text,
    status      text        NOT NULL DEFAULT 'pending'
                CHECK (status IN ('pending', 'accepted', 'rejected')),
    occurred_at timestamptz NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    decided_at  timestamptz,
    CONSTRAINT coach_tasks_pkey PRIMARY KEY (workspace, task_id)
);

CREATE INDEX IF NOT EXISTS coach_tasks_status_idx
    ON coach_tasks (workspace, status, occurred_at);
CREATE INDEX IF NOT EXISTS coach_tasks_suggested_idx
    ON coach_tasks (workspace, occurred_at);
CREATE INDEX IF NOT EXISTS coach_tasks_decided_idx
    ON coach_tasks (workspace, decided_at) WHERE decided_at IS NOT NULL;

CREATE TABLE IF NOT EXISTS journal_enrichments (
    workspace   text        NOT NULL,
    journal_id  text        NOT NULL,
    analysis_id text        NOT NULL,
    summary     text        NOT NULL,
    occurred_at timestamptz NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT journal_enrichments_pkey PRIMARY KEY (workspace, journal_id, analysis_id),
    CONSTRAINT journal_enrichments_analysis_key UNIQUE (workspace, analysis_id)
);

CREATE INDEX IF NOT EXISTS journal_enrichments_time_idx
    ON journal_enrichments (workspace, occurred_at);
