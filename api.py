"""msp's Python API: the twin of every command (``msp.connect(...)`` → ``Workspace``).

The command line and this module call the same engine functions: a click
command parses its options, calls one ``Workspace`` method and renders the
result.  The twin of ``msp A B`` is ``Workspace.a_b()`` (``tasks_accept()``,
``rejects_retry()``), its parameters named as the command's options.  Results
are the pydantic models of ``msp.results``: ``model_dump(mode="json")`` is what
the command prints with ``--format json``.  Expected failures raise the
``msp.engine.errors`` exceptions the command turns into its exit code
(``NotFound``, ``InputRejected`` — ``EventRejected`` for ``emit`` — ``UsageError``,
``DatabaseError``).

    import msp
    ws = msp.connect()            # URL and workspace resolved as the CLI does
    ws.emit("signal.created", {...}, workflow_id="wf-1")
    print(ws.today().model_dump(mode="json"))
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, Iterable, Optional, Union

from .engine.automations import DEFAULT_BATCH_SIZE
from .engine.config import Settings, resolve_settings
from .engine.db import Database
from .engine.errors import UsageError
from .engine.limits import DEFAULT_BATCH_LINES, DEFAULT_MAX_DEPTH, DEFAULT_MAX_LINE_BYTES
from . import results as r

if TYPE_CHECKING:  # the embedded server's module loads only when a server command runs
    from .engine.embedded import ServerStatus, ServerStop

DateLike = Union[dt.date, str, None]


def _date(value: DateLike) -> Optional[dt.date]:
    """A day given as a ``date`` or ``YYYY-MM-DD`` (a ``datetime`` is refused: it is not a day)."""
    from .engine.timeparse import check_day, parse_date

    if value is None:
        return value
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return check_day(value)
    if isinstance(value, str):
        return parse_date(value)
    raise UsageError(f"invalid date {value!r}: use a datetime.date or YYYY-MM-DD")


class Workspace:
    """One workspace of one database.  The database is migrated on first use,
    as every command does; ``close()`` (or ``with``) releases the connection."""

    def __init__(self, settings: Settings, *, migrate: bool = True):
        self.settings = settings
        self._migrate = migrate
        self._db: Optional[Database] = None
        self.url: Optional[str] = None  # the database URL, once resolved (for error messages)

    @property
    def name(self) -> str:
        return self.settings.workspace

    def __repr__(self) -> str:
        from .engine.db import describe_target

        url = self.url or self.settings.database_url
        where = describe_target(url) if url else "the embedded server"
        return f"<msp.Workspace {self.name!r} on {where}>"

    @property
    def db(self) -> Database:
        """The engine's database handle (opened, and migrated, on first use)."""
        return self.database()

    def database(self, migrate: Optional[bool] = None) -> Database:
        """The engine's database handle; ``migrate=False`` opens it without applying
        pending migrations (what ``migrate`` itself needs)."""
        if self._db is None:
            db = Database(self.settings)
            self.url = db.url
            if self._migrate if migrate is None else migrate:
                from .engine.migrations import migrate as apply_migrations

                apply_migrations(db.conn)
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

    def ingest(self, sources: Any, *, automate: bool = False, batch_size: int = DEFAULT_BATCH_LINES,
               max_line_bytes: int = DEFAULT_MAX_LINE_BYTES, max_depth: int = DEFAULT_MAX_DEPTH,
               from_start: bool = False, callbacks=None) -> Union[r.IngestResult, r.IngestAutomateResult]:
        """``msp ingest``: load events from ``sources`` — a path (``"-"``: stdin), a binary
        or text file object, a list of those, or an iterable of events (dicts) — validated,
        stored exactly once, bad lines quarantined and counted (never raised).  A file on
        disk is read from its checkpoint (where the last run stopped) unless ``from_start``.  With
        ``automate`` one sweep follows and its counters are added.  ``callbacks``
        (``engine.ingest.IngestCallbacks``) sees each reject, warning and conflict as it comes."""
        from .engine.ingest import ingest
        from .engine.sources import resolve_sources

        resolved = resolve_sources(sources)  # a missing file fails here, before anything is read
        report = ingest(self.db, resolved, callbacks=callbacks, batch_lines=batch_size,
                        max_line_bytes=max_line_bytes, max_depth=max_depth, from_start=from_start)
        if not automate:
            return r.IngestResult(**report.counts())
        from .engine.automations.runner import run_once

        return r.IngestAutomateResult(**report.counts(), **run_once(self.db).as_dict())

    def validate(self, sources: Any, *, callbacks=None) -> r.ValidateResult:
        """``msp validate``: check ``sources`` (as for ``ingest``) exactly as ingest would,
        without a database."""
        from .engine.ingest import validate

        return r.ValidateResult(**validate(sources, callbacks=callbacks).counts())

    def emit(self, event_type: str, payload: Any, *, workflow_id: str, parent_event_id: Optional[str] = None,
             occurred_at: Union[str, dt.datetime, None] = None, actor: Union[str, dict, None] = None,
             event_version: Optional[int] = None, entity: Optional[dict] = None,
             context: Optional[dict] = None) -> str:
        """Store one event and return its id: the envelope filled in (``occurred_at``
        defaults to now, ``event_version`` to the newest schema), the id derived as
        ingest derives it for the same line, checked against ``schemas/`` and written
        by ingest's writer, once — emitting the same event again stores nothing new.
        A bad event raises ``msp.EventRejected`` (its ``problems``: every (path, message))."""
        from .engine.emit import build_event, emit
        from .engine.validation import LineChecker

        checker = LineChecker()
        event = build_event(event_type, payload, workflow_id=workflow_id, parent_event_id=parent_event_id,
                            occurred_at=occurred_at, actor=actor, event_version=event_version, entity=entity,
                            context=context, checker=checker)
        return emit(self.db, event, checker)

    # -- automate (issue 12) --

    def automate(self, *, replay: bool = False, since: Union[str, dt.datetime, None] = None,
                 all_workspaces: bool = False, jobs: Optional[int] = None,
                 batch_size: int = DEFAULT_BATCH_SIZE) -> r.AutomateResult:
        """``msp automate``: one sweep (``replay`` with ``since``: re-walk history from then
        and create only what is missing; ``all_workspaces``: every workspace with new events,
        up to ``jobs`` at once, each on its own connection, 4 by default; ``jobs`` without
        ``all_workspaces`` is a ``UsageError``).  ``msp automate
        --every N`` stays in the CLI: it owns the process's SIGTERM/SIGINT handlers, which a
        library must not take over; a Python loop calls ``automate()`` on its own schedule."""
        from .engine.automations.runner import run_once
        from .engine.timeparse import replay_since

        since_ts = replay_since(replay, since)
        report = run_once(self.db, batch_size=batch_size, since=since_ts, all_workspaces=all_workspaces, jobs=jobs)
        return r.AutomateResult(**report.as_dict())

    def automate_failures_list(self, *, status: str = "failed", limit: int = 50) -> r.AutomationFailureList:
        """``msp automate failures list``: events the sweep set aside (``status`` failed, retried or all)."""
        from .engine.reports.automation_failures import list_failures

        return r.AutomationFailureList(list_failures(self.db, None if status == "all" else status, limit))

    def automate_failures_show(self, failure_id: int) -> r.AutomationFailure:
        """``msp automate failures show``: one set-aside event, its reason and the event as stored."""
        from .engine.reports.automation_failures import show_failure

        return r.AutomationFailure(**show_failure(self.db, failure_id))

    def automate_failures_retry(self, failure_ids: Iterable[int] = (), *, all: bool = False) -> r.FailureRetryResult:
        """``msp automate failures retry``: apply the automations again to the set-aside events
        ``failure_ids`` (or ``all=True``: every one still failed)."""
        from .engine.actions.automation_failures import retry

        ids = list(failure_ids)
        if not ids and not all:
            raise UsageError("name the failure ids to retry, or pass --all")
        return r.FailureRetryResult(**retry(self.db, ids or None).counts())

    # -- reports: today, conversion, presence, trace (issue 12) --

    def today(self, date: DateLike = None, tz: Optional[str] = None) -> r.TodayReport:
        """``msp today``: the day (default: today in ``tz``) — counts, conversion, last coach insight.
        ``tz`` defaults to ``connect(tz=…)`` / ``MSP_TZ``, then the operator state's zone, then UTC."""
        from .engine.reports.today import today

        return r.TodayReport(**today(self.db, _date(date), tz))

    def conversion(self, *, days: int = 7, cohort: bool = False, date: DateLike = None,
                   tz: Optional[str] = None) -> r.ConversionReport:
        """``msp conversion``: the six loop rates over ``days`` days ending ``date``."""
        from .engine.reports.conversion import conversion

        return r.ConversionReport(**conversion(self.db, days=days, cohort=cohort, tz=tz, date=_date(date)))

    def presence(self, *, top: int = 3, now: Optional[dt.datetime] = None) -> r.PresenceReport:
        """``msp presence`` as of ``now`` (default: the real clock)."""
        from .engine.reports.presence import presence

        return r.PresenceReport(**presence(self.db, top=top, now=now))

    def operator(self, *, date: DateLike = None, top: int = 3, tz: Optional[str] = None) -> r.OperatorSurface:
        """``msp operator`` (one screen; ``--watch`` is the CLI redrawing it)."""
        from .engine.reports.operator import surface

        return r.OperatorSurface(**surface(self.db, _date(date), tz, top=top))

    def trace(self, ident: str) -> r.TraceReport:
        """``msp trace WORKFLOW_ID|EVENT_ID``: the workflow's events as a tree."""
        from .engine.reports.trace import trace

        return r.TraceReport(**trace(self.db, ident))

    # -- retention (issue 16) --

    def archive(self, *, before: DateLike, to: Optional[str] = None, dry_run: bool = False,
                tz: Optional[str] = None) -> r.ArchiveResult:
        """``msp archive --before DATE``: move the finished workflows whose last event came
        before local midnight of ``before`` to the gzip'd JSONL file ``to`` (default
        ``./msp-archive-WORKSPACE-before-DATE.jsonl.gz``), with their derived rows."""
        from .engine.archive import archive

        day = _date(before)
        if day is None:
            raise UsageError("archive needs a date: before=YYYY-MM-DD")
        return r.ArchiveResult(**archive(self.db, day, to=to, dry_run=dry_run, tz=tz))

    # -- tasks, state, alerts, journal, rejects (issue 12) --

    def tasks_list(self, *, status: str = "pending", limit: int = 20) -> r.TaskList:
        """``msp tasks list``: pending first, high priority first, oldest first."""
        from .engine.reports.tasks import list_tasks

        return r.TaskList(list_tasks(self.db, status, limit))

    tasks = tasks_list

    def _decide(self, task_id: str, verb: str) -> r.TaskDecision:
        from .engine.actions.tasks import decide

        result = decide(self.db, task_id, verb)
        return r.TaskDecision(task_id=task_id, status=result.task["status"], changed=result.changed,
                              message=result.message)

    def tasks_accept(self, task_id: str) -> r.TaskDecision:
        """``msp tasks accept``: the first decision wins; the same one again changes nothing."""
        return self._decide(task_id, "accept")

    def tasks_reject(self, task_id: str) -> r.TaskDecision:
        """``msp tasks reject``."""
        return self._decide(task_id, "reject")

    def state_show(self) -> r.OperatorState:
        """``msp state show``."""
        from .engine.reports.state import show_state

        return r.OperatorState(**show_state(self.db))

    def state_set(self, *, focus: Optional[str] = None, active_candidates: Union[str, list[str], None] = None,
                  risk_environment: Optional[str] = None, attention_score: Optional[float] = None,
                  mode: Optional[str] = None, cognitive_load: Optional[float] = None,
                  timezone: Optional[str] = None) -> r.OperatorState:
        """``msp state set``: ``active_candidates`` as a list or comma-separated text."""
        from .engine.actions.state import set_state

        if isinstance(active_candidates, str):
            active_candidates = [c.strip() for c in active_candidates.split(",") if c.strip()]  # "" clears the list
        return r.OperatorState(**set_state(
            self.db, focus=focus, active_candidates=active_candidates, risk_environment=risk_environment,
            attention_score=attention_score, mode=mode, cognitive_load=cognitive_load, timezone=timezone))

    def alerts_list(self, *, status: str = "all", limit: int = 50) -> r.AlertList:
        """``msp alerts list``: newest first; ``status`` active, triggered or all."""
        from .engine.reports.alerts import list_alerts

        return r.AlertList(list_alerts(self.db, None if status == "all" else status, limit))

    def alerts_trigger(self, alert_id: str, *, price: float, auto_log: bool = False) -> r.AlertTrigger:
        """``msp alerts trigger``: once; ``auto_log`` also drafts its journal entry."""
        from .engine.actions.alerts import trigger

        return r.AlertTrigger(**trigger(self.db, alert_id, price, auto_log=auto_log))

    def journal_list(self, *, status: str = "all", limit: int = 50) -> r.JournalList:
        """``msp journal list``: newest first; ``status`` open, completed or all."""
        from .engine.reports.journal import list_entries

        return r.JournalList(list_entries(self.db, None if status == "all" else status, limit))

    def journal_show(self, journal_id: str) -> r.JournalEntry:
        """``msp journal show``: one entry with its coach enrichments."""
        from .engine.reports.journal import show_entry

        return r.JournalEntry(**show_entry(self.db, journal_id))

    def journal_auto_log(self, alert_id: str) -> r.JournalDraft:
        """``msp journal auto-log``: the draft entry of a triggered alert (once)."""
        from .engine.actions.alerts import journal_auto_log

        return r.JournalDraft(**journal_auto_log(self.db, alert_id))

    def rejects_list(self, *, status: str = "rejected", limit: int = 50) -> r.RejectList:
        """``msp rejects list``: quarantined lines with their first error."""
        from .engine.reports.rejects import list_rejects

        return r.RejectList(list_rejects(self.db, None if status == "all" else status, limit))

    def rejects_show(self, reject_id: int) -> r.RejectedLine:
        """``msp rejects show``: one quarantined line, raw text and every error."""
        from .engine.reports.rejects import show_reject

        return r.RejectedLine(**show_reject(self.db, reject_id))

    def rejects_retry(self, reject_ids: Iterable[int] = (), *, all: bool = False) -> r.RetryResult:
        """``msp rejects retry``: re-validate the lines ``reject_ids`` (or ``all=True``: every
        one) and ingest those now valid."""
        from .engine.actions.rejects import retry

        ids = list(reject_ids)
        if not ids and not all:
            raise UsageError("name the reject ids to retry, or pass --all")
        return r.RetryResult(**retry(self.db, ids or None).counts())

    # -- schemas, doctor, demo (issue 12) --

    def schemas_list(self, *, output: bool = False) -> Union[r.EventTypeList, r.OutputSchemaList]:
        """``msp schemas list``: the event types (``output``: the published output contracts)."""
        if output:
            from .engine.output_schemas import output_names

            return r.OutputSchemaList(output_names())
        from .engine.schema_docs import type_rows

        return r.EventTypeList(type_rows())

    def schemas_show(self, name: str, *, version: Optional[int] = None, output: bool = False) -> r.SchemaDocument:
        """``msp schemas show``: an event type's schema (also ``envelope``,
        ``decision_packet``), or with ``output`` the contract of a command's JSON output
        (``today``, ``tasks_list`` or ``"tasks list"``…), as shipped in ``schemas/output/``."""
        from .engine.schema_docs import describe, describe_output

        return r.SchemaDocument.described(describe_output(name) if output else describe(name, version))

    def doctor(self) -> r.DoctorReport:
        """``msp doctor``: server, version, workspace, migration level, the workspace wall."""
        from .engine.doctor import diagnose

        return r.DoctorReport(**diagnose(self.db))

    def demo(self) -> r.DemoResult:
        """``msp demo``: load the bundled example week and day, sweep, and report (safe to re-run)."""
        from .engine.demo import run_demo

        return r.DemoResult(**run_demo(self.db))

    # -- server, doctor, migrate (issues 10, 17) --

    def server_status(self) -> "ServerStatus":
        """``msp server status``: the embedded server, read from its data directory
        (no database connection; it never starts the server)."""
        from .engine.embedded import server_status

        return server_status()

    def server_stop(self) -> "ServerStop":
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
                      stop=None, callbacks=None):
        """The twin of ``msp ingest --follow FILE…``: tail the files (from their
        checkpoints) until ``stop`` (a ``threading.Event``, or a callable returning
        True) and return the run's ``FollowSummary``.  ``callbacks`` as for ``ingest``."""
        from .engine.follow import follow

        return follow(self.db, files, stop=stop, flush_ms=flush_ms, automate=automate, batch_lines=batch_size,
                      max_line_bytes=max_line_bytes, max_depth=max_depth, callbacks=callbacks,
                      from_start=from_start).summary()

    def automate_follow(self, *, poll_seconds: float = 1.0, batch_size: Optional[int] = None,
                        all_workspaces: bool = False, jobs: Optional[int] = None, stop=None, on_sweep=None,
                        on_notice=None):
        """The twin of ``msp automate --follow``: sweep whenever events commit
        until ``stop``; ``on_sweep(report)`` sees each sweep, ``on_notice(message)``
        the one-line notices; returns the ``FollowTotals``."""
        from .engine.automations import DEFAULT_BATCH_SIZE
        from .engine.automations.follow import follow

        return follow(self.db, on_sweep or (lambda report: None), batch_size=batch_size or DEFAULT_BATCH_SIZE,
                      all_workspaces=all_workspaces, jobs=jobs, poll_seconds=poll_seconds, stop=stop,
                      on_notice=on_notice or (lambda message: None))


def connect(url: Optional[str] = None, workspace: Optional[str] = None, *, tz: Optional[str] = None,
            migrate: bool = True) -> Workspace:
    """A ``Workspace``: URL and workspace resolved exactly as the CLI resolves them
    (argument, then ``MSP_DATABASE_URL``/``DATABASE_URL`` and ``MSP_WORKSPACE``,
    then the embedded server and ``default``)."""
    return Workspace(resolve_settings(url, workspace, tz), migrate=migrate)
