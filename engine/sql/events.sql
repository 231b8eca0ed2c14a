-- The one way events enter workflow_events (engine/event_store.py).

-- name: lock_writers
-- Event writers of one workspace take turns: a transaction-scoped lock held
-- from the first insert to commit, so seq order is commit order within a
-- workspace and the runner's "seq above the checkpoint" sweep never skips a
-- late-committing batch (DESIGN §5).
SELECT pg_advisory_xact_lock(hashtext('msp.events'), hashtext(%(workspace)s));

-- name: create_staging
CREATE TEMPORARY TABLE IF NOT EXISTS msp_ingest_staging (
    line_no    bigint  NOT NULL,
    event_id   text    NOT NULL,
    derived_id boolean NOT NULL,
    event      jsonb   NOT NULL
) ON COMMIT DROP;

-- name: copy_staging
COPY msp_ingest_staging (line_no, event_id, derived_id, event) FROM STDIN;

-- name: insert_from_staging
INSERT INTO workflow_events (
    workspace, event_id, event_type, event_version, occurred_at, workflow_id,
    parent_event_id, actor_type, symbol, event, source, source_line)
SELECT %(workspace)s,
       s.event_id,
       s.event ->> 'event_type',
       (s.event ->> 'event_version')::integer,
       (s.event ->> 'occurred_at')::timestamptz,
       s.event #>> '{correlation,workflow_id}',
       s.event #>> '{correlation,parent_event_id}',
       coalesce(s.event #>> '{actor,actor_type}', 'user'),
       coalesce(s.event #>> '{entity,symbol}', s.event #>> '{payload,symbol}'),
       CASE WHEN s.derived_id THEN s.event || jsonb_build_object('event_id', s.event_id) ELSE s.event END,
       %(source)s,
       s.line_no
FROM msp_ingest_staging s
ORDER BY s.line_no
ON CONFLICT (workspace, event_id) DO NOTHING;

-- name: staged_conflicts
-- Staged lines whose event_id is stored with different content.
SELECT s.line_no, s.event_id
FROM msp_ingest_staging s
JOIN workflow_events w ON w.workspace = %(workspace)s AND w.event_id = s.event_id
WHERE w.event <> CASE WHEN s.derived_id THEN s.event || jsonb_build_object('event_id', s.event_id) ELSE s.event END
ORDER BY s.line_no;

-- name: quarantine
INSERT INTO rejected_lines (workspace, source, line_no, raw, raw_truncated, raw_sha256, errors)
SELECT %(workspace)s, %(source)s, r.line_no, r.raw, r.truncated, sha256(r.raw), r.errors
FROM unnest(%(line_nos)s::bigint[], %(raws)s::bytea[], %(truncated)s::boolean[], %(errors)s::jsonb[])
     AS r(line_no, raw, truncated, errors)
ON CONFLICT (workspace, source, line_no, raw_sha256) DO NOTHING;
