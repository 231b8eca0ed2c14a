-- How far `msp ingest FILE` has committed each source file, per workspace
-- (engine/checkpoints.py): the byte offset and line number just past the last
-- committed newline, and a fingerprint proving the next run reads the same
-- file — its device and inode, and SHA-256 hashes of its first 4 KiB and of
-- the 4 KiB before the offset.  Each row is written in the transaction of the
-- batch it belongs to, so it never claims an uncommitted line.
CREATE TABLE IF NOT EXISTS ingest_checkpoints (
    workspace   text        NOT NULL,
    path        text        NOT NULL,  -- the file's absolute path, as named
    device      numeric     NOT NULL,  -- st_dev and st_ino are unsigned 64-bit values
    inode       numeric     NOT NULL,
    byte_offset bigint      NOT NULL CHECK (byte_offset >= 0),
    line_no     bigint      NOT NULL CHECK (line_no >= 0),  -- lines (blank ones too) before byte_offset
    head_sha256 bytea       NOT NULL,  -- of bytes [0, min(4096, byte_offset))
    tail_sha256 bytea       NOT NULL,  -- of bytes [max(0, byte_offset - 4096), byte_offset)
    updated_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT ingest_checkpoints_pkey PRIMARY KEY (workspace, path)
);

SELECT msp_wall_off('ingest_checkpoints');

-- Wake-ups for `msp automate --follow` (engine/automations/follow.py): every
-- statement that stores events — ingest's COPY, the automations' inserts, a
-- decision — notifies channel msp_events with its workspace.  pg_notify in a
-- transaction is delivered at commit (and dropped on rollback), once per
-- distinct payload; a statement that inserted nothing (all duplicates)
-- notifies nobody, so a sweep that finds nothing to do wakes no one.
CREATE OR REPLACE FUNCTION msp_workflow_events_notify() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
    PERFORM pg_notify('msp_events', w.workspace) FROM (SELECT DISTINCT workspace FROM new_events) AS w;
    RETURN NULL;
END
$fn$;

CREATE OR REPLACE TRIGGER workflow_events_notify
    AFTER INSERT ON workflow_events
    REFERENCING NEW TABLE AS new_events
    FOR EACH STATEMENT EXECUTE FUNCTION msp_workflow_events_notify();
