-- msp archive (engine/archive.py, docs/ARCHITECTURE.md#retention).  Every
-- statement runs in the archive's one workspace transaction, under the
-- workspace's writer lock; %(workflows)s is the list of workflows archived.

-- name: set_archiving
-- workflow_events stays append-only except for this transaction's workspace
-- (migrations/018_archive.sql).
SELECT set_config('msp.archiving', %(workspace)s, true)

-- name: old_workflows
-- Every workflow whose last event came before the cutoff, and why it stays
-- hot if it does (NULL: it is archived): its events are not all swept yet,
-- or something of it is still open — a position (a close may still come), a
-- pending task (the queue, presence's count), an open journal entry (the
-- coach's enrichment may still pick it as its symbol's newest) — or one of its
-- journal entries was enriched at or after the cutoff.  An alert still active
-- does not keep it: no automation reads alerts, and the day counts date an
-- alert by its plan.  The first reason in this order is named.  One pass over the
-- workspace's events and one over each side table (hash joins, not a probe
-- per workflow).
WITH flows AS MATERIALIZED (
    SELECT e.workflow_id, max(e.occurred_at) AS last_at, max(e.seq) AS last_seq, count(*) AS events
    FROM workflow_events e
    WHERE e.workspace = %(workspace)s
    GROUP BY e.workflow_id
),
open_parts AS MATERIALIZED (
    SELECT p.workflow_id, 'open_position' AS why FROM positions p
     WHERE p.workspace = %(workspace)s AND p.status = 'open' AND p.workflow_id IS NOT NULL
    UNION ALL
    SELECT j.workflow_id, 'open_journal' FROM journal_entries j
     WHERE j.workspace = %(workspace)s AND j.status = 'open' AND j.workflow_id IS NOT NULL
    UNION ALL
    SELECT w.workflow_id, 'pending_task'
      FROM coach_tasks t
      LEFT JOIN coach_analyses a ON a.workspace = t.workspace AND a.analysis_id = t.analysis_id
      CROSS JOIN LATERAL (VALUES (t.workflow_id), (a.workflow_id)) AS w (workflow_id)
     WHERE t.workspace = %(workspace)s AND t.status = 'pending' AND w.workflow_id IS NOT NULL
    UNION ALL
    SELECT j.workflow_id, 'enriched_later'
      FROM journal_enrichments je
      JOIN journal_entries j ON j.workspace = je.workspace AND j.journal_id = je.journal_id
     WHERE je.workspace = %(workspace)s AND je.occurred_at >= %(before)s AND j.workflow_id IS NOT NULL
),
reasons AS (
    SELECT workflow_id,
           (ARRAY['open_position', 'pending_task', 'open_journal', 'enriched_later'])[
               min(array_position(ARRAY['open_position', 'pending_task', 'open_journal', 'enriched_later'], why))]
           AS why
    FROM open_parts GROUP BY workflow_id
)
SELECT f.workflow_id, f.events,
       CASE WHEN f.last_seq > coalesce((SELECT c.last_seq FROM automation_checkpoints c
                                         WHERE c.workspace = %(workspace)s), 0) THEN 'not_swept'
            ELSE r.why END AS kept
FROM flows f
LEFT JOIN reasons r ON r.workflow_id = f.workflow_id
WHERE f.last_at < %(before)s
ORDER BY f.workflow_id

-- name: events
-- The archived events exactly as stored, in seq order: the file's lines.
SELECT e.event::text
FROM workflow_events e
JOIN unnest(%(workflows)s::text[]) AS w (workflow_id) ON w.workflow_id = e.workflow_id
WHERE e.workspace = %(workspace)s
ORDER BY e.seq

-- name: used_paths
SELECT path FROM archives WHERE workspace = %(workspace)s

-- name: next_no
SELECT coalesce(max(archive_no), 0) + 1 FROM archives WHERE workspace = %(workspace)s

-- name: record_archive
INSERT INTO archives (workspace, archive_no, path, archived_before, workflows, events)
VALUES (%(workspace)s, %(archive_no)s, %(path)s, %(before)s, %(workflow_count)s, %(event_count)s)

-- name: record_events
-- Each archived event keeps its id (and its content's hash): ingest counts a
-- re-ingested one as a duplicate, or a conflict.
INSERT INTO archived_events (workspace, event_id, workflow_id, archive_no, content_md5)
SELECT e.workspace, e.event_id, e.workflow_id, %(archive_no)s, md5(e.event::text)
FROM workflow_events e
JOIN unnest(%(workflows)s::text[]) AS w (workflow_id) ON w.workflow_id = e.workflow_id
WHERE e.workspace = %(workspace)s

-- name: delete_derived
-- The archived workflows' derived rows, counted per table.  closed_trades
-- stays: it is the coach's sample (the last 20 closes before each new close)
-- and its close_seq cursor, one small row per close.  The enrichments of an
-- archived journal entry go with it; an archived analysis's summary appended
-- to a hot entry stays, as that entry's text does.
WITH w AS MATERIALIZED (SELECT unnest(%(workflows)s::text[]) AS workflow_id),
analyses AS MATERIALIZED (
    SELECT a.analysis_id FROM coach_analyses a JOIN w ON w.workflow_id = a.workflow_id
    WHERE a.workspace = %(workspace)s
),
entries AS MATERIALIZED (
    SELECT j.journal_id FROM journal_entries j JOIN w ON w.workflow_id = j.workflow_id
    WHERE j.workspace = %(workspace)s
),
d_positions AS (
    DELETE FROM positions p USING w WHERE p.workspace = %(workspace)s AND p.workflow_id = w.workflow_id
    RETURNING 1
),
d_alerts AS (
    DELETE FROM alerts a USING w WHERE a.workspace = %(workspace)s AND a.workflow_id = w.workflow_id
    RETURNING 1
),
d_enrichments AS (
    DELETE FROM journal_enrichments je USING entries x
    WHERE je.workspace = %(workspace)s AND je.journal_id = x.journal_id
    RETURNING 1
),
d_entries AS (
    DELETE FROM journal_entries j USING entries x WHERE j.workspace = %(workspace)s AND j.journal_id = x.journal_id
    RETURNING 1
),
d_tasks AS (
    DELETE FROM coach_tasks t
    WHERE t.workspace = %(workspace)s
      AND (t.workflow_id IN (SELECT workflow_id FROM w) OR t.analysis_id IN (SELECT analysis_id FROM analyses))
    RETURNING 1
),
d_analyses AS (
    DELETE FROM coach_analyses a USING analyses x WHERE a.workspace = %(workspace)s AND a.analysis_id = x.analysis_id
    RETURNING 1
),
d_stages AS (
    DELETE FROM workflow_stages s USING w WHERE s.workspace = %(workspace)s AND s.workflow_id = w.workflow_id
    RETURNING 1
)
SELECT (SELECT count(*) FROM d_positions) AS positions,
       (SELECT count(*) FROM d_alerts) AS alerts,
       (SELECT count(*) FROM d_entries) AS journal_entries,
       (SELECT count(*) FROM d_enrichments) AS journal_enrichments,
       (SELECT count(*) FROM d_analyses) AS coach_analyses,
       (SELECT count(*) FROM d_tasks) AS coach_tasks,
       (SELECT count(*) FROM d_stages) AS workflow_stages

-- name: delete_events
DELETE FROM workflow_events e
USING unnest(%(workflows)s::text[]) AS w (workflow_id)
WHERE e.workspace = %(workspace)s AND e.workflow_id = w.workflow_id
