-- The settings of msp's transactions (engine/db.py): all transaction-local
-- (set_config(..., true)), so msp works through a transaction-mode pool.

-- name: enter_workspace
-- The workspace for this transaction only; no JIT (msp's statements are
-- index-backed look-ups and batch-sized writes: compiling one costs 100-400 ms,
-- more than running it, and a large table's estimates can cross
-- jit_above_cost for a query that reads little — `conversion --cohort` went
-- 20 ms → 400 ms at 6.6M events); and, where the app role msp_app exists
-- (migrations/008_row_level_security.sql) and the login role may take it, that
-- role, so the workspace policies bind even a superuser or owner login: a
-- second wall behind every query's own workspace filter.
SELECT set_config('msp.workspace', %(workspace)s, true), set_config('jit', 'off', true),
       CASE WHEN to_regrole('msp_app') IS NULL THEN NULL
            WHEN CASE WHEN current_setting('server_version_num')::integer >= 160000
                      THEN pg_has_role(current_user, 'msp_app', 'SET')  -- 16+: membership may not allow SET ROLE
                      ELSE pg_has_role(current_user, 'msp_app', 'MEMBER') END
            THEN set_config('role', 'msp_app', true)
       END

-- name: enter_workspace_as_login
-- An ingest batch's transaction: the workspace, no JIT, and the login role
-- (PostgreSQL refuses COPY FROM under row-level security).  Returns the role
-- it replaced.
SELECT was.role, set_config('msp.workspace', %(workspace)s, true), set_config('role', 'none', true),
       set_config('jit', 'off', true)
FROM (SELECT current_setting('role') AS role OFFSET 0) AS was

-- name: current_role
SELECT current_setting('role')

-- name: set_role
SELECT set_config('role', %(role)s, true)
