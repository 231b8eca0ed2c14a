-- The quarantine of rejected input lines (docs/ARCHITECTURE.md#ingest).

-- name: list
SELECT reject_id, source, line_no, status, errors -> 0 ->> 'path' AS path,
       errors -> 0 ->> 'message' AS message, jsonb_array_length(errors) AS error_count,
       rejected_at, event_id
FROM rejected_lines
WHERE workspace = %(workspace)s AND (%(status)s::text IS NULL OR status = %(status)s)
ORDER BY reject_id
LIMIT %(limit)s

-- name: get
SELECT reject_id, source, line_no, status, raw, raw_truncated, errors, rejected_at, resolved_at, event_id
FROM rejected_lines WHERE workspace = %(workspace)s AND reject_id = %(reject_id)s

-- name: pending
-- imported: a row of a CSV or webhook file (`msp import`), not a JSON line; its errors say so
SELECT reject_id, source, line_no, raw, raw_truncated, jsonb_path_exists(errors, '$[*].import') AS imported
FROM rejected_lines
WHERE workspace = %(workspace)s AND status = 'rejected'
  AND (%(ids)s::bigint[] IS NULL OR reject_id = ANY(%(ids)s::bigint[]))
ORDER BY reject_id
FOR UPDATE SKIP LOCKED

-- name: mark_retried
UPDATE rejected_lines r
SET status = 'retried', event_id = m.event_id, resolved_at = now()
FROM unnest(%(ids)s::bigint[], %(event_ids)s::text[]) AS m (reject_id, event_id)
WHERE r.workspace = %(workspace)s AND r.reject_id = m.reject_id

-- name: update_errors
UPDATE rejected_lines r
SET errors = m.errors
FROM unnest(%(ids)s::bigint[], %(errors)s::jsonb[]) AS m (reject_id, errors)
WHERE r.workspace = %(workspace)s AND r.reject_id = m.reject_id
