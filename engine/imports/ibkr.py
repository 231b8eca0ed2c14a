"""Interactive Brokers Flex Query "Trades" CSV, read as fills for ``fills.FifoBook``.

Only EXECUTION rows are fills: ORDER, CLOSED_LOT and SUMMARY rows restate the
same trades (counting them would double or triple a position) and are skipped.
The Flex "section code and line descriptor" layout (``BOF``/``BOS``/
``HEADER``/``DATA``/``EOS``/``EOF`` prefixes) is read too, trades section only,
and a header repeated mid-file is skipped.  Quantity is negative for sells,
``IBCommission`` negative for a cost, P&L is × ``Multiplier`` (100 for an option
without one).  The id of a fill is ``IBExecID`` (the Trade Confirmation's
``ExecID``), else ``TradeID``, else ``TransactionID``, else the row's content
and its occurrence.  Cancellations (``BUY (Ca.)``, ``TradeCancel``) and
corrections are refused with a message rather than guessed at.
"""

from __future__ import annotations

from decimal import Decimal
from typing import BinaryIO, Iterator, Optional

from ..errors import InputRejected
from ..ingest import SourceRow
from ..validation import Problem
from .fills import ASSET_CLASSES, Fill, symbol_key
from .rows import (CsvRecord, Occurrences, RowError, TimeReader, clean_header, csv_records, digest, evidence,
                   id_part, number, row_dict, symbol_of, text)

SECTION_CODES = {"BOF", "BOS", "EOS", "EOF", "HEADER", "DATA"}
REQUIRED = ("Symbol", "Quantity")
SYNONYMS = {  # field → the Activity Flex name, then the Trade Confirmation Flex name
    "time": ("DateTime", "Date/Time", "TradeDate"),
    "price": ("TradePrice", "Price"),
    "commission": ("IBCommission", "Commission"),
    "key": ("IBExecID", "ExecID", "TradeID", "TransactionID"),
    "currency": ("CurrencyPrimary", "Currency"),
}
OPTION_CLASSES = {"OPT", "FOP"}
CANCELLED = ("TradeCancel", "TradeCorrect")


def _first(header: list[str], names: tuple) -> Optional[str]:
    return next((n for n in names if n in header), None)


class _Layout:
    """Which columns of this file hold what (the header decides)."""

    def __init__(self, header: list[str], source: str, line: int):
        missing = [c for c in REQUIRED if c not in header]
        self.header = header
        self.columns = {name: _first(header, names) for name, names in SYNONYMS.items()}
        for name in ("time", "price"):
            if self.columns[name] is None:
                missing.append("/".join(SYNONYMS[name]))
        if missing:
            raise InputRejected(f"{source}:{line}: not an IBKR Flex trades CSV: missing column(s) {', '.join(missing)}")
        price = self.columns["price"]
        self.event_columns = {  # where an event's fields came from, for schema errors (one dict for every row)
            "time": self.columns["time"], "realized_pnl": "FifoPnlRealized", "/payload/symbol": "Symbol",
            "/payload/execution/quantity": "Quantity", "/payload/execution/entry_price": price,
            "/payload/execution/close_price": price}


def rows(stream: BinaryIO, *, source: str, times: TimeReader, skipped: list) -> Iterator[tuple[SourceRow, Optional[Fill]]]:
    """(row, fill) for every execution row; ``skipped`` counts the rows that are not fills."""
    layout: Optional[_Layout] = None
    seen = Occurrences()
    for record in csv_records(stream):
        cells = record.cells
        code = cells[0].strip() if cells else ""
        if code in SECTION_CODES and len(cells) > 1:
            if code == "HEADER":
                header = clean_header(cells[2:])
                layout = _Layout(header, source, record.line) if "Quantity" in header else None
                continue
            if code != "DATA" or layout is None:
                skipped.append(record.line)
                continue
            record = CsvRecord(record.line, record.raw, cells[2:], record.error)
        elif layout is None:
            layout = _Layout(clean_header(cells), source, record.line)
            continue
        elif clean_header(cells) == layout.header:
            continue  # the header again (one per account or asset class)
        row = SourceRow(record.line, record.raw, bytes_read=len(record.raw) + 1, origin="ibkr")
        try:
            values = row_dict(layout.header, record)
            level = (values.get("LevelOfDetail") or "EXECUTION").strip().upper()
            if level != "EXECUTION":
                skipped.append(record.line)
                continue
            yield row, _fill(values, layout, times, seen, source, record.line)
        except RowError as exc:
            row.problems = [Problem(exc.column, exc.message)]
            yield row, None


def _fill(values: dict, layout: _Layout, times: TimeReader, seen: Occurrences, source: str, line: int) -> Fill:
    cols = layout.columns
    buy_sell = (values.get("Buy/Sell") or "").strip().upper()
    if "(CA.)" in buy_sell or (values.get("TransactionType") or "").strip() in CANCELLED:
        raise RowError("Buy/Sell" if "(CA.)" in buy_sell else "TransactionType",
                       "a cancellation or correction: msp does not apply these; remove the cancelled "
                       "execution and this row, or import a statement without them")
    quantity = number(values, "Quantity")
    if quantity == 0:
        raise RowError("Quantity", "a fill of quantity 0")
    if quantity > 0 and buy_sell.startswith("SELL"):
        quantity = -quantity
    price = number(values, cols["price"])
    if price <= 0:
        raise RowError(cols["price"], f"{price} is not a positive price")
    asset = (values.get("AssetClass") or "").strip().upper()
    multiplier = number(values, "Multiplier", required=False) if "Multiplier" in values else None
    if multiplier is None:
        multiplier = Decimal(100) if asset in OPTION_CLASSES else Decimal(1)
    commission = number(values, cols["commission"], required=False) if cols["commission"] else None
    symbol = symbol_of(text(values, "Symbol"))
    account = (values.get("ClientAccountID") or "").strip()
    time = times.read(values, cols["time"], at="open", source=source, line=line)
    own_key = (values.get(cols["key"]) or "").strip() if cols["key"] else ""
    if own_key:
        key = id_part(own_key)
    else:
        content = (account, symbol, values.get(cols["time"]), values.get("Quantity"), values.get(cols["price"]))
        key = f"{symbol_key(symbol)}-{digest(*content, seen.next(*content))[:12]}"
    indicator = (values.get("Open/CloseIndicator") or "").strip().upper()
    broker_pnl = number(values, "FifoPnlRealized", required=False) if "FifoPnlRealized" in values else None
    localized = time.tzinfo is times.zone
    return Fill(key=key, account=account, symbol=symbol, time=time, quantity=quantity, price=price,
                commission=commission or Decimal(0), multiplier=multiplier, fmt="ibkr",
                evidence=evidence("ibkr", values, times.tz if localized else None),
                asset_class=ASSET_CLASSES.get(asset), closes_only=indicator == "C",
                broker_pnl=broker_pnl if indicator.startswith("C") else None,
                columns=layout.event_columns)
