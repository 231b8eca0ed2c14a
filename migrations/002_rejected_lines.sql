-- The quarantine: every rejected input line with its source, line number,
-- raw bytes and every error (JSON pointer path + message).  The same bad line
-- of the same source is kept once however often it is re-ingested.
CREATE TABLE IF NOT EXISTS rejected_lines (
    reject_id     bigint GENERATED ALWAYS AS IDENTITY,
    workspace     text        NOT NULL,
    source        text        NOT NULL,
    line_no       bigint      NOT NULL,
    raw           bytea       NOT NULL,
    raw_truncated boolean     NOT NULL DEFAULT false,
    raw_sha256    bytea       NOT NULL,
    errors        jsonb       NOT NULL,
    status        text        NOT NULL DEFAULT 'rejected'
                  CHECK (status IN ('rejected', 'retried')),
    event_id      text,
    rejected_at   timestamptz NOT NULL DEFAULT now(),
    resolved_at   timestamptz,
    CONSTRAINT rejected_lines_pkey PRIMARY KEY (reject_id),
    CONSTRAINT rejected_lines_line_key UNIQUE (workspace, source, line_no, raw_sha256)
);

CREATE INDEX IF NOT EXISTS rejected_lines_workspace_idx
    ON rejected_lines (workspace, status, reject_id);
