-- Smart alerts (one per plan) and journal entries (plan drafts, alert
-- drafts and entries kept by journal events), with the coach's enrichments.
CREATE TABLE IF NOT EXISTS alerts (
    workspace     text        NOT NULL,
    alert_id      text        NOT NULL,
    plan_id       text        NOT NULL,
    plan_event_id text        NOT NULL,
    workflow_id   text        NOT NULL,
    symbol        text        NOT NULL,
    condition     text        NOT NULL CHECK (condition IN ('price_above', 'price_below')),
    level         numeric     NOT NULL,
    status        text        NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'triggered')),
    occurred_at   timestamptz NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    triggered_at  timestamptz,
    trigger_price numeric,
    CONSTRAINT alerts_pkey PRIMARY KEY (workspace, alert_id),
    CONSTRAINT alerts_plan_key UNIQUE (workspace, plan_id)
);

CREATE INDEX IF NOT EXISTS alerts_time_idx ON alerts (workspace, occurred_at);

CREATE TABLE IF NOT EXISTS journal_entries (
    workspace          text        NOT NULL,
    journal_id         text        NOT NULL,
    origin             text        NOT NULL CHECK (origin IN ('plan_draft', 'alert_draft', 'journal')),
    status             text        NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'completed')),
    symbol             text,
    side               text,
    workflow_id        text,
    plan_id            text,
    alert_id           text,
    decision_packet_id text,
    source             text,
    direction          text,
    risk_score         numeric,
    strategy           text,
    entry_price        numeric,
    exit_price         numeric,
    outcome            text,
    realized_pnl       numeric,
    closed_at          timestamptz,
    tags               text[]      NOT NULL DEFAULT '{}',
    notes              text        NOT NULL DEFAULT '',
    source_event_id    text,
    occurred_at        timestamptz NOT NULL,
    updated_at         timestamptz NOT NULL,
    created_at         timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT journal_entries_pkey PRIMARY KEY (workspace, journal_id)
);

CREATE INDEX IF NOT EXISTS journal_entries_time_idx
    ON journal_entries (workspace, occurred_at);
CREATE INDEX IF NOT EXISTS journal_entries_open_workflow_idx
    ON journal_entries (workspace, workflow_id, occurred_at) WHERE status = 'open';
CREATE INDEX IF NOT EXISTS journal_entries_open_plan_idx
    ON journal_entries (workspace, plan_id) WHERE status = 'open';
CREATE INDEX IF NOT EXISTS journal_entries_open_symbol_idx
    ON journal_entries (workspace, symbol, occurred_at) WHERE status = 'open';
