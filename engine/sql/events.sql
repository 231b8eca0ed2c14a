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

-- name: clear_staging
TRUNCATE msp_ingest_staging;

-- name: copy_staging
COPY msp_ingest_staging (line_no, event_id, derived_id, event) FROM STDIN;

-- name: insert_events
-- Every insert into workflow_events goes through this statement: its events
-- placeholder is a subquery yielding (event jsonb, source_line bigint) whose event already
-- carries its event_id; the indexed columns are read from the event itself.
INSERT INTO workflow_events (
    workspace, event_id, event_type, event_version, occurred_at, workflow_id,
    parent_event_id, actor_type, symbol, event, source, source_line)
SELECT %(workspace)s,
       n.event ->> 'event_id',
       n.event ->> 'event_type',
       (n.event ->> 'event_version')::integer,
       (n.event ->> 'occurred_at')::timestamptz,
       n.event #>> '{correlation,workflow_id}',
       n.event #>> '{correlation,parent_event_id}',
       coalesce(n.event #>> '{actor,actor_type}', 'user'),
       coalesce(n.event #>> '{entity,symbol}', n.event #>> '{payload,symbol}'),
       n.event,
       %(source)s,
       n.source_line
FROM ({events}) AS n (event, source_line)
ON CONFLICT (workspace, event_id) DO NOTHING;

-- name: staged_events
-- The staged lines as events, in input order, ids derived by msp added.
SELECT CASE WHEN s.derived_id THEN s.event || jsonb_build_object('event_id', s.event_id) ELSE s.event END,
       s.line_no
FROM msp_ingest_staging s
ORDER BY s.line_no

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
