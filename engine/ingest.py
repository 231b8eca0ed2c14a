"""``msp ingest``: stream JSON Lines from files or stdin into workflow events (docs/ARCHITECTURE.md#ingest).

Memory stays flat whatever the input size: lines are read one at a time (an
over-long line is skipped in chunks, never held whole) and at most two
batches exist at once — one being parsed on this thread while the previous
one is written by a single writer thread, so parsing overlaps the database's
work.  Every line read is counted exactly once as ingested, duplicate or
rejected; rejected lines are quarantined with their errors.

A named file is read from its checkpoint (engine/checkpoints.py) when the
stored one still holds: the lines before it are counted as
``checkpoint_skipped``, not read; each batch saves the file's new checkpoint
in its own transaction.  stdin has no checkpoint.
"""

from __future__ import annotations

import os
import stat
import sys
import threading
from collections import Counter
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import BinaryIO, Callable, Iterable, Iterator, Optional

import orjson

from . import statistics
from .checkpoints import FileCheckpoint
from .db import Database
from .event_store import StagedBatch, WriteResult, write_batch
from .sources import Source, check_path, resolve_sources
from .line_counts import IngestCounts
from .limits import DEFAULT_BATCH_LINES, DEFAULT_MAX_DEPTH, DEFAULT_MAX_LINE_BYTES
from .validation import Checked, LineChecker, Problem, reserved_id_only

BATCH_BYTES = 8 * 1024 * 1024
UTF8_BOM = b"\xef\xbb\xbf"
WRITER_SWITCH_INTERVAL = 0.0005  # seconds (sys.setswitchinterval) while a writer thread runs
LIST_LIMIT = 1000  # conflicts/warnings kept for the report; counts stay exact


@dataclass
class LineIssue:
    """A rejected line, a warning or a conflict, located in its source."""

    source: str
    line: int
    path: str
    message: str

    def as_dict(self) -> dict:
        return {"source": self.source, "line": self.line, "path": self.path, "message": self.message}


@dataclass
class IngestReport:
    """Exact counts of one run.  For JSON Lines a line is one event; for an import
    (``ingest_rows``) read/ingested/duplicates/rejected count source rows — a row
    is ingested if at least one of its events was new, a duplicate if all of them
    were already stored — and ``events_*`` count the events themselves."""

    read: int = 0
    ingested: int = 0
    duplicates: int = 0
    conflicts: int = 0
    rejected: int = 0
    warnings: int = 0
    checkpoint_skipped: int = 0  # lines of files before their checkpoint: not read this run
    events_ingested: int = 0
    events_duplicate: int = 0
    conflict_list: list[LineIssue] = field(default_factory=list)
    warning_list: list[LineIssue] = field(default_factory=list)

    def counts(self) -> dict:
        """The counts every ingest reports (engine/line_counts.py names them)."""
        return {name: getattr(self, name) for name in IngestCounts.model_fields}


@dataclass
class SourceRow:
    """One row of a source that is not JSON Lines (a CSV row, a webhook body), as an
    importer turned it into events: every event is checked against the schemas and
    stored like an ingested line; the row is rejected whole, with its raw bytes
    quarantined, if it has problems or any of its events fails a schema."""

    line: int  # where the row starts in its file (1-based; a CSV header is line 1)
    raw: bytes  # the row exactly as read
    events: list = field(default_factory=list)
    problems: list = field(default_factory=list)  # Problem(column, message)
    warnings: list = field(default_factory=list)  # Problem(column, message)
    columns: dict = field(default_factory=dict)  # JSON pointer prefix of an event field → the column it came from
    bytes_read: int = 0
    origin: str = "import"  # the format, recorded with a rejected row's errors (``msp rejects retry`` skips those)
    known_events: int = 0  # an importer found this row's events stored already and made none (a duplicate)


def locate(path: str, columns: dict) -> str:
    """The source column a schema error's JSON pointer came from (longest prefix), else the pointer."""
    best = None
    for prefix, column in columns.items():
        if (path == prefix or path.startswith(prefix + "/")) and (best is None or len(prefix) > len(best[0])):
            best = (prefix, column)
    return best[1] if best else path


@dataclass
class IngestCallbacks:
    """Hooks the CLI uses to print as it goes; the engine itself never prints."""

    on_reject: Optional[Callable[[LineIssue], None]] = None
    on_warning: Optional[Callable[[LineIssue], None]] = None
    on_conflict: Optional[Callable[[LineIssue], None]] = None
    on_progress: Optional[Callable[[int], None]] = None  # bytes read since the last call


_switch_lock = threading.Lock()
_switch_users = 0
_switch_saved = 0.0


@contextmanager
def short_switch_interval() -> Iterator[None]:
    """While a writer thread runs: it needs the GIL back after every round trip
    to the server, and with the default 5 ms switch interval the parsing thread
    keeps it that long each time.  The interval is process-wide, so concurrent
    ingests (msp used as a library) share one setting and the last restores it."""
    global _switch_users, _switch_saved
    with _switch_lock:
        if _switch_users == 0:
            _switch_saved = sys.getswitchinterval()
            sys.setswitchinterval(WRITER_SWITCH_INTERVAL)
        _switch_users += 1
    try:
        yield
    finally:
        with _switch_lock:
            _switch_users -= 1
            if _switch_users == 0:
                sys.setswitchinterval(_switch_saved)


def check_sources(paths: Iterable[str]) -> list[str]:
    """Fail before reading anything if a named file is missing or unreadable."""
    return [check_path(path) for path in paths]


def read_lines(stream: BinaryIO, max_line_bytes: int, first_line: int = 0,
               ) -> Iterator[tuple[int, bytes, bool, int]]:
    """Yield (line number, line without newline, over-long?, bytes consumed),
    numbering on from ``first_line`` (a stream read from a checkpoint).

    A line longer than the limit is consumed in chunks; only its first
    ``max_line_bytes`` bytes are kept and it is flagged over-long.
    """
    limit = max_line_bytes + 2  # room for "\r\n"
    line_no = first_line
    readline = stream.readline
    while True:
        line = readline(limit)
        if not line:
            return
        line_no += 1
        consumed = len(line)
        if line_no == 1 and line.startswith(UTF8_BOM):
            line = line[3:]
        if line[-1:] != b"\n" and consumed >= limit:
            total = consumed
            while True:
                chunk = readline(1 << 20)
                total += len(chunk)
                if not chunk or chunk[-1:] == b"\n":
                    break
            yield line_no, line[:max_line_bytes], True, total
            continue
        if line[-1:] == b"\n":
            line = line[:-1]
            if line[-1:] == b"\r":
                line = line[:-1]
        yield line_no, line, False, consumed


def checked_lines(stream: BinaryIO, checker: LineChecker, first_line: int = 0,
                  ) -> Iterator[tuple[int, bytes, int, Optional[Checked]]]:
    """Yield (line number, raw line, bytes consumed, Checked) for every line;
    Checked is None for a blank line, which is not an event and not counted."""
    for line_no, raw, over_long, consumed in read_lines(stream, checker.max_line_bytes, first_line):
        yield line_no, raw, consumed, check_line(checker, raw, over_long, consumed)


def check_line(checker: LineChecker, raw: bytes, over_long: bool, consumed: int) -> Optional[Checked]:
    """One line read as ``read_lines`` yields it, checked (None: a blank line)."""
    if over_long:
        problem = Problem("", f"line is over the {checker.max_line_bytes}-byte limit ({consumed} bytes)")
        return Checked(errors=[problem], truncated=True)
    if not raw or raw.isspace():
        return None
    return checker.check(raw)


class Ingestor:
    """One ingest run into one workspace; reusable across several sources."""

    def __init__(
        self,
        db: Database,
        *,
        checker: Optional[LineChecker] = None,
        batch_lines: int = DEFAULT_BATCH_LINES,
        callbacks: Optional[IngestCallbacks] = None,
        from_start: bool = False,
    ):
        self.db = db
        self.from_start = from_start  # ignore the files' checkpoints (they still move forward)
        self.checker = checker or LineChecker()
        self.batch_lines = batch_lines
        self.callbacks = callbacks or IngestCallbacks()
        self.report = IngestReport()
        self._optimistic = True

    # -- writing -------------------------------------------------------------
    def write(self, batch: StagedBatch, tracker: Optional[FileCheckpoint] = None,
               checkpoint=None) -> tuple[StagedBatch, WriteResult]:
        # optimistic COPY unless the previous batch met stored events (a re-run, say)
        after = (lambda conn, _result: tracker.save(conn, checkpoint)) if checkpoint is not None else None
        result = write_batch(self.db.conn, self.db.workspace, batch, after=after, optimistic=self._optimistic)
        self._optimistic = result.stored_duplicates == 0
        return batch, result

    def account(self, batch: StagedBatch, result: WriteResult) -> None:
        """Counters move, and the batch's lines are reported (in line order), only once it has committed."""
        cb = self.callbacks
        report = self.report
        rejects = batch.rejects + result.late_rejects
        if batch.row_events is None:
            report.read += batch.staged + len(batch.rejects) + len(batch.reserved)
            report.ingested += result.ingested
            report.duplicates += result.duplicates
            report.rejected += len(rejects)
        else:
            self._account_rows(batch, result)
        told = []  # (line_no, order, callback, issue)
        for line_no, _raw, _trunc, problems in rejects:
            for problem in problems:
                told.append((line_no, 0, cb.on_reject, LineIssue(batch.source, line_no, problem["path"],
                                                                  problem["message"])))
        for line_no, event_id in result.conflicts:
            report.conflicts += 1
            issue = LineIssue(batch.source, line_no, "/event_id",
                              f"conflict: event {event_id} is already stored with different content (kept the stored one)")
            if len(report.conflict_list) < LIST_LIMIT:
                report.conflict_list.append(issue)
            told.append((line_no, 1, cb.on_conflict, issue))
        for issue in self._stored_warnings(batch, result):
            report.warnings += 1
            if len(report.warning_list) < LIST_LIMIT:
                report.warning_list.append(issue)
            told.append((issue.line, 2, cb.on_warning, issue))
        for _line, _order, callback, issue in sorted(told, key=lambda t: t[:2]):
            if callback:
                callback(issue)
        if cb.on_progress:
            cb.on_progress(batch.bytes_read)

    def _account_rows(self, batch: StagedBatch, result: WriteResult) -> None:
        report = self.report
        late = {line_no for line_no, *_ in result.late_rejects}
        duplicate_events = Counter(result.duplicate_lines)
        rows = {line: n for line, n in batch.row_events.items() if line not in late}
        duplicates = sum(1 for line, n in rows.items() if duplicate_events[line] >= n)
        report.read += len(batch.row_events) + len(batch.rejects)
        report.ingested += len(rows) - duplicates
        report.duplicates += duplicates
        report.rejected += len(batch.rejects) + len(late)
        report.events_ingested += result.ingested
        report.events_duplicate += result.duplicates + batch.known_events

    @staticmethod
    def _stored_warnings(batch: StagedBatch, result: WriteResult) -> Iterator[LineIssue]:
        """Warnings only for the lines this run stored as new events: a line seen
        before (a re-run, a repeat in the file) was warned about when it was stored,
        so cron stays silent, and the summary's count is what was printed."""
        for line_no, event_id, problems in batch.warnings:
            row = batch.rows.get(event_id)
            if row is not None and row.line_no == line_no and event_id not in result.not_stored:
                for problem in problems:
                    yield LineIssue(batch.source, line_no, problem.path, problem.message)

    # -- reading -------------------------------------------------------------
    def _batches(self, source: str, stream: BinaryIO, tracker: Optional[FileCheckpoint] = None,
                 ) -> Iterator[tuple[StagedBatch, object]]:
        """Yield (batch, the file's checkpoint once it commits — None for stdin)."""
        batch = StagedBatch(source, self.db.workspace)
        batch_bytes = 0
        first_line = tracker.start_line if tracker else 0
        offset = tracker.start_offset if tracker else 0
        line_no = first_line
        consumed = 0

        def checkpoint():
            return tracker.at(offset, line_no, consumed) if tracker else None

        for line_no, raw, consumed, checked in checked_lines(stream, self.checker, first_line):
            batch.bytes_read += consumed
            offset += consumed
            if checked is None:
                continue
            self.stage(batch, line_no, raw, checked)
            batch_bytes += len(raw)
            if batch.staged + len(batch.rejects) + len(batch.reserved) >= self.batch_lines or batch_bytes >= BATCH_BYTES:
                yield batch, checkpoint()
                batch = StagedBatch(source, self.db.workspace)
                batch_bytes = 0
        if batch.staged or batch.rejects or batch.reserved or batch.bytes_read:
            yield batch, checkpoint()

    def stage(self, batch: StagedBatch, line_no: int, raw: bytes, checked: Checked) -> None:
        """Add a checked (non-blank) line to ``batch``: an event, or a reject."""
        if checked.errors:
            reserved = reserved_id_only(checked, raw)
            if reserved is not None:  # settled by the writer: a re-import of msp's own event, or refused
                batch.add_reserved(line_no, raw, reserved, [p.as_dict() for p in checked.errors])
            else:
                batch.add_reject(line_no, raw, checked.truncated, [p.as_dict() for p in checked.errors])
        else:
            batch.add_event(line_no, checked.event_id, checked.derived_id, raw, checked.event, exact=checked.exact)
            if checked.warnings:  # told once the batch commits, if this line stored its event
                batch.warnings.append((line_no, checked.event_id, checked.warnings))

    def _row_batches(self, source: str, rows: Iterable[SourceRow]) -> Iterator[StagedBatch]:
        def new_batch() -> StagedBatch:
            batch = StagedBatch(source, self.db.workspace)
            batch.row_events = {}
            return batch

        check = self.checker.check
        batch, batch_bytes = new_batch(), 0
        for row in rows:
            batch.bytes_read += row.bytes_read
            problems = list(row.problems)
            accepted = []
            if not problems:
                for event in row.events:
                    body = orjson.dumps(event)
                    checked = check(body)
                    if checked.errors:
                        problems.extend(Problem(locate(p.path, row.columns), p.message) for p in checked.errors)
                    else:
                        accepted.append((checked, body))
            if problems:
                batch.add_reject(row.line, row.raw, False, [{**p.as_dict(), "import": row.origin} for p in problems])
            else:
                for checked, body in accepted:
                    batch.add_event(row.line, checked.event_id, checked.derived_id, body, checked.event,
                                    source_raw=row.raw)
                    if checked.warnings:
                        batch.warnings.append((row.line, checked.event_id,
                                               [Problem(locate(p.path, row.columns), p.message)
                                                for p in checked.warnings]))
                batch.row_events[row.line] = len(accepted)
                batch.known_events += row.known_events
                if row.warnings and accepted:  # told with the row's first event, once it is stored
                    batch.warnings.append((row.line, accepted[0][0].event_id, list(row.warnings)))
            batch_bytes += len(row.raw) + sum(len(body) for _c, body in accepted)
            if len(batch.row_events) + len(batch.rejects) >= self.batch_lines or batch_bytes >= BATCH_BYTES:
                yield batch
                batch, batch_bytes = new_batch(), 0
        if batch.staged or batch.rejects or batch.reserved or batch.bytes_read:
            yield batch

    def ingest_stream(self, source: str, stream: BinaryIO, tracker: Optional[FileCheckpoint] = None) -> None:
        """Read, validate and write one stream (from ``tracker``'s start, saving its
        checkpoints); parse batch N+1 while batch N is written."""
        self._write_batches(self._batches(source, stream, tracker), tracker)

    def ingest_rows(self, source: str, rows: Iterable[SourceRow]) -> IngestReport:
        """Validate and write the events an importer made from a source's rows, counting rows."""
        self._write_batches((batch, None) for batch in self._row_batches(source, rows))
        self.refresh_statistics()
        return self.report

    def _write_batches(self, batches: Iterable[tuple[StagedBatch, object]],
                       tracker: Optional[FileCheckpoint] = None) -> None:
        """Write (batch, checkpoint) pairs, each checkpoint saved in its batch's transaction."""
        with short_switch_interval(), ThreadPoolExecutor(max_workers=1, thread_name_prefix="msp-writer") as writer:
            pending: Optional[Future] = None
            try:
                for batch, checkpoint in batches:
                    if pending is not None:
                        self.account(*pending.result())
                    pending = writer.submit(self.write, batch, tracker, checkpoint)
                if pending is not None:
                    self.account(*pending.result())
                    pending = None
            finally:
                if pending is not None:
                    pending.cancel()

    def ingest_sources(self, sources: Iterable[Source]) -> IngestReport:
        for source in sources:
            with source.open() as stream:
                self.ingest_stream(source.name, stream, self.checkpoint(source, stream))
        self.refresh_statistics()
        return self.report

    def checkpoint(self, source: Source, stream: BinaryIO) -> Optional[FileCheckpoint]:
        """The checkpoint of a regular file on disk, ``stream`` moved to where it
        starts; None for stdin, a pipe named as a file (``<(zcat …)``), a file
        object or events, which are read whole."""
        if source.path is None or not stat.S_ISREG(os.fstat(stream.fileno()).st_mode):
            return None
        tracker = FileCheckpoint.open(self.db.conn, self.db.workspace, source.path, stream.fileno(), self.from_start)
        stream.seek(tracker.start_offset)
        self.report.checkpoint_skipped += tracker.start_line
        if tracker.start_offset and self.callbacks.on_progress:
            self.callbacks.on_progress(tracker.start_offset)  # the known prefix counts as done
        return tracker

    def refresh_statistics(self) -> None:
        """After the run: the event tables' statistics, if it (or the runs before it) made them stale."""
        added = self.report.events_ingested or self.report.ingested
        if added:
            statistics.refresh_after_writes(self.db.conn, self.db.workspace, counted=(statistics.WORKFLOW_EVENTS,),
                                            added=added, grown=statistics.EVENT_TABLES)


def make_checker(max_line_bytes: int = DEFAULT_MAX_LINE_BYTES, max_depth: Optional[int] = None) -> LineChecker:
    """The line checker of an ingest with these limits (None: the default depth)."""
    return LineChecker(max_line_bytes=max_line_bytes,
                       max_depth=DEFAULT_MAX_DEPTH if max_depth is None else max_depth)


def ingest(db: Database, sources, *, stdin: Optional[BinaryIO] = None,
           callbacks: Optional[IngestCallbacks] = None, batch_lines: int = DEFAULT_BATCH_LINES,
           max_line_bytes: int = DEFAULT_MAX_LINE_BYTES, max_depth: Optional[int] = None,
           from_start: bool = False) -> IngestReport:
    """Ingest ``sources`` (paths, ``-`` for stdin, file objects or events: see
    ``engine/sources.py``) into ``db``'s workspace, each file on disk from its
    checkpoint unless ``from_start``; return the exact counts."""
    resolved = resolve_sources(sources, stdin)
    return Ingestor(db, checker=make_checker(max_line_bytes, max_depth), batch_lines=batch_lines,
                    callbacks=callbacks, from_start=from_start).ingest_sources(resolved)


@dataclass
class ValidationReport:
    read: int = 0
    valid: int = 0
    invalid: int = 0
    warnings: int = 0

    def counts(self) -> dict:
        return asdict(self)


def validate(sources, *, stdin: Optional[BinaryIO] = None, callbacks: Optional[IngestCallbacks] = None,
             checker: Optional[LineChecker] = None) -> ValidationReport:
    """Check ``sources`` against the schemas exactly as ingest would, touching no database."""
    resolved = resolve_sources(sources, stdin)
    checker = checker or LineChecker()
    callbacks = callbacks or IngestCallbacks()
    report = ValidationReport()
    for source in resolved:
        with source.open() as stream:
            for line_no, _raw, _consumed, checked in checked_lines(stream, checker):
                if checked is None:
                    continue
                report.read += 1
                if checked.errors:
                    report.invalid += 1
                    for problem in checked.errors:
                        if callbacks.on_reject:
                            callbacks.on_reject(LineIssue(source.name, line_no, problem.path, problem.message))
                else:
                    report.valid += 1
                for problem in checked.warnings:
                    report.warnings += 1
                    if callbacks.on_warning:
                        callbacks.on_warning(LineIssue(source.name, line_no, problem.path, problem.message))
    return report
