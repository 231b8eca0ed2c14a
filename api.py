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

    def server_status(self) -> "msp.engine.embedded.ServerStatus":
        """``msp server status``: the embedded server, read from its data directory
        (no database connection; it never starts the server)."""
        from .engine.embedded import server_status

        return server_status()

    def server_stop(self) -> "msp.engine.embedded.ServerStop":
        """``msp server stop``: stop the embedded server (no database connection).
        This workspace's own connection, if open, is closed first."""
        from .engine.embedded import server_stop

        self.close()
        return server_stop()

    # -- import (issue 13) --

    # -- review (issue 14) --


def connect(url: Optional[str] = None, workspace: Optional[str] = None, *, tz: Optional[str] = None,
            migrate: bool = True) -> Workspace:
    """A ``Workspace``: URL and workspace resolved exactly as the CLI resolves them
    (argument, then ``MSP_DATABASE_URL``/``DATABASE_URL`` and ``MSP_WORKSPACE``,
    then the embedded server and ``default``)."""
    return Workspace(resolve_settings(url, workspace, tz), migrate=migrate)
