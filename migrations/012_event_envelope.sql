-- The envelope of every event msp writes itself (the sweep's plans, drafts,
-- analyses and task suggestions; a person's task decisions and alert drafts):
-- the id msp.<kind>.<md5(key)>, the version, the actor, the entity and the
-- correlation are built here and nowhere else (docs/ARCHITECTURE.md#one-event-writer).
-- A SQL-language STABLE function of a single expression, each argument used
-- once: the planner inlines it into the calling statement, so it costs what
-- the jsonb_build_object it replaces cost (a plpgsql function would be a call
-- per row).  Absent values (NULL) are left out of the event, not stored as
-- null (jsonb_strip_nulls, as the envelopes it replaces did).  The ids it
-- derives must never change: a database is re-swept and replayed, and a new
-- id for the same plan would store the plan twice.  msp_event_id is the
-- derivation alone, for statements that look an event of msp's up.
CREATE OR REPLACE FUNCTION msp_event_id(kind text, key text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $fn$ SELECT 'msp.' || kind || '.' || md5(key) $fn$;

CREATE OR REPLACE FUNCTION msp_event(
    kind text, key text, event_type text, occurred_at text, workflow_id text,
    entity_type text, entity_id text, payload jsonb,
    symbol text DEFAULT NULL, parent_event_id text DEFAULT NULL, actor_type text DEFAULT 'system',
    context jsonb DEFAULT NULL, trace_id text DEFAULT NULL)
RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE
AS $fn$
SELECT jsonb_strip_nulls(jsonb_build_object(
    'event_id', msp_event_id(kind, key),
    'event_type', event_type,
    'event_version', 1,
    'occurred_at', occurred_at,
    'actor', jsonb_build_object('actor_type', actor_type),
    'context', context,
    'entity', jsonb_build_object('entity_type', entity_type, 'entity_id', entity_id, 'symbol', symbol),
    'correlation', jsonb_build_object('workflow_id', workflow_id, 'parent_event_id', parent_event_id,
                                      'trace_id', trace_id),
    'payload', payload))
$fn$;
