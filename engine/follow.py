"""``msp ingest --follow FILE…``: tail growing files like ``tail -F`` and
commit what arrives.

Each file is read from its checkpoint (engine/checkpoints.py), then followed:
complete lines are checked and staged as they appear; a last line without
its newline waits for it.  The file is watched by name: when the name points
at another file (rotation) the old one is read to its end and the new one
from its start; when the file gets shorter than what was read (truncation)
it is read again from its start (dedupe keeps both exact).

Staged lines are committed by one writer thread, a batch per file per
transaction with the file's checkpoint, as soon as the writer is free and
the reader has caught up — and at the latest ``flush_ms`` after a batch's
first line while lines keep coming (or when a batch is full).  With
``automate`` the workspace is swept after each commit.  Stopping (the
``stop`` event; SIGINT/SIGTERM in the CLI) reads no further, commits what was
staged and returns the exact counts; nothing read is lost, and the next run
starts from the checkpoint.  A lost database connection ends the run (exit
3); the checkpoint makes a restart exact.
"""

from __future__ import annotations

import os
import stat
import time
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_for
from dataclasses import dataclass
from typing import BinaryIO, Iterable, Optional

from . import statistics
from .automations.follow import SweepCounters
from .automations.runner import RunReport, sweep_workspace
from .checkpoints import FileCheckpoint
from .db import Database
from .event_store import StagedBatch, WriteResult
from .errors import UsageError
from .line_counts import IngestCounts
from .ingest import (DEFAULT_BATCH_LINES, UTF8_BOM, IngestCallbacks, Ingestor, IngestReport, check_line,
                     check_sources, make_checker, short_switch_interval)
from .sources import STDIN
from .stopping import Stop, Stopper
from .validation import DEFAULT_MAX_LINE_BYTES, LineChecker

DEFAULT_FLUSH_MS = 200
IDLE_SLEEP_SECONDS = 0.01  # between looks at files that had nothing new
SKIP_CHUNK = 1 << 20


class FollowSummary(SweepCounters, IngestCounts):  # fields: the ingest counts first (pydantic: last base first)
    """The summary ``msp ingest --follow --format json`` prints when it stops:
    the ingest counts and the sweeps' counters (zero without ``--automate``)."""


@dataclass
class FollowReport:
    """What a follow run did: the ingest counts and, with ``automate``, the sweeps'."""

    ingest: IngestReport
    automation: Optional[RunReport] = None
    commits: int = 0

    def summary(self) -> FollowSummary:
        counts = self.ingest.counts()
        if self.automation is not None:
            counts.update(self.automation.counters())
        return FollowSummary(**counts)


class Tail:
    """One followed file name: the file open under it and how far it is read."""

    def __init__(self, path: str, workspace: str, max_line_bytes: int):
        self.path = path
        self.workspace = workspace
        self.limit = max_line_bytes + 2  # room for "\r\n"
        self.max_line_bytes = max_line_bytes
        self.stream: Optional[BinaryIO] = None
        self.tracker: Optional[FileCheckpoint] = None
        self.offset = 0  # bytes of the lines handed out
        self.line_no = 0
        self.last_bytes = 0  # length of the last line handed out
        self.skipping: Optional[tuple[bytes, int]] = None  # an over-long line: (its kept head, bytes so far)

    def open(self, conn=None, from_start: bool = False) -> bool:
        """Open the file under the name, from its checkpoint when ``conn`` is
        given (at start), else from its start; False if there is none yet."""
        try:
            stream = open(self.path, "rb")
        except FileNotFoundError:
            return False
        fd = stream.fileno()
        if conn is not None:
            self.tracker = FileCheckpoint.open(conn, self.workspace, self.path, fd, from_start)
        else:
            st = os.fstat(fd)
            self.tracker = FileCheckpoint(self.workspace, self.path, fd, st.st_dev, st.st_ino)
        stream.seek(self.tracker.start_offset)
        self.stream, self.offset, self.line_no = stream, self.tracker.start_offset, self.tracker.start_line
        self.skipping = None
        return True

    def close(self) -> None:
        if self.stream is not None:
            self.stream.close()
            self.stream = None

    def lines(self, room: int, final: bool = False) -> list[tuple[int, bytes, bool, int]]:
        """Up to ``room`` complete lines read so far, as ``read_lines`` yields
        them; ``final``: the file will not grow, a last line without newline counts."""
        out = []
        stream = self.stream
        if stream is None:
            return out
        while len(out) < room:
            if self.skipping is not None:
                kept, total = self.skipping
                chunk = stream.readline(SKIP_CHUNK)
                total += len(chunk)
                if chunk[-1:] == b"\n" or (final and not chunk):
                    self.skipping = None
                    out.append(self._hand_out(kept, True, total))
                    continue
                self.skipping = (kept, total)
                if not chunk:
                    break
                continue
            line = stream.readline(self.limit)
            if not line:
                break
            if line[-1:] != b"\n":
                if len(line) >= self.limit:
                    self.skipping = (line[:self.max_line_bytes], len(line))
                    continue
                if not final:
                    stream.seek(-len(line), os.SEEK_CUR)  # the rest of the line is still being written
                    break
                out.append(self._hand_out(line, False, len(line)))
                continue
            consumed = len(line)
            line = line[:-1]
            if line[-1:] == b"\r":
                line = line[:-1]
            out.append(self._hand_out(line, False, consumed))
        return out

    def _hand_out(self, line: bytes, over_long: bool, consumed: int) -> tuple[int, bytes, bool, int]:
        self.line_no += 1
        if self.line_no == 1 and line.startswith(UTF8_BOM):
            line = line[3:]
        self.offset += consumed
        self.last_bytes = consumed
        return self.line_no, line, over_long, consumed

    def checkpoint(self):
        return self.tracker.at(self.offset, self.line_no, self.last_bytes) if self.tracker else None

    def changed(self) -> Optional[str]:
        """After a read found nothing new: "rotated" if the name now points at
        another file, "truncated" if the file is shorter than what was read,
        "appeared" if there was no file and now there is one, else None."""
        try:
            named = os.stat(self.path)
        except FileNotFoundError:
            return None  # between a rotation's rename and the new file: keep reading the old one
        if self.stream is None:
            return "appeared"
        st = os.fstat(self.stream.fileno())
        if (named.st_dev, named.st_ino) != (st.st_dev, st.st_ino):
            return "rotated"
        if st.st_size < self.stream.tell():
            return "truncated"
        return None

    def restart(self) -> None:
        """Read the (truncated) file again from its start; its checkpoints replace the stale one."""
        self.stream.seek(0)
        self.offset = self.line_no = self.last_bytes = 0
        self.skipping = None
        st = os.fstat(self.stream.fileno())
        self.tracker = FileCheckpoint(self.workspace, self.path, self.stream.fileno(), st.st_dev, st.st_ino,
                                      replace=True)


@dataclass
class _Staging:
    """The batch being filled for one file, and when its first line came."""

    batch: StagedBatch
    since: float = 0.0
    checkpoint: object = None
    tracker: Optional[FileCheckpoint] = None

    def lines(self) -> int:
        return self.batch.staged + len(self.batch.rejects) + len(self.batch.reserved)


class Follower:
    """One ``ingest --follow`` run over several files into one workspace."""

    def __init__(self, db: Database, paths: Iterable[str], *, checker: Optional[LineChecker] = None,
                 batch_lines: int = DEFAULT_BATCH_LINES, flush_ms: int = DEFAULT_FLUSH_MS, automate: bool = False,
                 callbacks: Optional[IngestCallbacks] = None, from_start: bool = False):
        self.db = db
        self.ingestor = Ingestor(db, checker=checker, batch_lines=batch_lines, callbacks=callbacks)
        self.tails = [Tail(p, db.workspace, self.ingestor.checker.max_line_bytes) for p in paths]
        self.flush_seconds = flush_ms / 1000
        self.automate = automate
        self.from_start = from_start
        self.report = FollowReport(self.ingestor.report, RunReport(workspaces=[db.workspace]) if automate else None)
        self.upkeep = statistics.Upkeep(counted=(statistics.WORKFLOW_EVENTS,),
                                        grown=statistics.SWEEP_WRITES if automate else statistics.EVENT_TABLES)
        self.staging = {id(t): self._new_staging(t) for t in self.tails}

    def _new_staging(self, tail: Tail) -> _Staging:
        return _Staging(StagedBatch(tail.path, self.db.workspace))

    # -- writer thread -------------------------------------------------------
    def _commit(self, jobs: list[_Staging]) -> tuple[list[tuple[StagedBatch, WriteResult]], Optional[RunReport]]:
        written = [self.ingestor.write(job.batch, job.tracker, job.checkpoint) for job in jobs]
        swept = sweep_workspace(self.db.conn, self.db.workspace) if self.automate else None
        self.upkeep.wrote(self.db.conn, self.db.workspace, sum(result.ingested for _, result in written))
        return written, swept

    def _account(self, outcome) -> None:
        written, swept = outcome
        for batch, result in written:
            self.ingestor.account(batch, result)
        if swept is not None:
            self.report.automation.add(swept)
        self.report.commits += 1

    # -- reader --------------------------------------------------------------
    def _read(self, tail: Tail, final: bool = False) -> bool:
        """Stage what the file holds now (as much as fits the batch); True if anything was read."""
        staging = self.staging[id(tail)]
        room = self.ingestor.batch_lines - staging.lines()
        if room <= 0:
            return False
        lines = tail.lines(room, final)
        if not lines:
            return False
        checker = self.ingestor.checker
        if not staging.since:
            staging.since = time.monotonic()
        batch = staging.batch
        for line_no, raw, over_long, consumed in lines:
            batch.bytes_read += consumed
            checked = check_line(checker, raw, over_long, consumed)
            if checked is not None:
                self.ingestor.stage(batch, line_no, raw, checked)
        staging.tracker, staging.checkpoint = tail.tracker, tail.checkpoint()
        return True

    def _watch(self, tail: Tail) -> bool:
        """The file had nothing new: follow a rotation, truncation or new file. True if it moved."""
        change = tail.changed()
        if change is None:
            return False
        if change == "truncated":
            self._take(tail)  # what was staged from before the truncation is committed as read
            tail.restart()
        else:
            if change == "rotated":
                while self._read(tail, final=True):  # the rest of the old file, its last line even unfinished
                    if self.staging[id(tail)].lines() >= self.ingestor.batch_lines:
                        self._take(tail)
                self._take(tail)
                tail.close()
            tail.open()
        return True

    def _take(self, tail: Tail) -> None:
        """Move a file's staged batch to the queue of batches to commit."""
        staging = self.staging[id(tail)]
        if staging.lines() or staging.batch.bytes_read:
            self._queue.append(staging)
            self.staging[id(tail)] = self._new_staging(tail)

    def run(self, stop: Stop = None) -> FollowReport:
        stopper = Stopper(stop)
        for tail in self.tails:
            if tail.open(self.db.conn, self.from_start):
                self.ingestor.report.checkpoint_skipped += tail.tracker.start_line
        self._queue: list[_Staging] = []
        pending: Optional[Future] = None
        with short_switch_interval(), ThreadPoolExecutor(max_workers=1, thread_name_prefix="msp-writer") as writer:
            try:
                while True:
                    stopping = stopper.requested()
                    read_any = False
                    if not stopping:
                        for tail in self.tails:
                            if self._read(tail):
                                read_any = True
                            elif self.staging[id(tail)].lines() < self.ingestor.batch_lines:
                                read_any |= self._watch(tail)
                    if pending is not None and pending.done():
                        self._account(pending.result())
                        pending = None
                    if pending is None:  # the writer is free: commit what is due
                        now = time.monotonic()
                        for tail in self.tails:
                            staging = self.staging[id(tail)]
                            if staging.lines() and (stopping or not read_any
                                                    or staging.lines() >= self.ingestor.batch_lines
                                                    or now - staging.since >= self.flush_seconds):
                                self._take(tail)
                        if self._queue:
                            jobs, self._queue = self._queue, []
                            pending = writer.submit(self._commit, jobs)
                        elif stopping:
                            break
                    if not read_any:
                        if pending is not None:
                            wait_for([pending], timeout=IDLE_SLEEP_SECONDS)
                        else:
                            stopper.wait(IDLE_SLEEP_SECONDS)
            finally:
                if pending is not None:
                    pending.cancel()
                for tail in self.tails:
                    tail.close()
        return self.report


def follow(db: Database, paths: Iterable[str], *, stop: Stop = None, flush_ms: int = DEFAULT_FLUSH_MS,
           automate: bool = False, batch_lines: int = DEFAULT_BATCH_LINES,
           max_line_bytes: int = DEFAULT_MAX_LINE_BYTES, max_depth: Optional[int] = None,
           callbacks: Optional[IngestCallbacks] = None, from_start: bool = False) -> FollowReport:
    """Follow ``paths`` (named files, not stdin) until ``stop``; return the exact counts of the run."""
    paths = check_sources(paths)
    for path in paths:
        if path == STDIN or not stat.S_ISREG(os.stat(path).st_mode):
            raise UsageError(f"--follow reads regular files, not {'stdin' if path == STDIN else path}")
    checker = make_checker(max_line_bytes, max_depth)
    return Follower(db, paths, checker=checker, batch_lines=batch_lines, flush_ms=flush_ms, automate=automate,
                    callbacks=callbacks, from_start=from_start).run(stop)
