"""``--all-workspaces`` over several connections: the pending workspaces of a
desk swept a few at a time (docs/SCALING.md).

A workspace's sweep is a chain of short statements, each waiting on a few
index pages of that workspace only; on a desk those pages are mostly cold, so
one connection spends its time waiting on reads one after another (about 40 ms
a workspace on bench/desk.py).  Workspaces share nothing a sweep writes (each
has its own writer lock, checkpoint and registry row), so ``jobs`` connections
take the pending workspaces from one queue in order and their reads overlap.
The caller's connection is one of them; each other one is opened for the run
and closed after it.  A helper that cannot connect (a server at its connection
limit) leaves the work to the others.  Each workspace is swept by
``sweep_isolated`` exactly as with one connection, and the reports come back
in the order of the names, so the counters and the skip list do not depend on
which connection swept what.  A stop request ends each connection's work
after the workspace in hand; an error that ends the whole sweep (a lost
connection) stops the others the same way and is raised once they are done.
"""

from __future__ import annotations

import threading
from typing import Callable, Optional

from ..db import Database
from ..errors import DatabaseError, UsageError
from .runner import RunReport, sweep_isolated

DEFAULT_JOBS = 4  # connections an `--all-workspaces` sweep uses at most


def check_jobs(jobs: Optional[int], all_workspaces: bool) -> None:
    """The one rule on a sweep's connection count, for the API and the CLI alike: a count applies
    to ``all_workspaces`` only, and is at least 1 (None: ``DEFAULT_JOBS``)."""
    if jobs is None:
        return
    if not all_workspaces:
        raise UsageError("--jobs applies to --all-workspaces (one workspace is swept on one connection)")
    if jobs < 1:
        raise UsageError(f"jobs must be at least 1, not {jobs}")


def sweep_workspaces(db: Database, names: list[str], *, jobs: int = DEFAULT_JOBS, batch_size: int,
                     since: Optional[str], stop: Callable[[], bool]) -> list[RunReport]:
    """The report of each workspace swept, in the order of ``names`` (those not
    reached before a stop are missing)."""
    check_jobs(jobs, all_workspaces=True)
    pending = iter(enumerate(names))
    taking = threading.Lock()
    reports: dict[int, RunReport] = {}
    errors: list[BaseException] = []
    ended = threading.Event()  # an error ends every connection's work (never set from a signal handler)

    def next_name() -> Optional[tuple[int, str]]:
        with taking:
            return None if stop() or ended.is_set() else next(pending, None)

    def work(handle: Database) -> None:
        try:
            item = next_name()
            while item is not None:
                index, name = item
                reports[index] = sweep_isolated(handle, name, batch_size=batch_size, since=since, stop=stop)
                item = next_name()
        except BaseException as exc:  # re-raised by the caller's thread below
            errors.append(exc)
            ended.set()

    def helper() -> None:
        handle = Database(db.settings, db.url)
        try:
            handle.conn
        except DatabaseError:  # what connecting raises (engine/db.py connect), e.g. too many connections
            return  # no connection to spare: the others sweep its share
        try:
            work(handle)
        finally:
            handle.close()

    helpers = [threading.Thread(target=helper, name=f"msp-sweep-{k}", daemon=True)
               for k in range(min(jobs, len(names)) - 1)]
    for thread in helpers:
        thread.start()
    try:
        work(db)
    finally:
        try:
            for thread in helpers:
                thread.join()
        except BaseException:  # interrupted while waiting: the helpers stop after the workspace in hand
            ended.set()
            raise
    if errors:
        raise errors[0]
    return [reports[index] for index in sorted(reports)]
