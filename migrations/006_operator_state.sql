-- The operator state: one row per workspace (focus, risk, attention, zone…).
CREATE TABLE IF NOT EXISTS operator_state (
    workspace         text        NOT NULL,
    focus             text,
    active_candidates jsonb       NOT NULL DEFAULT '[]',
    risk_environment  text,
    attention_score   numeric CHECK (attention_score BETWEEN 0 AND 100),
    mode              text,
    cognitive_load    numeric CHECK (cognitive_load BETWEEN 0 AND 100),
    timezone          text,
    last_actions      jsonb       NOT NULL DEFAULT '[]',
    updated_at        timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT operator_state_pkey PRIMARY KEY (workspace)
);
