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

    def review(self, *, week: Optional[str] = None, month: Optional[str] = None, date_from: Optional[str] = None,
               date_to: Optional[str] = None, by: str = "symbol", rule_window: int = 10, tz: Optional[str] = None,
               html: Optional[str] = None):
        """``msp review``: a ``Review`` (engine/reports/review_model.py) of the period; ``week="last"``
        / ``month="last"`` are the options given without a value.  ``html``: also write the
        self-contained HTML report to that path."""
        from .engine.reports.review import review

        report = review(self.db, week=week, month=month, date_from=date_from, date_to=date_to, by=by,
                        rule_window=rule_window, tz=tz)
        if html:
            from .engine.review_html import write_review_html

            write_review_html(report, html)
        return report


def connect(url: Optional[str] = None, workspace: Optional[str] = None, *, tz: Optional[str] = None,
            migrate: bool = True) -> Workspace:
    """A ``Workspace``: URL and workspace resolved exactly as the CLI resolves them
    (argument, then ``MSP_DATABASE_URL``/``DATABASE_URL`` and ``MSP_WORKSPACE``,
    then the embedded server and ``default``)."""
    return Workspace(resolve_settings(url, workspace, tz), migrate=migrate)
