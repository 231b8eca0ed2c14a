"""``msp import backtest|fills|tradingview FILE|-`` — real data in, as workflow events."""

from __future__ import annotations

import sys

import click

from ..context import pass_app
from ..params import SCORE, TEXT

FILE = click.argument("file", metavar="FILE|-")
AUTOMATE = click.option("--automate", is_flag=True, help="Run the automations right after the import.")
QUIET = click.option("--quiet", "-q", is_flag=True, help="Print rejected rows only, no summary.")
SESSION_OPEN = click.option("--session-open", type=TEXT, default="09:30", show_default=True, metavar="HH:MM",
                            help="Time given to date-only entries (in the import's zone).")
SESSION_CLOSE = click.option("--session-close", type=TEXT, default="16:00", show_default=True, metavar="HH:MM",
                             help="Time given to date-only exits (in the import's zone).")


@click.group("import")
def command():
    """Import a backtest's trades, a broker's fills or TradingView alerts.

    Every row becomes schema-validated workflow events with stable ids, so
    importing the same rows again (even from a renamed or re-exported file)
    stores nothing twice. Bad rows are printed as FILE:ROW: column: message
    and quarantined (see `msp rejects`). Times without a zone are read in
    --tz (else the operator state's zone; never guessed). Exit code 1 if any
    row was rejected.

    \b
    Examples:
      msp import backtest trades.csv --symbol GOOG --strategy sma_cross --tz America/New_York
      msp import fills flex_trades.csv --broker ibkr --tz America/New_York --automate
      msp import tradingview alerts.jsonl --confidence 60
    """


def _callbacks():
    from msp.engine.ingest import IngestCallbacks

    from ..render import issue_printer

    return IngestCallbacks(on_reject=issue_printer(), on_warning=issue_printer("warning"),
                           on_conflict=issue_printer("conflict"))


def _finish(app, result, quiet: bool) -> None:
    from ..render import emit_counts, emit_model

    if app.format == "json":
        emit_model(result)
    else:
        counts = {k: v for k, v in result.model_dump(mode="json").items()
                  if k != "automations" and v is not None}  # no "tz None" when no zone was needed
        counts.update(result.automations or {})
        emit_counts(app.format, counts, plain=not quiet and sys.stdout.isatty())
    sys.exit(1 if result.rejected else 0)


@command.command("backtest")
@FILE
@click.option("--symbol", type=TEXT, metavar="SYM", help="The instrument traded (required for backtesting.py lists).")
@click.option("--strategy", type=TEXT, required=True, metavar="NAME", help="The strategy's name (part of every id).")
@click.option("--from", "source_format", type=click.Choice(["backtesting", "vectorbt"]), default=None,
              help="The tool that wrote the CSV [default: detected from the header].")
@SESSION_OPEN
@SESSION_CLOSE
@AUTOMATE
@QUIET
@pass_app
def backtest(app, file, symbol, strategy, source_format, session_open, session_close, automate, quiet):
    """A backtesting.py `stats['_trades']` or vectorbt `trades.records_readable` CSV:
    each trade becomes plan → executed → closed (open trades stop at executed).
    Times without a zone are read in --tz ZONE, else the operator state's zone.

    \b
    Example:
      msp import backtest fixtures/backtest_goog_sma.csv --symbol GOOG --strategy sma_cross \\
          --tz America/New_York --automate
    """
    result = app.workspace.import_backtest(file, symbol=symbol, strategy=strategy, source_format=source_format,
                                           session_open=session_open, session_close=session_close,
                                           automate=automate, callbacks=_callbacks())
    _finish(app, result, quiet)


@command.command("fills")
@FILE
@click.option("--broker", type=click.Choice(["ibkr", "generic"]), default="ibkr", show_default=True,
              help="ibkr: a Flex Query Trades CSV (EXECUTION rows); generic: any execution CSV.")
@click.option("--map", "mapping", type=TEXT, metavar="FIELD=COLUMN,…",
              help="generic: which column holds symbol, time, date, quantity, price, side, commission, fees, "
                   "account, id, multiplier, asset_class.")
@SESSION_OPEN
@SESSION_CLOSE
@AUTOMATE
@QUIET
@pass_app
def fills(app, file, broker, mapping, session_open, session_close, automate, quiet):
    """Broker executions, matched FIFO per account and symbol into trades.
    Times without a zone are read in --tz ZONE, else the operator state's zone.

    \b
    Example:
      msp import fills fixtures/ibkr_trades.csv --broker ibkr --tz America/New_York
      msp import fills fills.csv --broker generic --map 'symbol=Ticker,date=Day,time=At'
    """
    result = app.workspace.import_fills(file, broker=broker, map=mapping, session_open=session_open,
                                        session_close=session_close, automate=automate, callbacks=_callbacks())
    _finish(app, result, quiet)


@command.command("tradingview")
@FILE
@click.option("--confidence", type=SCORE, default=None,
              help="Confidence of alerts without a \"confidence\" field.")
@AUTOMATE
@QUIET
@pass_app
def tradingview(app, file, confidence, automate, quiet):
    """TradingView alert webhook bodies, one JSON object a line → signal.created.

    \b
    Example:
      msp import tradingview /var/lib/tv-relay/alerts.jsonl --confidence 60
    """
    result = app.workspace.import_tradingview(file, confidence=confidence, automate=automate,
                                              callbacks=_callbacks())
    _finish(app, result, quiet)
