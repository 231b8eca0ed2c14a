"""``msp import fills``: broker executions matched FIFO into trades.

Fills are matched per account and symbol, in file order (a fill older than the
position's previous one is refused: sort the file by time):

- a fill on a flat position opens one: ``trade.executed`` (the position's
  workflow and ``trade_id`` are named after that fill);
- a fill that adds to it: ``trade.updated`` v2, whose ``position`` carries the
  new quantity and average entry price;
- every closing fill closes a trade for its quantity: ``trade.closed`` with
  the entry price of the lots it consumed (FIFO) and the realized P&L
  (gross × multiplier, net of its own commission and the pro-rata share of the
  consumed lots' opening commissions, as IBKR's ``FifoPnlRealized``).  The
  fill that leaves the position flat closes the position's own ``trade_id``;
  an earlier partial exit is its own trade (``<trade_id>.<fill key>``, same
  workflow, same entry), so no realized P&L is lost and the coach counts each
  exit, as backtesting.py does;
- a fill larger than the position (IBKR's ``C;O``) closes it, then opens a new
  position with the remainder (and the remainder's share of the commission).

Imports carry on from each other: the book starts from the positions earlier
imports of the same format left open (rebuilt from their stored events, whose
``fees`` keep each lot's share of its opening commission), and a fill whose id
is already stored is not applied again — its row counts as a duplicate — so a
month's statement continues the previous month's positions and an overlapping
statement changes nothing it already brought in.

The broker formats live in ``ibkr.py`` and ``generic_fill`` below; both hand
``Fill`` values to ``FifoBook``.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, deque
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Callable, Iterator, Optional

from ..db import workspace_transaction
from ..errors import UsageError
from ..ingest import SourceRow
from ..sql import query
from ..validation import Problem
from .rows import (RowError, TimeReader, as_json_number, digest, event, evidence, id_part, iso, number,
                   symbol_of, text)

CENT = Decimal("0.01")
PNL_PLACES = Decimal("0.000001")
ASSET_CLASSES = {"STK": "equity", "ETF": "equity", "OPT": "options", "FOP": "options", "FUT": "commodities",
                 "CMDTY": "commodities", "CASH": "forex", "CRYPTO": "crypto"}


@dataclass
class Fill:
    """One execution, normalized: quantity signed (negative sells), commission signed (negative a cost)."""

    key: str  # id-safe and stable: the broker's execution id, or content + occurrence
    account: str
    symbol: str
    time: dt.datetime
    quantity: Decimal
    price: Decimal
    commission: Decimal
    multiplier: Decimal
    fmt: str  # ibkr | generic
    evidence: dict
    asset_class: Optional[str] = None
    closes_only: bool = False  # the broker marks it a pure close (IBKR "C"): it must find open lots
    broker_pnl: Optional[Decimal] = None  # the broker's realized P&L for it, to check ours against
    columns: dict = field(default_factory=dict)  # event field pointer → source column


@dataclass
class Lot:
    quantity: Decimal  # remaining
    price: Decimal
    commission: Decimal  # remaining share of the opening commission


@dataclass
class Position:
    trade_id: str
    workflow_id: str
    direction: int  # +1 long, -1 short
    lots: deque
    last_event: str
    last_time: dt.datetime

    @property
    def quantity(self) -> Decimal:
        return sum((lot.quantity for lot in self.lots), Decimal(0))

    def average_entry(self) -> Decimal:
        return sum((lot.quantity * lot.price for lot in self.lots), Decimal(0)) / self.quantity


class FifoBook:
    """Open positions by (account, symbol), and the events each fill makes."""

    def __init__(self):
        self.positions: dict[tuple[str, str], Position] = {}
        self.stored: Counter = Counter()  # fill key → how many of its events are stored already
        self._replayed: dict[str, tuple[str, str]] = {}  # workflow → book key, while resuming

    @classmethod
    def resume(cls, db, fmt: str) -> "FifoBook":
        """The book as earlier imports of ``fmt`` left it (``db`` None: an empty book)."""
        book = cls()
        if db is None:
            return book
        params = {"workspace": db.workspace, "prefix": f"{fmt}."}
        with workspace_transaction(db.conn, db.workspace):
            for (event_id,) in db.conn.execute(query("imports.stored_fill_events"), params):
                book.stored[event_id[len(fmt) + 1:].rsplit(".", 1)[0]] += 1
            for (stored,) in db.conn.execute(query("imports.open_fill_positions"), params):
                book._replay(stored)
        return book

    def _replay(self, stored: dict) -> None:
        payload, kind = stored["payload"], stored["event_id"].rsplit(".", 1)[1]
        workflow_id = stored["correlation"]["workflow_id"]
        when = dt.datetime.fromisoformat(stored["occurred_at"])
        if kind == "open":
            self._replayed[workflow_id] = book_key = (payload.get("account", ""), payload["symbol"])
            execution = payload["execution"]
            lot = Lot(_dec(execution["quantity"]), _dec(execution["entry_price"]), -_dec(payload.get("fees", 0)))
            direction = 1 if payload["direction"] == "long" else -1
            self.positions[book_key] = Position(payload["trade_id"], workflow_id,
                                                direction, deque([lot]), stored["event_id"], when)
            return
        position = self.positions.get(self._replayed.get(workflow_id))
        if position is None:
            return
        if kind == "add":
            fill = payload["position"]
            position.lots.append(Lot(_dec(fill["fill_quantity"]), _dec(fill["fill_price"]),
                                     -_dec(payload.get("fees", 0))))
        elif kind == "close":
            self._consume(position, _dec(payload["execution"]["quantity"]), Decimal(0), Decimal(1))
        position.last_event, position.last_time = stored["event_id"], when

    def apply(self, fill: Fill) -> tuple[list[dict], list[Problem]]:
        """The events of one fill (and warnings); raises RowError, changing nothing, if it cannot apply."""
        book_key = (fill.account, fill.symbol)
        position = self.positions.get(book_key)
        if position is not None and fill.time < position.last_time:
            raise RowError(fill.columns.get("time", "time"), f"{fill.time.isoformat()} is before the previous fill of {fill.symbol} "
                                   f"({position.last_time.isoformat()}): sort the file by time")
        sign = 1 if fill.quantity > 0 else -1
        if position is None or position.direction == sign:
            if fill.closes_only:
                raise RowError("Open/CloseIndicator", f"closes a {fill.symbol} position that neither this file nor an "
                                                      "earlier import opened: import the statement with its opening fills first")
            if position is None:
                return [self._open(book_key, fill, abs(fill.quantity), fill.commission)], []
            return [self._add(position, fill)], []
        events, warnings = [], []
        closing = min(abs(fill.quantity), position.quantity)
        remainder = abs(fill.quantity) - closing
        if remainder and fill.closes_only:
            raise RowError("Open/CloseIndicator", f"closes {abs(fill.quantity)} of {fill.symbol} but this file "
                                                  f"opened {position.quantity}: is an opening fill missing?")
        close_commission = fill.commission * closing / abs(fill.quantity)
        events.append(self._close(book_key, position, fill, closing, close_commission, warnings))
        if remainder > 0:
            events.append(self._open(book_key, fill, remainder, fill.commission - close_commission))
        return events, warnings

    @staticmethod
    def _consume(position: Position, closing: Decimal, price: Decimal, multiplier: Decimal):
        """Take ``closing`` from the oldest lots: (gross P&L at ``price``, entry value, opening commission)."""
        gross = entry_value = opening_commission = Decimal(0)
        left = closing
        while left > 0 and position.lots:
            lot = position.lots[0]
            taken = min(left, lot.quantity)
            share = lot.commission * taken / lot.quantity
            gross += (price - lot.price) * taken * position.direction * multiplier
            entry_value += lot.price * taken
            opening_commission += share
            lot.quantity -= taken
            lot.commission -= share
            left -= taken
            if lot.quantity == 0:
                position.lots.popleft()
        return gross, entry_value, opening_commission

    # -- the three kinds of fill ----------------------------------------------
    def _open(self, book_key, fill: Fill, quantity: Decimal, commission: Decimal) -> dict:
        trade_id, workflow_id = f"trd-{fill.fmt}-{fill.key}", f"wf-{fill.fmt}-{fill.key}"
        direction = "long" if fill.quantity > 0 else "short"
        payload = {
            "trade_id": trade_id, "symbol": fill.symbol, "direction": direction,
            "execution": {"side": direction.upper(), "quantity": as_json_number(quantity),
                          "entry_price": as_json_number(fill.price), "entry_date": iso(fill.time)},
            "fees": as_json_number(-commission), "evidence": fill.evidence}
        if fill.account:
            payload["account"] = fill.account
        opened = event("trade.executed", f"{fill.fmt}.{fill.key}.open", fill.time, workflow_id, payload,
                       entity=_entity(fill, trade_id))
        self.positions[book_key] = Position(trade_id, workflow_id, 1 if fill.quantity > 0 else -1,
                                            deque([Lot(quantity, fill.price, commission)]),
                                            opened["event_id"], fill.time)
        return opened

    def _add(self, position: Position, fill: Fill) -> dict:
        position.lots.append(Lot(abs(fill.quantity), fill.price, fill.commission))
        added = event("trade.updated", f"{fill.fmt}.{fill.key}.add", fill.time, position.workflow_id, {
            "trade_id": position.trade_id, "symbol": fill.symbol,
            "position": {"quantity": as_json_number(position.quantity),
                         "average_entry_price": as_json_number(position.average_entry().quantize(PNL_PLACES)),
                         "fill_quantity": as_json_number(abs(fill.quantity)),
                         "fill_price": as_json_number(fill.price)},
            "fees": as_json_number(-fill.commission), "evidence": fill.evidence}, version=2, parent=position.last_event,
            entity=_entity(fill, position.trade_id))
        position.last_event, position.last_time = added["event_id"], fill.time
        return added

    def _close(self, book_key, position: Position, fill: Fill, closing: Decimal, close_commission: Decimal,
               warnings: list) -> dict:
        gross, entry_value, opening_commission = self._consume(position, closing, fill.price, fill.multiplier)
        realized = (gross + close_commission + opening_commission).quantize(PNL_PLACES)
        flat = not position.lots
        trade_id = position.trade_id if flat else f"{position.trade_id}.{fill.key}"
        if fill.broker_pnl is not None and abs(fill.broker_pnl - realized) > CENT:
            warnings.append(Problem(fill.columns.get("realized_pnl", "realized_pnl"),
                                    f"the broker reports {fill.broker_pnl}, msp's FIFO match gives {realized.normalize():f} "
                                    "(is a fill that opened this position missing from the file?)"))
        side = "LONG" if position.direction > 0 else "SHORT"
        closed = event("trade.closed", f"{fill.fmt}.{fill.key}.close", fill.time, position.workflow_id, {
            "trade_id": trade_id, "symbol": fill.symbol, "realized_pnl": as_json_number(realized),
            "closed_at": iso(fill.time),
            "execution": {"side": side, "quantity": as_json_number(closing),
                          "entry_price": as_json_number((entry_value / closing).quantize(PNL_PLACES)),
                          "close_price": as_json_number(fill.price)},
            "fees": as_json_number(-(close_commission + opening_commission).quantize(PNL_PLACES)),
            "evidence": fill.evidence}, parent=position.last_event, entity=_entity(fill, trade_id))
        if flat:
            del self.positions[book_key]
        else:
            position.last_event, position.last_time = closed["event_id"], fill.time
        return closed


def _dec(value) -> Decimal:
    return Decimal(str(value))


def _entity(fill: Fill, trade_id: str) -> dict:
    entity = {"entity_type": "trade", "entity_id": trade_id, "symbol": fill.symbol}
    if fill.asset_class:
        entity["asset_class"] = fill.asset_class
    return entity


def matched_rows(source_rows: Iterator[tuple[SourceRow, Optional[Fill]]], book: FifoBook) -> Iterator[SourceRow]:
    """Run each parsed fill through the book; rows that failed parsing pass as they are,
    and a fill imported before is not applied again (its events are stored)."""
    for row, fill in source_rows:
        if fill is not None and book.stored[fill.key]:
            row.known_events = book.stored[fill.key]
        elif fill is not None:
            try:
                row.events, row.warnings = book.apply(fill)
                row.columns = fill.columns
            except RowError as exc:
                row.problems = [Problem(exc.column, exc.message)]
        yield row


# -- the generic broker: any execution CSV, with a column map ------------------

GENERIC_FIELDS = {
    # field: (default column, required?)
    "symbol": ("Symbol", True), "time": ("Time", False), "date": ("Date", False),
    "quantity": ("Quantity", True), "price": ("Price", True), "side": ("Side", False),
    "commission": ("Commission", False), "fees": ("Fees", False), "account": ("Account", False),
    "id": ("", False), "multiplier": ("Multiplier", False), "asset_class": ("AssetClass", False),
}


def parse_map(spec: Optional[str]) -> dict[str, str]:
    """``symbol=Ticker,time=Date,…`` → {field: column}, over the defaults."""
    mapping = {name: column for name, (column, _req) in GENERIC_FIELDS.items() if column}
    for part in (spec or "").split(","):
        if not part.strip():
            continue
        name, sep, column = part.partition("=")
        name = name.strip().lower()
        if not sep or name not in GENERIC_FIELDS or not column.strip():
            raise UsageError(f"invalid --map entry {part.strip()!r}: use FIELD=COLUMN with FIELD one of "
                             f"{', '.join(GENERIC_FIELDS)}")
        mapping[name] = column.strip()
    return mapping


def check_generic_header(header: list[str], mapping: dict[str, str], where: str) -> dict[str, str]:
    """The map restricted to columns the file has; a required one missing is an error."""
    present = {name: column for name, column in mapping.items() if column in header}
    missing = [f"{name} ({mapping.get(name, '?')})" for name, (_c, required) in GENERIC_FIELDS.items()
               if required and name not in present]
    if "time" not in present and "date" not in present:
        missing.append(f"time ({mapping.get('time')}) or date ({mapping.get('date')})")
    if missing:
        from ..errors import InputRejected

        raise InputRejected(f"{where}: missing column(s) {', '.join(missing)}: name them with --map FIELD=COLUMN")
    return present


def generic_fill(cells: dict, columns: dict[str, str], times: TimeReader, seen: Callable[..., int],
                 where: tuple[str, int]) -> Fill:
    """One row of a generic execution CSV (Tradervue's generic format by default): a side
    starting with B or S (or a signed quantity); commission and fees positive = a charge."""
    def col(name):
        return columns.get(name, name)

    stamp = " ".join(v for v in (cells.get(columns["date"]) if "date" in columns else None,
                                 cells.get(columns["time"]) if "time" in columns else None) if v and v.strip())
    time_column = "+".join(columns[n] for n in ("date", "time") if n in columns)
    if not stamp:
        raise RowError(time_column, "missing value")
    quantity = number(cells, col("quantity"))
    side = (text(cells, columns["side"], required=False) or "").upper() if "side" in columns else ""
    if side.startswith("S"):
        quantity = -abs(quantity)
    elif side.startswith("B"):
        quantity = abs(quantity)
    elif side:
        raise RowError(columns["side"], f"{side!r} is neither a buy (B…) nor a sell (S…)")
    if quantity == 0:
        raise RowError(col("quantity"), "a fill of quantity 0")
    price = number(cells, col("price"))
    if price <= 0:
        raise RowError(col("price"), f"{price} is not a positive price")
    charges = sum((number(cells, columns[n], required=False) or Decimal(0) for n in ("commission", "fees")
                   if n in columns), Decimal(0))
    multiplier = number(cells, columns["multiplier"], required=False) if "multiplier" in columns else None
    symbol = symbol_of(text(cells, col("symbol")))
    account = (cells.get(columns["account"]) or "").strip() if "account" in columns else ""
    time = times.parse(stamp, time_column, where=f"{where[0]}:{where[1]}")
    own_key = (cells.get(columns["id"]) or "").strip() if "id" in columns else ""
    if own_key:
        key = id_part(own_key)
    else:
        content = (account, symbol, stamp, cells.get(col("quantity")), side, cells.get(col("price")))
        key = f"{symbol_key(symbol)}-{digest(*content, seen(*content))[:12]}"
    asset = (cells.get(columns["asset_class"]) or "").strip().upper() if "asset_class" in columns else ""
    return Fill(key=key, account=account, symbol=symbol, time=time, quantity=quantity, price=price,
                commission=-charges, multiplier=multiplier or Decimal(1), fmt="generic",
                evidence=evidence("generic", cells, times.tz if time.tzinfo is times.zone else None),
                asset_class=ASSET_CLASSES.get(asset),
                columns={"time": time_column, "/payload/symbol": col("symbol"), "/payload/execution/quantity": col("quantity"),
                         "/payload/execution/entry_price": col("price"),
                         "/payload/execution/close_price": col("price")})


def symbol_key(symbol: str) -> str:
    return id_part(symbol.replace("/", "-").replace(":", "-"))[:24]


def generic_rows(stream, *, source: str, times: TimeReader, mapping: dict[str, str]
                 ) -> Iterator[tuple[SourceRow, Optional[Fill]]]:
    """(row, fill) for every row of a generic execution CSV."""
    from .rows import Occurrences, clean_header, csv_records, row_dict

    records = csv_records(stream)
    first = next(records, None)
    if first is None:
        return
    header = clean_header(first.cells)
    columns = check_generic_header(header, mapping, f"{source}:{first.line}")
    seen = Occurrences()
    for record in records:
        row = SourceRow(record.line, record.raw, bytes_read=len(record.raw) + 1, origin="generic")
        try:
            yield row, generic_fill(row_dict(header, record), columns, times, seen.next, (source, record.line))
        except RowError as exc:
            row.problems = [Problem(exc.column, exc.message)]
            yield row, None
