"""``msp archive --before DATE``: move finished workflows out of the hot tables
(docs/ARCHITECTURE.md#retention).

A workflow is archived whole, when its last event came before local midnight
of DATE, the sweep has passed all of its events, and nothing of it is open (no
open position, pending task or open journal entry, no journal entry of it
enriched at or after the cutoff; an alert still active goes with it).  Its events go to a gzip'd JSONL
file, exactly as stored and in seq order (``msp ingest FILE`` reads it back),
and leave ``workflow_events`` with their derived rows; their ids stay in
``archived_events``, so ingesting them again stores nothing.

Exactly once, under the workspace's writer lock in ONE transaction: write
``FILE.partial`` and fsync it, record the archive and its event ids, delete the
hot rows, commit, then rename ``FILE.partial`` to ``FILE`` (and fsync the
folder).  Killed before the commit, nothing in the database changed and the
next run rewrites the partial file; killed between the commit and the rename,
the next run (or ``finish_renames``) finds the committed archive's file still
partial and renames it first.  So every event is in the hot table or in a
committed archive's file, never both, never neither.
"""

from __future__ import annotations

import datetime as dt
import gzip
import os
from collections import Counter
from pathlib import Path
from typing import Optional
from zoneinfo import ZoneInfo

from . import trade_facts
from .db import Database, iso
from .errors import InputRejected, UsageError
from .event_store import lock_writers
from .sql import query

PARTIAL = ".partial"
DERIVED_TABLES = ("positions", "alerts", "journal_entries", "journal_enrichments", "coach_analyses",
                  "coach_tasks", "workflow_stages")
KEPT_REASONS = ("not_swept", "open_position", "pending_task", "open_journal", "enriched_later")


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _partial(path: Path) -> Path:
    return path.with_name(path.name + PARTIAL)


def finish_renames(db: Database) -> list[str]:
    """Rename the file of every committed archive of the workspace that a crash
    left as ``FILE.partial`` (killed between the commit and the rename)."""
    with db.transaction():
        paths = [Path(r[0]) for r in db.conn.execute(query("archive.used_paths"), {"workspace": db.workspace})]
    done = []
    for path in paths:
        partial = _partial(path)
        if not path.exists() and partial.exists():
            os.replace(partial, path)
            _fsync_dir(path.parent)
            done.append(str(path))
    return done


def _check_target(to: str) -> Path:
    """The --to path, absolute; refused (exit 1) where no file can be written, before any work."""
    path = Path(to).expanduser().absolute()
    if path.name.endswith(PARTIAL):
        raise UsageError(f"--to {to}: a name ending in {PARTIAL} is the archive's own work file")
    try:
        if len(os.fsencode(path.name + PARTIAL)) > os.pathconf(path.parent if path.parent.is_dir() else "/",
                                                               "PC_NAME_MAX"):
            raise InputRejected(f"--to: the file name is too long ({len(path.name)} characters)")
        if path.is_dir():
            raise InputRejected(f"--to {to}: is a folder; name a new file")
        if not path.parent.is_dir():
            raise InputRejected(f"--to {to}: no such folder {path.parent}")
    except OSError as exc:
        raise InputRejected(f"--to: cannot use that path: {exc.strerror or exc}") from None
    return path


def _default_path(workspace: str, before: dt.date, used: set[str]) -> Path:
    base = Path.cwd() / f"msp-archive-{workspace}-before-{before.isoformat()}"
    n = 1
    while True:
        path = base.with_name(base.name + (f"-{n}" if n > 1 else "") + ".jsonl.gz")
        if str(path) not in used and not path.exists():
            return path
        n += 1


def _write_file(db: Database, partial: Path, workflows: list[str], crash_hook=None) -> int:
    """Stream the events to ``partial`` (gzip, no timestamp in its header) and fsync it."""
    lines = 0
    with open(partial, "wb") as raw:
        with gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as gz:
            with db.conn.cursor(name="msp_archive_events") as cur:
                cur.itersize = 5000
                cur.execute(query("archive.events"), {"workspace": db.workspace, "workflows": workflows})
                for (text,) in cur:
                    gz.write(text.encode() + b"\n")
                    lines += 1
                    if crash_hook is not None and lines == 1:
                        crash_hook("file_started")
        raw.flush()
        os.fsync(raw.fileno())
    return lines


def archive(db: Database, before: dt.date, to: Optional[str] = None, dry_run: bool = False,
            tz: Optional[str] = None, crash_hook=None) -> dict:
    """Archive the workspace's finished workflows whose last event came before
    local midnight of ``before`` (in ``tz``, else the reports' zone).  ``crash_hook``
    (tests only) is called by name at each step, for SIGKILL tests."""
    from .reports.window import resolve_tz

    hook = crash_hook or (lambda _step: None)
    requested = _check_target(to) if to else None
    renamed = [] if dry_run else finish_renames(db)
    with db.transaction():
        zone_name = resolve_tz(db, tz)
        cutoff = dt.datetime.combine(before, dt.time.min, tzinfo=ZoneInfo(zone_name)).astimezone(dt.timezone.utc)
        params = {"workspace": db.workspace, "before": cutoff}
        if not dry_run:
            lock_writers(db.conn, db.workspace)
        rows = db.conn.execute(query("archive.old_workflows"), params).fetchall()
        workflows = [w for w, _n, kept in rows if kept is None]
        events = sum(n for _w, n, kept in rows if kept is None)
        kept = Counter(kept for _w, _n, kept in rows if kept is not None)
        result = {"before": before.isoformat(), "cutoff": iso(cutoff), "dry_run": dry_run, "file": None,
                  "workflows": len(workflows), "events": events,
                  "kept": {reason: kept.get(reason, 0) for reason in KEPT_REASONS},
                  "rows": {table: 0 for table in DERIVED_TABLES}, "renamed": renamed}
        if dry_run or not workflows:
            return result
        used = {r[0] for r in db.conn.execute(query("archive.used_paths"), params)}
        path = requested or _default_path(db.workspace, before, used)
        if str(path) in used or path.exists():
            raise UsageError(f"--to {to or path}: the file exists; archive to a new file")
        partial = _partial(path)
        hook("before_file")
        try:
            written = _write_file(db, partial, workflows, hook)
        except OSError as exc:
            raise InputRejected(f"cannot write {partial}: {exc.strerror or exc}") from None
        hook("file_written")
        if written != events:
            raise RuntimeError(f"archive: wrote {written} events, expected {events}")  # the lock makes this impossible
        db.conn.execute(query("archive.set_archiving"), params)
        number = db.conn.execute(query("archive.next_no"), params).fetchone()[0]
        params.update(workflows=workflows, archive_no=number, path=str(path),
                      workflow_count=len(workflows), event_count=events)
        db.conn.execute(query("archive.record_archive"), params)
        recorded = db.conn.execute(query("archive.record_events"), params).rowcount
        # closed_trades stays: its rows keep what the review groups each trade by, computed now,
        # while the events are there (a close stored before migrations/019 may have none yet)
        trade_facts.store(db.conn, db.workspace, workflows)
        derived = db.conn.execute(query("archive.delete_derived"), params).fetchone()
        deleted = db.conn.execute(query("archive.delete_events"), params).rowcount
        if not recorded == deleted == events:
            raise RuntimeError(f"archive: recorded {recorded}, deleted {deleted}, expected {events} events")
        result["rows"] = dict(zip(DERIVED_TABLES, derived))
        result["file"] = str(path)
        hook("before_commit")
    hook("committed")
    os.replace(partial, path)
    _fsync_dir(path.parent)
    hook("renamed")
    return result
