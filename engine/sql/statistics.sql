-- Planner statistics after bulk changes (engine/statistics.py).

-- name: stale
-- Which of these tables have stale statistics: the table doubled (and holds
-- 8 pages at least) since its last ANALYZE, measured by its size on disk
-- against the pages ANALYZE saw (so a writer sees its own growth at once: the
-- cumulative statistics views lag behind commits), or the writer asking added
-- at least a twentieth of the rows it had then.
SELECT c.relname
FROM pg_class c
WHERE c.oid = ANY(%(tables)s::regclass[])
  AND (pg_relation_size(c.oid) / current_setting('block_size')::integer >= greatest(8, 2 * c.relpages)
       OR (%(added)s > 0 AND %(added)s >= 0.05 * c.reltuples))

-- name: analyze
-- {table}: a table and its column list, from engine/statistics.py's constants, never from input.
ANALYZE {table}
