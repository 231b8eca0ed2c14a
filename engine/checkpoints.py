"""Ingest checkpoints: how far ``msp ingest FILE`` has committed each file.

A checkpoint (table ``ingest_checkpoints``, migrations/014) is the byte
offset and line number just past the last committed newline of a file, with
a fingerprint that proves a later run reads the same file: its device and
inode, and SHA-256 hashes of its first 4 KiB and of the 4 KiB before the
offset (two small ``pread``s, never a re-read of the prefix).  It is saved
in the transaction of the batch whose last line it follows, so a crash can
neither move it past uncommitted lines nor leave it behind committed ones.

A run verifies the stored checkpoint against the open file: if it holds, the
run seeks past the known prefix and numbers lines on from it; if the file
was truncated, rotated or replaced, the run reads from the start (dedupe
keeps that exact) and its checkpoints replace the stale one.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from typing import Optional

import psycopg

from .db import workspace_transaction
from .sql import query

FINGERPRINT_BYTES = 4096


@dataclass(frozen=True)
class Checkpoint:
    device: int
    inode: int
    byte_offset: int
    line_no: int
    head_sha256: bytes
    tail_sha256: bytes


def fingerprint(fd: int, device: int, inode: int, byte_offset: int, line_no: int) -> Optional[Checkpoint]:
    """The checkpoint of the open file ``fd`` at ``byte_offset``; None if the
    file no longer holds that many bytes."""
    head = os.pread(fd, min(FINGERPRINT_BYTES, byte_offset), 0)
    tail_start = max(0, byte_offset - FINGERPRINT_BYTES)
    tail = os.pread(fd, byte_offset - tail_start, tail_start)
    if len(tail) != byte_offset - tail_start:
        return None
    return Checkpoint(device, inode, byte_offset, line_no,
                      hashlib.sha256(head).digest(), hashlib.sha256(tail).digest())


def holds(fd: int, stored: Checkpoint) -> bool:
    """Whether the open file is the one ``stored`` describes, at least as long."""
    st = os.fstat(fd)
    if (st.st_dev, st.st_ino) != (stored.device, stored.inode) or st.st_size < stored.byte_offset:
        return False
    return fingerprint(fd, st.st_dev, st.st_ino, stored.byte_offset, stored.line_no) == stored


def checkpoint_key(path: str) -> str:
    """The name a file's checkpoint is kept under: its absolute path, as named
    (a file renamed away by rotation leaves its name to the new file)."""
    return os.path.abspath(path)


def read(conn: psycopg.Connection, workspace: str, path: str) -> Optional[Checkpoint]:
    with workspace_transaction(conn, workspace):
        row = conn.execute(query("checkpoints.read"),
                           {"workspace": workspace, "path": checkpoint_key(path)}).fetchone()
    if row is None:
        return None
    device, inode, byte_offset, line_no, head, tail = row
    return Checkpoint(int(device), int(inode), byte_offset, line_no, bytes(head), bytes(tail))


def save(conn: psycopg.Connection, workspace: str, path: str, checkpoint: Checkpoint, replace: bool) -> None:
    """Store ``checkpoint`` (inside the batch's transaction, under the writer lock).
    Without ``replace`` it only moves forward for the same file."""
    conn.execute(query("checkpoints.save"), {
        "workspace": workspace, "path": checkpoint_key(path), "device": checkpoint.device,
        "inode": checkpoint.inode, "byte_offset": checkpoint.byte_offset, "line_no": checkpoint.line_no,
        "head_sha256": checkpoint.head_sha256, "tail_sha256": checkpoint.tail_sha256, "replace": replace})


@dataclass
class FileCheckpoint:
    """One run's checkpointing of one open file: where reading starts, and the
    checkpoint each committed batch saves."""

    workspace: str
    path: str
    fd: int
    device: int
    inode: int
    start_offset: int = 0
    start_line: int = 0
    replace: bool = False  # the stored checkpoint did not hold: ours replace it

    @classmethod
    def open(cls, conn: psycopg.Connection, workspace: str, path: str, fd: int,
             from_start: bool = False) -> "FileCheckpoint":
        """Verify the stored checkpoint against the open file ``fd``; start past
        it if it holds (and ``from_start`` is not asked), else at the start."""
        st = os.fstat(fd)
        tracker = cls(workspace, path, fd, st.st_dev, st.st_ino)
        stored = read(conn, workspace, path)
        if stored is None:
            return tracker
        if not holds(fd, stored):
            tracker.replace = (stored.device, stored.inode) == (st.st_dev, st.st_ino)
            return tracker
        if not from_start:
            tracker.start_offset, tracker.start_line = stored.byte_offset, stored.line_no
        return tracker

    def at(self, end_offset: int, end_line: int, last_line_bytes: int) -> Optional[Checkpoint]:
        """The checkpoint after a batch ending at ``end_offset`` (its last line
        ``end_line``, ``last_line_bytes`` long): a last line without its newline
        yet is not passed (the next run reads it again, complete or not)."""
        if end_offset > 0 and os.pread(self.fd, 1, end_offset - 1) != b"\n":
            end_offset -= last_line_bytes
            end_line -= 1
        if end_offset <= self.start_offset and not self.replace:
            return None  # nothing new to remember
        return fingerprint(self.fd, self.device, self.inode, end_offset, end_line)

    def save(self, conn: psycopg.Connection, checkpoint: Optional[Checkpoint]) -> None:
        if checkpoint is not None:
            save(conn, self.workspace, self.path, checkpoint, self.replace)
