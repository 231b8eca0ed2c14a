-- Retention: `msp archive --before DATE` (engine/archive.py,
-- docs/ARCHITECTURE.md#retention) moves finished workflows' events to a
-- gzip'd JSONL file and deletes them, with their derived rows, from the hot
-- tables, in one transaction.  What stays behind is a record of each archive
-- and the id of every archived event, so a re-ingested archive (or the
-- original input) stores nothing again and `msp trace` can say where a
-- chain's missing part went.
CREATE TABLE IF NOT EXISTS archives (
    workspace       text        NOT NULL,
    archive_no      bigint      NOT NULL,  -- 1, 2, … per workspace
    path            text        NOT NULL,  -- the file's absolute path, as written
    archived_before timestamptz NOT NULL,  -- local midnight of --before, as an instant
    workflows       bigint      NOT NULL,
    events          bigint      NOT NULL,
    archived_at     timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT archives_pkey PRIMARY KEY (workspace, archive_no),
    CONSTRAINT archives_path_key UNIQUE (workspace, path)
);

CREATE TABLE IF NOT EXISTS archived_events (
    workspace   text   NOT NULL,
    event_id    text   NOT NULL,
    workflow_id text   NOT NULL,
    archive_no  bigint NOT NULL,
    content_md5 text   NOT NULL,  -- md5 of the stored event's jsonb text: the same id with other content is a conflict
    CONSTRAINT archived_events_pkey PRIMARY KEY (workspace, event_id)
);

CREATE INDEX IF NOT EXISTS archived_events_workflow_idx
    ON archived_events (workspace, workflow_id, archive_no);

SELECT msp_wall_off('archives');
SELECT msp_wall_off('archived_events');

-- The archive deletes as the app role, behind the workspace wall.
DO $$
DECLARE
    t text;
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'msp_app') THEN
        FOREACH t IN ARRAY ARRAY['workflow_events', 'positions', 'alerts', 'journal_entries', 'journal_enrichments',
                                 'coach_analyses', 'coach_tasks', 'workflow_stages'] LOOP
            EXECUTE format('GRANT DELETE ON %I TO msp_app', t);
        END LOOP;
    END IF;
END
$$;

-- Still append-only, except for the archive: a DELETE is allowed only in a
-- transaction that set msp.archiving to the row's workspace (engine/archive.py),
-- never an UPDATE.
CREATE OR REPLACE FUNCTION msp_workflow_events_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND OLD.workspace = current_setting('msp.archiving', true) THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'workflow_events is append-only: % is not allowed', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;

-- An archived event id is taken: an insert that repeats one fails as a
-- duplicate key does, so ingest's optimistic COPY falls back to asking which
-- ids exist (engine/sql/events.sql existing_ids, which asks archived_events
-- too).  One statement-level check over the statement's rows, skipped unless
-- the statement's workspace has an archive; then an index probe per row
-- (OFFSET 0 keeps it a probe: as a join, stale statistics could make it a
-- scan of every archived id per batch), stopping at the first hit.
CREATE OR REPLACE FUNCTION msp_workflow_events_not_archived() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
    IF EXISTS (SELECT 1 FROM archives a WHERE a.workspace IN (SELECT n.workspace FROM new_events n))
       AND EXISTS (SELECT 1 FROM new_events n
                   WHERE EXISTS (SELECT 1 FROM archived_events x
                                 WHERE x.workspace = n.workspace AND x.event_id = n.event_id OFFSET 0)) THEN
        RAISE EXCEPTION 'an event id of this insert was archived'
            USING ERRCODE = 'unique_violation';
    END IF;
    RETURN NULL;
END
$fn$;

CREATE OR REPLACE TRIGGER workflow_events_not_archived
    AFTER INSERT ON workflow_events
    REFERENCING NEW TABLE AS new_events
    FOR EACH STATEMENT EXECUTE FUNCTION msp_workflow_events_not_archived();
