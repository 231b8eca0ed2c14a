-- msp doctor (engine/doctor.py): the server, and whether the workspace wall is up.

-- name: server_version
SHOW server_version

-- name: wall
-- Inside a workspace transaction: the role msp's statements run as, whether
-- it bypasses row-level security, and how many of the workspace tables (every
-- table with a workspace column but the registry of workspaces) have
-- row-level security on.
SELECT current_user AS role,
       (SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user) AS bypass,
       count(*) FILTER (WHERE c.relrowsecurity) AS with_policy, count(*) AS workspace_tables
FROM pg_class c
JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'workspace' AND NOT a.attisdropped
WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind = 'r' AND c.relname <> 'workspaces'
