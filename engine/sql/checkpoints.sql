-- Ingest checkpoints per source file (engine/checkpoints.py, migrations/013).

-- name: read
SELECT device, inode, byte_offset, line_no, head_sha256, tail_sha256
FROM ingest_checkpoints
WHERE workspace = %(workspace)s AND sha256(path::bytea) = sha256(%(path)s::text::bytea) AND path = %(path)s

-- name: save
-- Written inside the batch's transaction, under the workspace's writer lock.
-- A run that continues from a verified checkpoint, or reads a file whose
-- stored checkpoint still holds, only ever moves it forward (another ingest
-- of the same file may have committed further); a run that found the stored
-- one invalid (truncated, rotated, replaced) or reads another file at that
-- path replaces it.
INSERT INTO ingest_checkpoints AS c (workspace, path, device, inode, byte_offset, line_no,
                                     head_sha256, tail_sha256)
VALUES (%(workspace)s, %(path)s, %(device)s, %(inode)s, %(byte_offset)s, %(line_no)s,
        %(head_sha256)s, %(tail_sha256)s)
ON CONFLICT (workspace, sha256(path::bytea)) DO UPDATE SET  -- the key (migrations/015_input_limits.sql)
    device = excluded.device, inode = excluded.inode, byte_offset = excluded.byte_offset,
    line_no = excluded.line_no, head_sha256 = excluded.head_sha256, tail_sha256 = excluded.tail_sha256,
    updated_at = now()
WHERE %(replace)s OR c.device <> excluded.device OR c.inode <> excluded.inode
   OR c.byte_offset < excluded.byte_offset
