"""``msp import tradingview``: TradingView alert webhook bodies, one JSON object a
line (what a webhook relay appends to a file), as ``signal.created`` events.

Users write the body themselves with TradingView's placeholders, so keys vary;
msp reads: the symbol from ``ticker`` (or ``symbol``); the direction from a
``direction`` field, else ``market_position`` / ``strategy.market_position``
(``long``/``short``; ``flat`` is neutral) — never from the order action alone,
which can be an exit; the confidence from a ``confidence`` field, else
``--confidence``; the timeframe from ``interval`` (``60`` → ``1h``, ``1D`` →
``1d``); the time from ``timenow`` (when the alert fired), else ``time`` (the
bar's open; both UTC).  The whole body is kept as the signal's evidence, less
any shared secret (``secret``, ``passphrase``, ``token``…).  TradingView sends
no id: a signal's id is its body's content and how often that content occurred
before in the file, so a relay file imported again after more alerts were
appended stores only the new ones.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import BinaryIO, Iterator, Optional

import orjson

from ..ingest import SourceRow, read_lines
from ..validation import DEFAULT_MAX_LINE_BYTES, Problem
from .rows import Occurrences, RowError, TimeReader, as_json_number, digest, event, slug, symbol_of

SECRET_KEYS = {"secret", "passphrase", "password", "token", "api_key", "apikey", "key"}
DIRECTIONS = {"long": "long", "buy": "long", "bullish": "long", "short": "short", "sell": "short",
              "bearish": "short", "flat": "neutral", "neutral": "neutral"}
POSITIONS = {"long": "long", "short": "short", "flat": "neutral"}
_INTERVAL = re.compile(r"^(\d*)([SDWM]?)$")


def timeframe(interval: str) -> str:
    """A TradingView ``{{interval}}`` as msp's timeframe: minutes → ``5m``/``1h``, ``1D`` → ``1d``."""
    match = _INTERVAL.match(interval.strip().upper())
    if not match or not (match[1] or match[2]):
        return interval.strip()
    count, unit = int(match[1] or 1), match[2]
    if unit == "":
        return f"{count // 60}h" if count % 60 == 0 else f"{count}m"
    return f"{count}{ {'S': 's', 'D': 'd', 'W': 'w', 'M': 'M'}[unit] }"


def _get(body: dict, *names: str):
    """The first of these keys present (``a.b`` also looks into a nested object)."""
    for name in names:
        if name in body:
            return body[name]
        head, _, tail = name.partition(".")
        if tail and isinstance(body.get(head), dict) and tail in body[head]:
            return body[head][tail]
    return None


def _confidence(value, fallback: Optional[float]) -> float:
    if value is None:
        if fallback is None:
            raise RowError("confidence", "no confidence: add a \"confidence\" field to the alert or pass --confidence")
        return fallback
    try:
        number = Decimal(str(value).strip())
    except ArithmeticError:
        raise RowError("confidence", f"{value!r} is not a number") from None
    if not number.is_finite():
        raise RowError("confidence", f"{value!r} is not a number")
    return as_json_number(number)


def signal_for(body: dict, *, times: TimeReader, confidence: Optional[float], seen: Occurrences,
               where: str) -> dict:
    ticker = _get(body, "ticker", "symbol")
    if not isinstance(ticker, str) or not ticker.strip():
        raise RowError("ticker", "no ticker: add \"ticker\": \"{{ticker}}\" to the alert")
    symbol = symbol_of(ticker)
    raw_direction = _get(body, "direction")
    if raw_direction is not None:
        direction = DIRECTIONS.get(str(raw_direction).strip().lower())
        if direction is None:
            raise RowError("direction", f"{raw_direction!r} is not long, short or neutral")
    else:
        position = _get(body, "market_position", "strategy.market_position", "marketPosition")
        direction = POSITIONS.get(str(position).strip().lower()) if position is not None else "neutral"
        if direction is None:
            raise RowError("market_position", f"{position!r} is not long, short or flat")
    stamp = _get(body, "timenow", "time")
    if not isinstance(stamp, str) or not stamp.strip():
        raise RowError("timenow", "no time: add \"timenow\": \"{{timenow}}\" to the alert")
    moment = times.parse(stamp, "timenow" if "timenow" in body else "time", where=where)
    kept = {k: v for k, v in body.items() if k.lower() not in SECRET_KEYS}
    content = orjson.dumps(kept, option=orjson.OPT_SORT_KEYS).decode()
    name = f"tv-{slug(symbol, 16)}-{moment.date().isoformat()}-{digest(content, seen.next(content))[:12]}"
    payload = {"signal_id": f"sig-{name}", "symbol": symbol, "direction": direction,
               "confidence": _confidence(_get(body, "confidence"), confidence),
               "signal_type": str(_get(body, "signal_type") or "tradingview_alert"),
               "source": {"module": "tradingview"},
               "evidence": {"import": {"format": "tradingview", "row": kept}}}
    exchange, strategy, interval = _get(body, "exchange"), _get(body, "strategy"), _get(body, "interval")
    if isinstance(exchange, str) and exchange:
        payload["source"]["submodule"] = exchange
    if isinstance(strategy, str) and strategy:
        payload["source"]["strategy"] = strategy
    if interval is not None and str(interval).strip():
        payload["timeframe"] = timeframe(str(interval))
    return event("signal.created", f"{name}.signal", moment, f"wf-{name}", payload,
                 entity={"entity_type": "signal", "entity_id": payload["signal_id"], "symbol": symbol})


COLUMNS = {"/payload/symbol": "ticker", "/payload/confidence": "confidence", "/payload/direction": "direction",
           "/payload/signal_type": "signal_type", "/occurred_at": "timenow"}


def rows(stream: BinaryIO, *, source: str, times: TimeReader, confidence: Optional[float]) -> Iterator[SourceRow]:
    seen = Occurrences()
    for line_no, raw, over_long, consumed in read_lines(stream, DEFAULT_MAX_LINE_BYTES):
        if not over_long and (not raw or raw.isspace()):
            continue
        row = SourceRow(line_no, raw, bytes_read=consumed, columns=COLUMNS, origin="tradingview")
        try:
            if over_long:
                raise RowError("(body)", f"line is over the {DEFAULT_MAX_LINE_BYTES}-byte limit ({consumed} bytes)")
            try:
                body = orjson.loads(raw)
            except orjson.JSONDecodeError as exc:
                raise RowError("(body)", f"not a JSON alert body: {exc}") from None
            if type(body) is not dict:
                raise RowError("(body)", f"an alert body must be a JSON object, not {type(body).__name__}")
            row.events = [signal_for(body, times=times, confidence=confidence, seen=seen,
                                     where=f"{source}:{line_no}")]
        except RowError as exc:
            row.problems = [Problem(exc.column, exc.message)]
        yield row
