"""``msp import``: a backtest's trades, a broker's fills and TradingView alerts as workflow events.

One module per format (``backtest``, ``ibkr``, ``fills`` — FIFO matching and
the generic broker — and ``tradingview``) turns each source row into canonical
events; ``rows`` holds what they share (CSV rows with their raw bytes, cells,
times, stable ids, the envelope).  The events then take the ingest path
(``Ingestor.ingest_rows``): validated against ``schemas/`` like any line,
stored by the one writer, bad rows quarantined with their raw bytes, and
counted per source row.
"""

from __future__ import annotations

import datetime as dt
import sys
from dataclasses import dataclass, field
from typing import BinaryIO, Iterator, Optional

from ..db import Database, workspace_transaction
from ..errors import UsageError
from ..line_counts import LineCounts
from ..ingest import IngestCallbacks, IngestReport, Ingestor, SourceRow
from ..sources import STDIN, STDIN_SOURCE, check_path
from ..reports.window import operator_zone
from ..timeparse import zone
from . import backtest, fills, ibkr, tradingview
from .rows import TimeReader

KINDS = ("backtest", "fills", "tradingview")
BROKERS = ("ibkr", "generic")


@dataclass
class ImportRequest:
    """What to import and how to read it (the command's options)."""

    kind: str
    path: str
    tz: Optional[str] = None  # else the operator state's zone; naive times with neither are refused
    session_open: dt.time = dt.time(9, 30)
    session_close: dt.time = dt.time(16, 0)
    symbol: Optional[str] = None  # backtest
    strategy: Optional[str] = None  # backtest
    source_format: Optional[str] = None  # backtest: backtesting | vectorbt (else detected)
    broker: str = "ibkr"  # fills
    mapping: Optional[str] = None  # fills --broker generic
    confidence: Optional[float] = None  # tradingview


@dataclass
class ImportOutcome:
    report: IngestReport
    skipped: list = field(default_factory=list)  # lines that are not rows to import (IBKR ORDER rows…)
    tz: Optional[str] = None


class ImportResult(LineCounts):
    """The summary of one import (``--format json`` prints ``model_dump(mode="json")``).

    ``read = ingested + duplicates + rejected``, counted in source rows: a row is
    ingested when at least one of its events was new, a duplicate when every one
    was already stored.  ``events_ingested``/``events_duplicate`` count events
    (a backtest trade is three); ``skipped`` counts lines that are not rows to
    import (IBKR ORDER/CLOSED_LOT/SUMMARY rows, Flex section markers);
    ``conflicts`` counts events whose id is stored with different content."""

    events_ingested: int
    events_duplicate: int
    skipped: int
    tz: Optional[str]
    automations: Optional[dict[str, int]] = None

    @classmethod
    def of(cls, outcome: "ImportOutcome", automations: Optional[dict] = None) -> "ImportResult":
        report = outcome.report
        return cls(**report.counts(), events_ingested=report.events_ingested,
                   events_duplicate=report.events_duplicate, skipped=len(outcome.skipped), tz=outcome.tz,
                   automations=automations)


def _rows(db: Database, request: ImportRequest, stream: BinaryIO, source: str, times: TimeReader,
          skipped: list) -> Iterator[SourceRow]:
    if request.kind == "backtest":
        if not request.strategy or not request.strategy.strip():
            raise UsageError("name the backtest's strategy with --strategy NAME")
        symbol = backtest.symbol_of(request.symbol) if request.symbol else None
        return backtest.rows(stream, source=source, symbol=symbol, strategy=request.strategy.strip(),
                             source_format=request.source_format, times=times)
    if request.kind == "fills":
        if request.broker == "ibkr":
            if request.mapping:
                raise UsageError("--map is for --broker generic")
            return fills.matched_rows(ibkr.rows(stream, source=source, times=times, skipped=skipped),
                                      fills.FifoBook.resume(db, "ibkr"))
        mapping = fills.parse_map(request.mapping)
        return fills.matched_rows(fills.generic_rows(stream, source=source, times=times, mapping=mapping),
                                  fills.FifoBook.resume(db, "generic"))
    if request.kind == "tradingview":
        return tradingview.rows(stream, source=source, times=times, confidence=request.confidence)
    raise UsageError(f"unknown import kind {request.kind!r} (one of {', '.join(KINDS)})")


def run_import(db: Database, request: ImportRequest, *, stdin: Optional[BinaryIO] = None,
               callbacks: Optional[IngestCallbacks] = None, batch_lines: Optional[int] = None,
               automate: bool = False) -> ImportResult:
    """Import one file (``-`` for stdin) into ``db``'s workspace, then run the sweep
    if asked; return the exact counts."""
    outcome = _load(db, request, stdin=stdin, callbacks=callbacks, batch_lines=batch_lines)
    automations = None
    if automate:
        from ..automations.runner import run_once

        automations = run_once(db).counters()
    return ImportResult.of(outcome, automations)


def _load(db: Database, request: ImportRequest, *, stdin: Optional[BinaryIO], callbacks: Optional[IngestCallbacks],
          batch_lines: Optional[int]) -> ImportOutcome:
    check_path(request.path)
    if request.session_close <= request.session_open:
        raise UsageError("--session-close must be after --session-open")
    if not request.tz:
        with workspace_transaction(db.conn, db.workspace):
            tz = operator_zone(db)
    else:
        tz = request.tz
    if tz:
        zone(tz)
    times = TimeReader(tz, request.session_open, request.session_close)
    kwargs = {"callbacks": callbacks}
    if batch_lines:
        kwargs["batch_lines"] = batch_lines
    ingestor = Ingestor(db, **kwargs)
    outcome = ImportOutcome(ingestor.report, tz=tz)
    if request.path == STDIN:
        ingestor.ingest_rows(STDIN_SOURCE, _rows(db, request, stdin or sys.stdin.buffer, STDIN_SOURCE, times,
                                                 outcome.skipped))
    else:
        with open(request.path, "rb") as stream:
            ingestor.ingest_rows(request.path, _rows(db, request, stream, request.path, times, outcome.skipped))
    return outcome
