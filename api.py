"""msp's Python API: the twin of every command (``msp.connect(...)`` → ``Workspace``).

The command line and this module call the same engine functions: a click
command parses its options, calls one ``Workspace`` method and renders the
result.  The twin of ``msp A B`` is ``Workspace.a_b()`` (``tasks_accept()``,
``rejects_retry()``), its parameters named as the command's options.

    import msp
    ws = msp.connect()            # URL and workspace resolved as the CLI does
    ws.emit("signal.created", {...}, workflow_id="wf-1")
    print(ws.today().model_dump(mode="json"))
"""

from __future__ import annotations

from typing import Optional

from .engine.config import Settings, resolve_settings
from .engine.db import Database


class Workspace:
    """One workspace of one database.  The database is migrated on first use,
    as every command does; ``close()`` (or ``with``) releases the connection."""

    def __init__(self, settings: Settings, *, migrate: bool = True):
        self.settings = settings
        self._migrate = migrate
        self._db: Optional[Database] = None

    @property
    def name(self) -> str:
        return self.settings.workspace

    @property
    def db(self) -> Database:
        """The engine's database handle (opened, and migrated, on first use)."""
        if self._db is None:
            db = Database(self.settings)
            if self._migrate:
                from .engine.migrations import migrate

                migrate(db.conn)
            self._db = db
        return self._db

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    def __enter__(self) -> "Workspace":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- one section per command family; each method is the twin of one command --

    # -- ingest, validate, emit (issue 12) --

    # -- automate (issue 12) --

    # -- reports: today, conversion, presence, trace (issue 12) --

    # -- tasks, state, alerts, journal, rejects (issue 12) --

    # -- server, doctor, migrate (issues 10, 17) --

    # -- import (issue 13) --

    # -- review (issue 14) --

    # -- ingest follow (issue 15) --

    def ingest_follow(self, files, *, automate: bool = False, flush_ms: int = 200, batch_size: int = 5000,
                      max_line_bytes: int = 1024 * 1024, max_depth: Optional[int] = None, from_start: bool = False,
                      stop=None):
        """The twin of ``msp ingest --follow FILE…``: tail the files (from their
        checkpoints) until ``stop`` (a ``threading.Event``, or a callable returning
        True) and return the run's ``FollowSummary``."""
        from .engine.follow import follow

        return follow(self.db, files, stop=stop, flush_ms=flush_ms, automate=automate, batch_lines=batch_size,
                      max_line_bytes=max_line_bytes, max_depth=max_depth, from_start=from_start).summary()

    def automate_follow(self, *, poll_seconds: float = 1.0, batch_size: Optional[int] = None,
                        all_workspaces: bool = False, stop=None, on_sweep=None, on_notice=None):
        """The twin of ``msp automate --follow``: sweep whenever events commit
        until ``stop``; ``on_sweep(report)`` sees each sweep, ``on_notice(message)``
        the one-line notices; returns the ``FollowTotals``."""
        from .engine.automations import DEFAULT_BATCH_SIZE
        from .engine.automations.follow import follow

        return follow(self.db, on_sweep or (lambda report: None), batch_size=batch_size or DEFAULT_BATCH_SIZE,
                      all_workspaces=all_workspaces, poll_seconds=poll_seconds, stop=stop,
                      on_notice=on_notice or (lambda message: None))


def connect(url: Optional[str] = None, workspace: Optional[str] = None, *, tz: Optional[str] = None,
            migrate: bool = True) -> Workspace:
    """A ``Workspace``: URL and workspace resolved exactly as the CLI resolves them
    (argument, then ``MSP_DATABASE_URL``/``DATABASE_URL`` and ``MSP_WORKSPACE``,
    then the embedded server and ``default``)."""
    return Workspace(resolve_settings(url, workspace, tz), migrate=migrate)
