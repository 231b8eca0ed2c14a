-- The operator state, one row per workspace (README.md#reports).

-- name: get
SELECT focus, active_candidates, risk_environment, attention_score, mode, cognitive_load, timezone,
       last_actions, updated_at
FROM operator_state WHERE workspace = %(workspace)s

-- name: set
INSERT INTO operator_state AS s (workspace, focus, active_candidates, risk_environment, attention_score, mode,
                                 cognitive_load, timezone, last_actions, updated_at)
VALUES (%(workspace)s, %(focus)s, coalesce(%(active_candidates)s::jsonb, '[]'), %(risk_environment)s,
        %(attention_score)s, %(mode)s, %(cognitive_load)s, %(timezone)s, jsonb_build_array(%(action)s::jsonb), now())
ON CONFLICT (workspace) DO UPDATE
SET focus = coalesce(%(focus)s, s.focus),
    active_candidates = coalesce(%(active_candidates)s::jsonb, s.active_candidates),
    risk_environment = coalesce(%(risk_environment)s, s.risk_environment),
    attention_score = coalesce(%(attention_score)s, s.attention_score),
    mode = coalesce(%(mode)s, s.mode),
    cognitive_load = coalesce(%(cognitive_load)s, s.cognitive_load),
    timezone = coalesce(%(timezone)s, s.timezone),
    last_actions = (SELECT coalesce(jsonb_agg(a), '[]') FROM (
                       SELECT a FROM jsonb_array_elements(jsonb_build_array(%(action)s::jsonb) || s.last_actions)
                                     WITH ORDINALITY AS x (a, n)
                       ORDER BY n LIMIT 10) latest),
    updated_at = now()

-- name: timezone
-- The operator's time zone, the day windows' zone when neither --tz nor MSP_TZ is given.
SELECT timezone FROM operator_state WHERE workspace = %(workspace)s
