"""``msp import backtest``: a backtest's trade list as workflows.

Two formats: backtesting.py's ``stats['_trades']`` CSV (a negative ``Size`` is
a short; from backtesting 0.6.5 on a ``Commission`` column exists and ``PnL`` is
net of it, before that ``PnL`` is gross — the column decides) and vectorbt's
``trades.records_readable`` CSV (positive ``Size``, the side in ``Direction``,
open trades with ``Status=Open``, an id column ``Exit Trade Id``, ``Entry Trade
Id``, ``Position Id`` or ``Trade Id``).

Each trade becomes one workflow: ``trade.plan.created`` (setup source
``backtest``, the strategy, entry, stop ``SL`` and target ``TP`` when present)
→ ``trade.executed`` → ``trade.closed`` with the file's realized P&L; an open
trade stops at ``trade.executed``.  Entries are dated at the entry time and the
close at the exit time (date-only times at the session's open and close).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import BinaryIO, Iterator, Optional

from ..errors import InputRejected, UsageError
from ..ingest import SourceRow
from ..validation import Problem
from .rows import (RowError, TimeReader, as_json_number, clean_header, csv_records, digest, event, evidence,
                   number, row_dict, slug, symbol_of, text, Occurrences)

BACKTESTING = "backtesting"
VECTORBT = "vectorbt"
FORMATS = (BACKTESTING, VECTORBT)
BACKTESTING_COLUMNS = ("Size", "EntryPrice", "ExitPrice", "PnL", "EntryTime", "ExitTime")
VECTORBT_COLUMNS = ("Size", "Entry Timestamp", "Avg Entry Price", "Exit Timestamp", "Avg Exit Price", "PnL",
                    "Direction", "Status")
VECTORBT_IDS = ("Exit Trade Id", "Entry Trade Id", "Position Id", "Trade Id")
VECTORBT_EXIT_COLUMNS = ("Exit Timestamp", "Avg Exit Price", "Exit Fees", "PnL", "Return", "Status")


@dataclass
class BacktestTrade:
    """One trade of a backtest, whatever the tool that wrote it."""

    key: str  # stable: the source's id, or the content and its occurrence
    symbol: str
    direction: str  # long | short
    quantity: Decimal
    entry_price: Decimal
    entry_time: dt.datetime
    exit_price: Optional[Decimal]  # None: the trade is open
    exit_time: Optional[dt.datetime]
    pnl: Optional[Decimal]
    stop: Optional[Decimal] = None
    target: Optional[Decimal] = None
    tag: Optional[str] = None
    fees: Optional[Decimal] = None
    entry_evidence: Optional[dict] = None
    exit_evidence: Optional[dict] = None


def detect_format(header: list[str]) -> str:
    if all(c in header for c in VECTORBT_COLUMNS):
        return VECTORBT
    return BACKTESTING


def rows(stream: BinaryIO, *, source: str, symbol: Optional[str], strategy: str,
         source_format: Optional[str], times: TimeReader) -> Iterator[SourceRow]:
    """The workflows of a backtest CSV, one SourceRow per trade."""
    records = csv_records(stream)
    first = next(records, None)
    if first is None:
        return
    header = clean_header(first.cells)
    fmt = source_format or detect_format(header)
    required = VECTORBT_COLUMNS if fmt == VECTORBT else BACKTESTING_COLUMNS
    missing = [c for c in required if c not in header]
    if missing:
        raise InputRejected(f"{source}:{first.line}: not a {fmt} trades CSV: missing column(s) "
                            f"{', '.join(missing)}" + ("" if source_format else " (use --from to name the format)"))
    id_column = next((c for c in VECTORBT_IDS if c in header), None)
    if fmt == VECTORBT and id_column is None:
        raise InputRejected(f"{source}:{first.line}: vectorbt trades CSV without an id column "
                            f"({', '.join(VECTORBT_IDS)})")
    if fmt == BACKTESTING and not symbol:
        raise UsageError("backtesting.py trade lists name no symbol: pass --symbol SYM")
    net = "Commission" in header  # backtesting >= 0.6.5: PnL is net of the commission
    seen = Occurrences()
    for record in records:
        row = SourceRow(record.line, record.raw, bytes_read=len(record.raw) + 1, origin=fmt)
        try:
            cells = row_dict(header, record)
            if fmt == VECTORBT:
                trade = _vectorbt_trade(cells, id_column, symbol, strategy, times, source, record.line)
            else:
                trade = _backtesting_trade(cells, symbol, strategy, times, seen, net, source, record.line)
            row.events = workflow(trade, strategy, fmt)
            row.columns = _COLUMNS[fmt]
        except RowError as exc:
            row.problems = [Problem(exc.column, exc.message)]
        yield row


def _backtesting_trade(cells: dict, symbol: str, strategy: str, times: TimeReader, seen: Occurrences,
                       net: bool, source: str, line: int) -> BacktestTrade:
    size = number(cells, "Size")
    if size == 0:
        raise RowError("Size", "a trade of size 0")
    entry_time = times.read(cells, "EntryTime", at="open", source=source, line=line)
    exit_time = times.read(cells, "ExitTime", at="close", source=source, line=line, required=False)
    exit_price = number(cells, "ExitPrice", required=exit_time is not None)
    pnl = number(cells, "PnL", required=exit_time is not None)
    content = (symbol, strategy, cells.get("Size"), cells.get("EntryTime"), cells.get("EntryPrice"),
               cells.get("ExitTime"), cells.get("ExitPrice"))
    occurrence = seen.next(*content)
    localized = entry_time.tzinfo is times.zone
    found = evidence(BACKTESTING, cells, times.tz if localized else None,
                     pnl="net of commission" if net else "gross (backtesting before 0.6.5)")
    return BacktestTrade(
        key=f"{entry_time.date().isoformat()}-{digest(*content, occurrence)[:10]}",
        symbol=symbol, direction="long" if size > 0 else "short", quantity=abs(size),
        entry_price=number(cells, "EntryPrice"), entry_time=entry_time,
        exit_price=exit_price if exit_time is not None else None, exit_time=exit_time, pnl=pnl,
        stop=number(cells, "SL", required=False) if "SL" in cells else None,
        target=number(cells, "TP", required=False) if "TP" in cells else None,
        tag=text(cells, "Tag", required=False) if "Tag" in cells else None,
        fees=number(cells, "Commission", required=False) if net else None,
        entry_evidence=found, exit_evidence=found)


def _vectorbt_trade(cells: dict, id_column: str, symbol: Optional[str], strategy: str, times: TimeReader,
                    source: str, line: int) -> BacktestTrade:
    column = (cells.get("Column") or "").strip()
    if not symbol:
        if not column or column.lstrip("-").isdigit():
            raise UsageError("this vectorbt trades CSV names no symbol (its Column is a number): pass --symbol SYM")
        symbol = symbol_of(column)
    trade_key = text(cells, id_column)
    direction = (text(cells, "Direction") or "").lower()
    if direction not in ("long", "short"):
        raise RowError("Direction", f"{cells['Direction']!r} is neither Long nor Short")
    status = (text(cells, "Status") or "").lower()
    if status not in ("open", "closed"):
        raise RowError("Status", f"{cells['Status']!r} is neither Open nor Closed")
    size = number(cells, "Size")
    if size <= 0:
        raise RowError("Size", f"{cells['Size']!r}: vectorbt sizes are positive")
    entry_time = times.read(cells, "Entry Timestamp", at="open", source=source, line=line)
    closed = status == "closed"
    exit_time = times.read(cells, "Exit Timestamp", at="close", source=source, line=line) if closed else None
    localized = entry_time.tzinfo is times.zone
    tz = times.tz if localized else None
    entry_cells = {k: v for k, v in cells.items() if k not in VECTORBT_EXIT_COLUMNS}
    fees = [number(cells, c, required=False) for c in ("Entry Fees", "Exit Fees") if c in cells]
    return BacktestTrade(
        key=f"{slug(id_column.replace(' ', ''), 16)}-{slug(trade_key, 24)}-{digest(symbol, strategy, column)[:6]}",
        symbol=symbol, direction=direction, quantity=size,
        entry_price=number(cells, "Avg Entry Price"), entry_time=entry_time,
        exit_price=number(cells, "Avg Exit Price") if closed else None, exit_time=exit_time,
        pnl=number(cells, "PnL") if closed else None,
        fees=sum((f for f in fees if f is not None), Decimal(0)) if fees else None,
        entry_evidence=evidence(VECTORBT, entry_cells, tz), exit_evidence=evidence(VECTORBT, cells, tz))


_COLUMNS = {
    BACKTESTING: {"/payload/symbol": "--symbol", "/payload/execution/quantity": "Size",
                  "/payload/execution/entry_price": "EntryPrice", "/payload/entry": "EntryPrice",
                  "/payload/execution/close_price": "ExitPrice", "/payload/realized_pnl": "PnL",
                  "/payload/risk/invalidation": "SL", "/payload/risk/targets": "TP"},
    VECTORBT: {"/payload/symbol": "Column", "/payload/execution/quantity": "Size",
               "/payload/execution/entry_price": "Avg Entry Price", "/payload/entry": "Avg Entry Price",
               "/payload/execution/close_price": "Avg Exit Price", "/payload/realized_pnl": "PnL"},
}


def workflow(trade: BacktestTrade, strategy: str, fmt: str) -> list[dict]:
    """plan → executed → closed (open trades stop at executed), linked parent to child."""
    name = f"bt-{slug(strategy)}-{slug(trade.symbol, 16)}-{trade.key}"
    workflow_id, plan_id, trade_id = f"wf-{name}", f"plan-{name}", f"trd-{name}"
    side = "LONG" if trade.direction == "long" else "SHORT"
    entity = {"entity_type": "trade", "entity_id": trade_id, "symbol": trade.symbol}
    setup = {"source": "backtest", "signal_type": trade.tag or "backtest", "strategy": strategy, "tool": fmt}
    plan = {"plan_id": plan_id, "symbol": trade.symbol, "direction": trade.direction, "setup": setup,
            "entry": {"zone": as_json_number(trade.entry_price)}, "evidence": trade.entry_evidence}
    risk = {}
    if trade.stop is not None:
        risk["invalidation"] = as_json_number(trade.stop)
    if trade.target is not None:
        risk["targets"] = [as_json_number(trade.target)]
    if risk:
        plan["risk"] = risk
    plan_event = event("trade.plan.created", f"{name}.plan", trade.entry_time, workflow_id, plan,
                       entity={"entity_type": "trade_plan", "entity_id": plan_id, "symbol": trade.symbol})
    executed = event("trade.executed", f"{name}.executed", trade.entry_time, workflow_id, {
        "trade_id": trade_id, "symbol": trade.symbol, "direction": trade.direction, "plan_id": plan_id,
        "execution": {"side": side, "quantity": as_json_number(trade.quantity),
                      "entry_price": as_json_number(trade.entry_price),
                      "entry_date": plan_event["occurred_at"]},
        "evidence": trade.entry_evidence}, parent=plan_event["event_id"], entity=entity)
    events = [plan_event, executed]
    if trade.exit_time is not None:
        closed = {"trade_id": trade_id, "symbol": trade.symbol, "plan_id": plan_id,
                  "realized_pnl": as_json_number(trade.pnl), "closed_at": "",
                  "execution": {"side": side, "quantity": as_json_number(trade.quantity),
                                "entry_price": as_json_number(trade.entry_price),
                                "close_price": as_json_number(trade.exit_price)},
                  "evidence": trade.exit_evidence}
        if trade.fees is not None:
            closed["fees"] = as_json_number(trade.fees)
        close_event = event("trade.closed", f"{name}.closed", trade.exit_time, workflow_id, closed,
                            parent=executed["event_id"], entity=entity)
        closed["closed_at"] = close_event["occurred_at"]
        events.append(close_event)
    return events
