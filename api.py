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

    # -- migrate (issue 17) --

    def _on_migrations_database(self, work):
        """``work(db)`` on the database without the migrate-on-first-use: status, dry-run and
        check apply nothing, and migrate applies under its own timeouts."""
        if self._db is not None or not self._migrate:
            return work(self.db)
        with Database(self.settings) as db:
            return work(db)

    def migrate(self, *, lock_timeout: float = 5.0, statement_timeout: float = 300.0, retries: int = 3):
        """Twin of ``msp migrate``: apply pending migrations; a ``MigrateResult``.  A lock not
        granted within ``lock_timeout`` seconds rolls back and is retried ``retries`` times with
        backoff, then ``MigrationBlocked`` (exit 3) names the table and the blocking process."""
        from .engine.migrations import MigrateResult, Timeouts, current_level, migrate

        timeouts = Timeouts(lock_timeout=lock_timeout, statement_timeout=statement_timeout, retries=retries)

        def work(db: Database):
            applied = migrate(db.conn, timeouts=timeouts)
            return MigrateResult(applied=[m.filename for m in applied], level=current_level(db.conn))

        return self._on_migrations_database(work)

    def migrate_status(self):
        """Twin of ``msp migrate --status``: a ``MigrationStatus`` (applied with when, pending,
        changed, missing); applies nothing."""
        from .engine.db import describe_target
        from .engine.migration_status import migration_status

        return self._on_migrations_database(lambda db: migration_status(db.conn, describe_target(db.url)))

    def migrate_dry_run(self):
        """Twin of ``msp migrate --dry-run``: a ``DryRun``, each statement that would run with
        the lock it takes on which table; applies nothing."""
        from .engine.db import describe_target
        from .engine.migration_plan import dry_run

        return self._on_migrations_database(lambda db: dry_run(db.conn, describe_target(db.url)))

    def migrate_check(self, *, offline: bool = False):
        """Twin of ``msp migrate --check``: a ``CheckReport`` of the static checks, squawk's lint
        for the server's version and a double run on a scratch database of that server
        (``offline``: no database, the static checks and the lint for PostgreSQL 15)."""
        from .engine.migration_check import run_check

        if offline:
            return run_check(None)
        return self._on_migrations_database(lambda db: run_check(db.url))

    # -- import (issue 13) --

    def _import(self, request, *, automate: bool, callbacks, stdin):
        from .engine.imports import run_import

        if request.tz is None:
            request.tz = self.settings.tz
        return run_import(self.db, request, stdin=stdin, callbacks=callbacks, automate=automate)

    def import_backtest(self, file: str, *, symbol: Optional[str] = None, strategy: str,
                        source_format: Optional[str] = None, tz: Optional[str] = None,
                        session_open: str = "09:30", session_close: str = "16:00", automate: bool = False,
                        callbacks=None, stdin=None):
        """``msp import backtest FILE --symbol SYM --strategy NAME [--from backtesting|vectorbt]``:
        each trade of a backtesting.py or vectorbt trade list as a plan → executed → closed workflow."""
        from .engine.imports import ImportRequest
        from .engine.imports.rows import session_time

        request = ImportRequest("backtest", file, tz=tz, symbol=symbol, strategy=strategy,
                                source_format=source_format,
                                session_open=session_time(session_open, "--session-open"),
                                session_close=session_time(session_close, "--session-close"))
        return self._import(request, automate=automate, callbacks=callbacks, stdin=stdin)

    def import_fills(self, file: str, *, broker: str = "ibkr", map: Optional[str] = None, tz: Optional[str] = None,
                     session_open: str = "09:30", session_close: str = "16:00", automate: bool = False,
                     callbacks=None, stdin=None):
        """``msp import fills FILE --broker ibkr|generic [--map FIELD=COLUMN,…]``: executions
        matched FIFO per account and symbol into trades."""
        from .engine.imports import ImportRequest
        from .engine.imports.rows import session_time

        request = ImportRequest("fills", file, tz=tz, broker=broker, mapping=map,
                                session_open=session_time(session_open, "--session-open"),
                                session_close=session_time(session_close, "--session-close"))
        return self._import(request, automate=automate, callbacks=callbacks, stdin=stdin)

    def import_tradingview(self, file: str, *, confidence: Optional[float] = None, tz: Optional[str] = None,
                           automate: bool = False, callbacks=None, stdin=None):
        """``msp import tradingview FILE|-``: one alert webhook body a line → ``signal.created``."""
        from .engine.imports import ImportRequest

        request = ImportRequest("tradingview", file, tz=tz, confidence=confidence)
        return self._import(request, automate=automate, callbacks=callbacks, stdin=stdin)

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
