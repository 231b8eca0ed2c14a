-- The one way events enter workflow_events (engine/event_store.py).

-- name: lock_writers
-- Event writers of one workspace take turns: a transaction-scoped lock held
-- from the first insert to commit, so seq order is commit order within a
-- workspace and the runner's "seq above the checkpoint" sweep never skips a
-- late-committing batch (docs/ARCHITECTURE.md#exactly-once).  Under the lock, the workspace goes into
-- the registry (no row-level wall) that `msp automate --all-workspaces` reads;
-- one statement, as the writer pays a round trip per batch.
WITH locked AS (SELECT pg_advisory_xact_lock(hashtext('msp.events'), hashtext(%(workspace)s)))
INSERT INTO workspaces (workspace) SELECT %(workspace)s FROM locked ON CONFLICT DO NOTHING;

-- name: copy_events
COPY workflow_events (workspace, event_id, event_type, event_version, occurred_at, workflow_id,
                      parent_event_id, actor_type, symbol, event, source, source_line) FROM STDIN;

-- name: existing_ids
-- (The ids go as a binary array: no quoting or escaping of each element.)
-- An archived event's id is taken too (migrations/018_archive.sql).
SELECT event_id FROM workflow_events WHERE workspace = %(workspace)s AND event_id = ANY(%(ids)b::text[])
UNION ALL
SELECT event_id FROM archived_events WHERE workspace = %(workspace)s AND event_id = ANY(%(ids)b::text[]);

-- name: conflicting
-- Lines whose event id is stored with different content (jsonb equality, so
-- key order and spacing do not count), asked only for ids known to be stored:
-- one index probe each (LATERAL … LIMIT 1: never a hash join over the
-- workspace's history), the bodies sent as a binary bytea array (a text array
-- is quoted and escaped element by element: 1.2 s for 5,000 events, against
-- 15 ms) and parsed on the server only for those ids.
-- An archived id is compared by the md5 of the archived event's jsonb text
-- (jsonb's text is canonical, so the same equality).
SELECT u.line_no, u.event_id
FROM unnest(%(line_nos)b::bigint[], %(ids)b::text[], %(events)b::bytea[]) AS u (line_no, event_id, event)
CROSS JOIN LATERAL (SELECT w.event FROM workflow_events w
                    WHERE w.workspace = %(workspace)s AND w.event_id = u.event_id LIMIT 1) AS w
WHERE w.event <> convert_from(u.event, 'UTF8')::jsonb
UNION ALL
SELECT u.line_no, u.event_id
FROM unnest(%(line_nos)b::bigint[], %(ids)b::text[], %(events)b::bytea[]) AS u (line_no, event_id, event)
CROSS JOIN LATERAL (SELECT x.content_md5 FROM archived_events x
                    WHERE x.workspace = %(workspace)s AND x.event_id = u.event_id) AS x
WHERE x.content_md5 <> md5(convert_from(u.event, 'UTF8')::jsonb::text)
ORDER BY 1;

-- name: insert_events
-- Every INSERT into workflow_events goes through this statement (ingest's
-- batches arrive by copy_events instead, as COPY rows StagedBatch builds):
-- its {events} slot is a subquery yielding (event jsonb, source_line bigint)
-- whose event already carries its event_id (msp's own events are built by
-- msp_event, migrations/012_event_envelope.sql); the indexed columns are read
-- from the event itself.
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
FROM (SELECT * FROM ({events}) AS built OFFSET 0) AS n (event, source_line)  -- OFFSET 0: build each event once, not once per column
WHERE NOT EXISTS (SELECT 1 FROM archived_events x  -- an archived id is a duplicate too (migrations/018_archive.sql);
                  WHERE x.workspace = %(workspace)s AND x.event_id = n.event ->> 'event_id'
                  OFFSET 0)  -- a probe per event, never an anti-join scanning every archived id
ON CONFLICT (workspace, event_id) DO NOTHING;

-- name: one_event
-- One event built in the process, as the events subquery of insert_events.
SELECT %(event)s::jsonb, NULL::bigint

-- name: quarantine
INSERT INTO rejected_lines (workspace, source, line_no, raw, raw_truncated, raw_sha256, errors)
SELECT %(workspace)s, %(source)s, r.line_no, r.raw, r.truncated, sha256(r.raw), r.errors
FROM unnest(%(line_nos)s::bigint[], %(raws)s::bytea[], %(truncated)s::boolean[], %(errors)s::jsonb[])
     AS r(line_no, raw, truncated, errors)
ON CONFLICT (workspace, sha256(source::bytea), line_no, raw_sha256) DO NOTHING;  -- migrations/015_input_limits.sql
