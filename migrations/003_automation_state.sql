-- What the automation runner keeps: its checkpoint per workspace, the
-- positions of the trade lifecycle and the closed trades the coach reads.
CREATE TABLE IF NOT EXISTS automation_checkpoints (
    workspace  text        NOT NULL,
    last_seq   bigint      NOT NULL DEFAULT 0,
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT automation_checkpoints_pkey PRIMARY KEY (workspace)
);

CREATE TABLE IF NOT EXISTS positions (
    workspace      text        NOT NULL,
    trade_id       text        NOT NULL,
    symbol         text        NOT NULL,
    side           text        NOT NULL,
    quantity       numeric     NOT NULL,
    entry_price    numeric     NOT NULL,
    last_price     numeric,
    unrealized_pnl numeric,
    close_price    numeric,
    realized_pnl   numeric,
    status         text        NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed')),
    plan_id        text,
    workflow_id    text,
    opened_at      timestamptz NOT NULL,
    quoted_at      timestamptz,
    closed_at      timestamptz,
    CONSTRAINT positions_pkey PRIMARY KEY (workspace, trade_id)
);

CREATE INDEX IF NOT EXISTS positions_status_idx ON positions (workspace, status);

CREATE TABLE IF NOT EXISTS closed_trades (
    workspace      text        NOT NULL,
    close_event_id text        NOT NULL,
    close_seq      bigint      NOT NULL,
    trade_id       text        NOT NULL,
    symbol         text,
    workflow_id    text        NOT NULL,
    plan_id        text,
    realized_pnl   numeric     NOT NULL,
    closed_at      timestamptz NOT NULL,
    occurred_at    timestamptz NOT NULL,
    CONSTRAINT closed_trades_pkey PRIMARY KEY (workspace, close_event_id)
);

-- The coach's "last 20 closes up to this one, by close time".
CREATE INDEX IF NOT EXISTS closed_trades_close_time_idx
    ON closed_trades (workspace, closed_at, close_event_id);
CREATE INDEX IF NOT EXISTS closed_trades_seq_idx
    ON closed_trades (workspace, close_seq);
