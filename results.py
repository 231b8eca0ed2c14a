"""The typed results of the Python API (``msp.api``): one pydantic model per command's output.

``Model.model_dump(mode="json")`` is exactly what the command prints with
``--format json`` (same keys, same order, numbers as numbers, times as
``isoformat()``), and ``model_dump()`` is the same data with Python values
(``datetime``, ``Decimal``) for the table and CSV views.  Each model's
``model_json_schema(mode="serialization")`` is the published contract of that
output: ``python -m msp.results`` writes them to ``schemas/output/`` and
``msp schemas show --output NAME`` prints one.

Field types mirror what the engine reads: a database timestamp is a
``datetime`` (``Timestamp``; ISO text beyond what Python holds), a ``numeric`` column a ``Decimal`` printed as a
JSON number (``Number``), a time the engine already formatted stays a string.
Keys that a command prints only sometimes (``conversion``'s ``counts`` or
``workflows``, ``alerts trigger``'s ``journal``, ``doctor``'s ``data_dir``) are
left out when they are ``None``, as the command leaves them out.
"""


import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, ClassVar, Generic, Iterator, Optional, TypeVar, Union

from pydantic import (BaseModel, ConfigDict, Field, PlainSerializer, PrivateAttr, RootModel, WithJsonSchema,
                      model_serializer)

from .engine.line_counts import IngestCounts

# a timestamptz Python cannot hold (the year 10000 in UTC, 1 BC) is loaded as its ISO text
# (engine/db.py InstantLoader) and printed as it is
Timestamp = Annotated[Union[dt.datetime, str],
                      PlainSerializer(lambda v: v if isinstance(v, str) else v.isoformat(), return_type=str,
                                      when_used="json"),
                      WithJsonSchema({"type": "string", "format": "date-time"}, mode="serialization")]
Number = Annotated[Decimal, PlainSerializer(float, return_type=float, when_used="json"),
                   WithJsonSchema({"type": "number"}, mode="serialization")]
SpaceJoined = Annotated[list[str], PlainSerializer(" ".join, return_type=str),
                        WithJsonSchema({"type": "string", "description": "The tags, space-separated."},
                                       mode="serialization")]


class Result(BaseModel):
    """Base of every result: keys as printed (aliases), optional keys left out when None,
    no key the model does not name (so the published schemas forbid unknown keys too)."""

    model_config = ConfigDict(extra="forbid", serialize_by_alias=True, validate_by_name=True, validate_by_alias=True,
                              defer_build=True)  # built on first use: `msp today` does not pay for 40 models
    OMIT_WHEN_NONE: ClassVar[tuple[str, ...]] = ()

    @model_serializer(mode="wrap")
    def _leave_out_absent_keys(self, handler):
        data = handler(self)
        for key in self.OMIT_WHEN_NONE:
            if key in data and data[key] is None:
                del data[key]
        return data


Item = TypeVar("Item")


class ResultList(RootModel[list[Item]], Generic[Item]):
    """A command that prints a JSON array: iterate it, index it, take its len()."""

    model_config = ConfigDict(defer_build=True)

    def __iter__(self) -> Iterator[Item]:  # type: ignore[override]
        return iter(self.root)

    def __getitem__(self, index: int) -> Item:
        return self.root[index]

    def __len__(self) -> int:
        return len(self.root)


# -- ingest, validate ------------------------------------------------------------------------

class IngestResult(Result, IngestCounts):
    """``msp ingest``: read = ingested + duplicates + rejected, always; a file's lines
    before its checkpoint are ``checkpoint_skipped``, not read."""


class ValidateResult(Result):
    """``msp validate``: what ``msp ingest`` would accept, without a database."""

    read: int
    valid: int
    invalid: int
    warnings: int


# -- automate --------------------------------------------------------------------------------

class AutomateCounters(Result):
    """The sweep's counters (what ``msp ingest --automate`` and ``msp demo`` add)."""

    events_scanned: int
    auto_plans_created: int
    auto_alerts_created: int
    auto_journal_drafts_created: int
    auto_coach_analyses_generated: int
    auto_coach_action_tasks_created: int
    auto_coach_journal_updates: int


class Skipped(Result):
    automation: str
    item: str
    reason: str


class SetAside(Result):
    """An event an automation could not apply, set aside as an automation failure
    (``msp automate failures show FAILURE_ID``)."""

    failure_id: int
    workspace: str
    event_id: str
    event_type: str
    automation: Optional[str]
    reason: str


class FailedWorkspace(Result):
    """A workspace ``--all-workspaces`` could not sweep (exit 3; the others were swept)."""

    workspace: str
    error: str


class AutomateResult(AutomateCounters):
    """``msp automate``: the counters, the first skipped items and how many were skipped;
    ``set_aside`` (events set aside as automation failures) and ``failed_workspaces``
    (with ``--all-workspaces``) only when there are any."""

    OMIT_WHEN_NONE: ClassVar[tuple[str, ...]] = ("set_aside", "failed_workspaces")
    skipped: list[Skipped]
    skipped_total: int
    set_aside: Optional[list[SetAside]] = None
    failed_workspaces: Optional[list[FailedWorkspace]] = None


class IngestAutomateResult(AutomateResult, IngestResult):
    """``msp ingest --automate``: the ingest counters, then the sweep's as ``msp automate`` prints them."""


# -- reports ---------------------------------------------------------------------------------

class DayCounts(Result):
    signals: int
    candidates: int
    plans: int
    executions: int
    closed: int
    coach_analyses: int
    tasks_suggested: int
    tasks_accepted: int
    tasks_rejected: int
    auto_alerts: int
    auto_journal_drafts: int
    coach_journal_updates: int


class ConversionRates(Result):
    """The six loop rates, percentages with one decimal (0.0 when nothing to convert)."""

    signal_to_candidate: float
    candidate_to_plan: float
    plan_to_execution: float
    execution_to_closed: float
    closed_to_coach: float
    task_accept: float


class Recommendation(Result):
    priority: Optional[str]
    action: Optional[str]
    detail: Optional[str]


class CoachInsight(Result):
    analysis_id: str
    occurred_at: str
    symbol: Optional[str]
    sample_size: int
    win_rate: Optional[float]
    avg_win: Optional[float]
    avg_loss: Optional[float]
    expectancy: Optional[float]
    recommendations: list[Recommendation]


class TodayReport(Result):
    """``msp today``: the day's counts, conversion and last coach insight."""

    date: str
    tz: str
    counts: DayCounts
    conversion: ConversionRates
    last_coach_insight: Optional[CoachInsight]


class Stage(Result):
    rate: str
    reached: int
    converted: int


class ConversionReport(Result):
    """``msp conversion``: ``counts`` in count mode, ``workflows`` in cohort mode."""

    OMIT_WHEN_NONE: ClassVar[tuple[str, ...]] = ("workflows", "counts")
    mode: str
    days: int
    tz: str
    from_: str = Field(alias="from")
    to: str
    workflows: Optional[int] = None
    counts: Optional[DayCounts] = None
    stages: list[Stage]
    conversion: ConversionRates


class Attention(Result):
    symbol: str
    confidence: Optional[float]
    hits: int
    last_seen: str


class SuggestedAction(Result):
    label: str
    command: str
    reason: str


class PresenceReport(Result):
    """``msp presence``."""

    market_state: str
    volatility: str
    risk_load: float
    pending_tasks: int
    top_attention: list[Attention]
    suggested_actions: list[SuggestedAction]


class TraceNode(Result):
    event_id: str
    event_type: str
    occurred_at: str
    actor: str
    summary: str
    children: list["TraceNode"]


class ArchivedPart(Result):
    """Events of a traced workflow that ``msp archive`` moved to a file."""

    events: int
    archive_no: int
    file: str
    archived_at: Timestamp


class TraceReport(Result):
    """``msp trace``: a workflow's events as a parent → children tree; ``archived`` (only
    when part of the chain was archived) says how many events went to which file, when."""

    OMIT_WHEN_NONE = ("archived",)
    workflow_id: str
    events: int
    roots: list[TraceNode]
    cycle_breaks: list[str] = []  # events whose parent links formed a cycle: shown as roots, the link cut
    archived: Optional[list[ArchivedPart]] = None


class SourceRow(Result):
    source: str
    signal_type: Optional[str]
    signals: int
    passed: int
    watched: int
    failed: int
    plans: int


# -- tasks, state ----------------------------------------------------------------------------

class Task(Result):
    task_id: str
    status: str
    priority: str
    action: str
    detail: str
    symbol: Optional[str]
    analysis_id: str
    workflow_id: Optional[str]
    occurred_at: Timestamp
    decided_at: Optional[Timestamp]


class TaskList(ResultList[Task]):
    """``msp tasks list``."""


class TaskDecision(Result):
    """``msp tasks accept|reject``: ``changed`` is False when the same decision was already made."""

    task_id: str
    status: str
    changed: bool
    message: str


class OperatorState(Result):
    """``msp state show|set``."""

    workspace: str
    focus: Optional[str]
    active_candidates: list[str]
    risk_environment: Optional[str]
    attention_score: Optional[float]
    mode: Optional[str]
    cognitive_load: Optional[float]
    timezone: Optional[str]
    last_actions: list[dict[str, Any]]
    updated_at: Optional[Timestamp]


class OperatorSurface(Result):
    """``msp operator``: today, presence, the coach queue and the day's signal sources."""

    today: TodayReport
    presence: PresenceReport
    coach_queue: list[Task]
    sources: list[SourceRow]


class DemoResult(Result):
    """``msp demo``."""

    ingest: IngestResult
    automate: AutomateCounters
    today: TodayReport
    presence: PresenceReport
    tasks: list[Task]


# -- alerts, journal -------------------------------------------------------------------------

class Alert(Result):
    alert_id: str
    plan_id: str
    symbol: str
    condition: str
    level: Number
    status: str
    occurred_at: Timestamp
    triggered_at: Optional[Timestamp]
    trigger_price: Optional[Number]
    workflow_id: Optional[str]


class AlertList(ResultList[Alert]):
    """``msp alerts list``."""


class JournalDraft(Result):
    """``msp journal auto-log``: ``created`` is False when the draft already existed."""

    journal_id: str
    created: bool


class AlertTrigger(Result):
    """``msp alerts trigger``: ``journal`` only with ``--auto-log``."""

    OMIT_WHEN_NONE: ClassVar[tuple[str, ...]] = ("journal",)
    alert_id: str
    status: str
    price: float
    journal: Optional[JournalDraft] = None


class JournalHead(Result):
    """The fields a journal entry leads with, in the list and in ``show``."""

    journal_id: str
    origin: str
    status: str
    symbol: Optional[str]
    side: Optional[str]
    workflow_id: Optional[str]
    plan_id: Optional[str]


class JournalRow(JournalHead):
    outcome: Optional[str]
    realized_pnl: Optional[Number]
    tags: SpaceJoined
    occurred_at: Timestamp
    updated_at: Timestamp


class JournalList(ResultList[JournalRow]):
    """``msp journal list`` (its ``tags`` are printed space-separated)."""


class Enrichment(Result):
    analysis_id: str
    summary: str
    occurred_at: Timestamp


class JournalEntry(JournalHead):
    """``msp journal show``."""

    alert_id: Optional[str]
    decision_packet_id: Optional[str]
    source: Optional[str]
    direction: Optional[str]
    risk_score: Optional[Number]
    strategy: Optional[str]
    entry_price: Optional[Number]
    exit_price: Optional[Number]
    outcome: Optional[str]
    realized_pnl: Optional[Number]
    closed_at: Optional[Timestamp]
    tags: list[str]
    notes: Optional[str]
    source_event_id: Optional[str]
    occurred_at: Timestamp
    updated_at: Timestamp
    created_at: Timestamp
    enrichments: list[Enrichment]


# -- rejects ---------------------------------------------------------------------------------

class RejectRow(Result):
    reject_id: int
    source: str
    line_no: int
    status: str
    path: Optional[str]
    message: Optional[str]
    error_count: int
    rejected_at: Timestamp
    event_id: Optional[str]


class RejectList(ResultList[RejectRow]):
    """``msp rejects list``: each line with its first error."""


class LineError(Result):
    path: str
    message: str


class RejectedLine(Result):
    """``msp rejects show``: the raw line (undecodable bytes as ``\\x..``) and every error."""

    reject_id: int
    source: str
    line_no: int
    status: str
    raw: str
    raw_truncated: bool
    errors: list[LineError]
    rejected_at: Timestamp
    resolved_at: Optional[Timestamp]
    event_id: Optional[str]


class RetryResult(Result):
    """``msp rejects retry``."""

    retried: int
    ingested: int
    duplicates: int
    still_rejected: int


class AutomationFailureRow(Result):
    """An event set aside by the sweep: which automation failed on it, and why."""

    failure_id: int
    seq: int
    event_id: str
    event_type: str
    automation: Optional[str]
    sqlstate: Optional[str]
    message: str
    attempts: int
    status: str
    failed_at: Timestamp
    resolved_at: Optional[Timestamp]


class AutomationFailureList(ResultList[AutomationFailureRow]):
    """``msp automate failures list``."""


class AutomationFailure(AutomationFailureRow):
    """``msp automate failures show``: the failure and the event as stored."""

    event: dict[str, Any]


class FailureRetryResult(Result):
    """``msp automate failures retry``: applied now, or failed again (and why, in the list)."""

    retried: int
    applied: int
    still_failed: int
# -- archive ---------------------------------------------------------------------------------

class ArchiveKept(Result):
    """Workflows whose last event came before the cutoff but that stay hot, by reason."""

    not_swept: int
    open_position: int
    pending_task: int
    open_journal: int
    enriched_later: int


class ArchiveRows(Result):
    """Derived rows deleted with the archived workflows, per table."""

    positions: int
    alerts: int
    journal_entries: int
    journal_enrichments: int
    coach_analyses: int
    coach_tasks: int
    workflow_stages: int


class ArchiveResult(Result):
    """``msp archive``: the finished workflows whose last event came before ``cutoff``
    (local midnight of ``before``), moved to ``file`` (None on a dry run or when there
    was nothing to archive); ``renamed``: files of earlier, interrupted runs finished."""

    before: str
    cutoff: str
    dry_run: bool
    file: Optional[str]
    workflows: int
    events: int
    kept: ArchiveKept
    rows: ArchiveRows
    renamed: list[str]


# -- schemas ---------------------------------------------------------------------------------

class EventTypeRow(Result):
    event_type: str
    versions: list[int]
    description: str


class EventTypeList(ResultList[EventTypeRow]):
    """``msp schemas list``."""


class SchemaDocument(RootModel[dict[str, Any]]):
    """``msp schemas show``: a JSON Schema document, as stored in ``schemas/``.
    ``description`` holds what the table view shows beside it (title, description,
    warning rules, the resources its ``$ref``s point at); it is not part of the dump."""

    model_config = ConfigDict(defer_build=True)
    _description: dict = PrivateAttr(default_factory=dict)

    @classmethod
    def described(cls, description: dict) -> "SchemaDocument":
        """From ``engine.schema_docs.describe()``: the schema, with its description kept aside."""
        doc = cls(description["schema"])
        doc._description = description
        return doc

    @property
    def description(self) -> dict:
        return self._description


class OutputSchemaList(ResultList[str]):
    """``msp schemas list --output``: the names of the published output contracts."""


# -- database --------------------------------------------------------------------------------

class RowLevelSecurity(Result):
    active: bool
    role: str
    tables_with_policy: int
    workspace_tables: int


class DoctorReport(Result):
    """``msp doctor`` (``data_dir`` only for the embedded server)."""

    OMIT_WHEN_NONE: ClassVar[tuple[str, ...]] = ("data_dir",)
    database: str
    target: str
    embedded: bool
    server_version: str
    workspace: str
    migration_level: int
    migrations_available: int
    pending_migrations: list[str]
    row_level_security: RowLevelSecurity
    data_dir: Optional[str] = None


# -- published output contracts --------------------------------------------------------------

class _Outputs(dict):
    """Contract name → model.  The models the engine itself defines (migrate, server,
    import, review) are named as ``module:Class`` and imported on first look-up, so
    importing this module (every command does, through ``msp.api``) stays light."""

    def __getitem__(self, name: str) -> type[BaseModel]:
        model = super().__getitem__(name)
        if isinstance(model, str):
            import importlib

            module, _, cls = model.partition(":")
            model = getattr(importlib.import_module(module), cls)
            self[name] = model
        return model


# contract name (the API method) → the model of that command's --format json output
OUTPUTS: dict[str, type[BaseModel]] = _Outputs({
    "ingest": IngestResult,
    "ingest_automate": IngestAutomateResult,
    "validate": ValidateResult,
    "automate": AutomateResult,
    "today": TodayReport,
    "conversion": ConversionReport,
    "presence": PresenceReport,
    "operator": OperatorSurface,
    "trace": TraceReport,
    "tasks_list": TaskList,
    "tasks_accept": TaskDecision,
    "tasks_reject": TaskDecision,
    "state_show": OperatorState,
    "state_set": OperatorState,
    "alerts_list": AlertList,
    "alerts_trigger": AlertTrigger,
    "journal_list": JournalList,
    "journal_show": JournalEntry,
    "journal_auto_log": JournalDraft,
    "rejects_list": RejectList,
    "rejects_show": RejectedLine,
    "rejects_retry": RetryResult,
    "automate_failures_list": AutomationFailureList,
    "automate_failures_show": AutomationFailure,
    "automate_failures_retry": FailureRetryResult,
    "archive": ArchiveResult,
    "schemas_list": EventTypeList,
    "schemas_show": SchemaDocument,
    "doctor": DoctorReport,
    "demo": DemoResult,
    "server_status": "msp.engine.embedded:ServerStatus",
    "server_stop": "msp.engine.embedded:ServerStop",
    "migrate": "msp.engine.migrations:MigrateResult",
    "migrate_check": "msp.engine.migration_check:CheckReport",
    "migrate_status": "msp.engine.migration_status:MigrationStatus",
    "migrate_dry_run": "msp.engine.migration_plan:DryRun",
    "import_backtest": "msp.engine.imports:ImportResult",
    "import_fills": "msp.engine.imports:ImportResult",
    "import_tradingview": "msp.engine.imports:ImportResult",
    "review": "msp.engine.reports.review_model:Review",
})

OUTPUT_DIR = Path(__file__).parent / "schemas" / "output"
OUTPUT_ID = "https://msp.local/schemas/output/{name}.schema.json"


def output_schema(name: str) -> dict:
    """The JSON Schema of one command's ``--format json`` output, generated from its model."""
    schema = OUTPUTS[name].model_json_schema(mode="serialization")
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": OUTPUT_ID.format(name=name), **schema}


def output_schema_text(name: str) -> str:
    return json.dumps(output_schema(name), indent=2, ensure_ascii=False) + "\n"


def write_output_schemas(folder: Path = OUTPUT_DIR) -> list[Path]:
    """Write every output contract to ``schemas/output/NAME.schema.json`` (and drop stale files)."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name in OUTPUTS:
        path = folder / f"{name}.schema.json"
        path.write_text(output_schema_text(name))
        written.append(path)
    for stale in set(folder.glob("*.schema.json")) - set(written):
        stale.unlink()
    return written


if __name__ == "__main__":  # python -m msp.results
    for path in write_output_schemas():
        print(path)
