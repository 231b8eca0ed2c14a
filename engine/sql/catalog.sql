-- The catalog snapshot of `msp migrate --check` (engine/migration_check.py):
-- what a second run of every migration must leave unchanged.  Catalog queries,
-- not pg_dump, whose output carries a random \restrict key.

-- name: columns
SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
  pg_get_expr(d.adbin, d.adrelid), a.attidentity, a.attgenerated
FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE n.nspname = 'public' AND a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r','p','v','m')
ORDER BY 1, 2

-- name: constraints
SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint
WHERE connamespace = 'public'::regnamespace ORDER BY 1, 2

-- name: indexes
SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid), i.indisvalid
FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
WHERE c.relnamespace = 'public'::regnamespace ORDER BY 1

-- name: triggers
SELECT tgname, pg_get_triggerdef(oid) FROM pg_trigger WHERE NOT tgisinternal ORDER BY 1

-- name: functions
SELECT p.proname, md5(pg_get_functiondef(p.oid)) FROM pg_proc p
WHERE p.pronamespace = 'public'::regnamespace ORDER BY 1, 2

-- name: policies
SELECT tablename, policyname, permissive, roles::text, cmd, qual, with_check FROM pg_policies
WHERE schemaname = 'public' ORDER BY 1, 2

-- name: rls
SELECT relname, relrowsecurity, relforcerowsecurity FROM pg_class
WHERE relnamespace = 'public'::regnamespace AND relkind = 'r' ORDER BY 1

-- name: privileges
SELECT relname, relacl::text FROM pg_class
WHERE relnamespace = 'public'::regnamespace AND relkind IN ('r','p','v','m','S') ORDER BY 1

-- name: sequences
SELECT sequencename, data_type::text, increment_by, min_value, max_value FROM pg_sequences
WHERE schemaname = 'public' ORDER BY 1

-- name: views
SELECT viewname, md5(definition) FROM pg_views WHERE schemaname = 'public' ORDER BY 1

-- name: create_database
-- {name}: a scratch database's identifier, quoted by psycopg.sql.
CREATE DATABASE {name}

-- name: drop_database
DROP DATABASE IF EXISTS {name} WITH (FORCE)
