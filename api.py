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
from typing import Any, Iterable, Optional, Union

from .engine.automations import DEFAULT_BATCH_SIZE
from .engine.config import Settings, resolve_settings
from .engine.db import Database
from .engine.errors import UsageError
from .engine.limits import DEFAULT_BATCH_LINES, DEFAULT_MAX_DEPTH, DEFAULT_MAX_LINE_BYTES
from . import results as r

DateLike = Union[dt.date, str, None]


def _date(value: DateLike) -> Optional[dt.date]:
    """A day given as a ``date`` or ``YYYY-MM-DD`` (a ``datetime`` is refused: it is not a day)."""
    from .engine.timeparse import parse_date

    if value is None or (isinstance(value, dt.date) and not isinstance(value, dt.datetime)):
        return value
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
               callbacks=None) -> Union[r.IngestResult, r.IngestAutomateResult]:
        """``msp ingest``: load events from ``sources`` — a path (``"-"``: stdin), a binary
        or text file object, a list of those, or an iterable of events (dicts) — validated,
        stored exactly once, bad lines quarantined and counted (never raised).  With
        ``automate`` one sweep follows and its counters are added.  ``callbacks``
        (``engine.ingest.IngestCallbacks``) sees each reject, warning and conflict as it comes."""
        from .engine.ingest import ingest
        from .engine.sources import resolve_sources

        resolved = resolve_sources(sources)  # a missing file fails here, before anything is read
        report = ingest(self.db, resolved, callbacks=callbacks, batch_lines=batch_size,
                        max_line_bytes=max_line_bytes, max_depth=max_depth)
        if not automate:
            return r.IngestResult(**report.counts())
        from .engine.automations.runner import run_once

        return r.IngestAutomateResult(**report.counts(), **run_once(self.db).counters())

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
                 all_workspaces: bool = False, batch_size: int = DEFAULT_BATCH_SIZE) -> r.AutomateResult:
        """``msp automate``: one sweep (``replay`` with ``since``: re-walk history from then
        and create only what is missing).  ``msp automate --every N`` stays in the CLI: it
        owns the process's SIGTERM/SIGINT handlers, which a library must not take over;
        a Python loop calls ``automate()`` on its own schedule."""
        from .engine.automations.runner import run_once
        from .engine.timeparse import replay_since

        since_ts = replay_since(replay, since)
        report = run_once(self.db, batch_size=batch_size, since=since_ts, all_workspaces=all_workspaces)
        return r.AutomateResult(**report.as_dict())

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
            active_candidates = [c.strip() for c in active_candidates.split(",") if c.strip()] or None
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

    # -- schemas, doctor, migrate, demo (issue 12) --

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

    def migrate(self, *, check: bool = False) -> Union[r.MigrateResult, r.MigrationCheck]:
        """``msp migrate``: apply pending migrations; ``check``: prove the files sound
        (numbering, parsing, guards, checksums, a double run on a scratch database)."""
        db = self.database(migrate=False)
        if check:
            from .engine.migration_check import run_check

            return r.MigrationCheck(**run_check(db.url).as_dict())
        from .engine.migrations import current_level, migrate

        applied = migrate(db.conn)
        return r.MigrateResult(applied=[m.filename for m in applied], level=current_level(db.conn))

    def demo(self) -> r.DemoResult:
        """``msp demo``: load the bundled example week and day, sweep, and report (safe to re-run)."""
        from .engine.demo import run_demo

        return r.DemoResult(**run_demo(self.db))

    # -- server, doctor, migrate (issues 10, 17) --

    # -- import (issue 13) --

    # -- review (issue 14) --


def connect(url: Optional[str] = None, workspace: Optional[str] = None, *, tz: Optional[str] = None,
            migrate: bool = True) -> Workspace:
    """A ``Workspace``: URL and workspace resolved exactly as the CLI resolves them
    (argument, then ``MSP_DATABASE_URL``/``DATABASE_URL`` and ``MSP_WORKSPACE``,
    then the embedded server and ``default``)."""
    return Workspace(resolve_settings(url, workspace, tz), migrate=migrate)
