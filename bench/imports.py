"""Import benchmark (issue 13): a year of broker fills through `msp import fills`, against
`msp ingest` of the very events it made.

    python bench/imports.py [--fills 50000] [--database-url URL]

Generates a year of IBKR Flex executions (250 trading days, 40 symbols, round
trips with scale-ins and partial exits), then on two scratch databases:
  * `msp import fills` of the CSV (a real process): rows/s and events/s,
  * `msp ingest` of the same events exported as JSON Lines: events/s.
The ratio says what reading CSV rows, FIFO matching and building the events
cost on top of the ingest path they share (on an idle machine the import's own
work is about 0.2 ms a row: csv, decimals, times, the events and their schema
check).  The issue sets no figure; the aim is a year of fills (≈50,000) in well
under a minute.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import random
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg

import common

HEADER = ["ClientAccountID", "CurrencyPrimary", "AssetClass", "Symbol", "Multiplier", "DateTime", "Quantity",
          "TradePrice", "IBCommission", "Buy/Sell", "Open/CloseIndicator", "TradeID", "IBExecID", "LevelOfDetail"]


def write_fills(path: Path, fills: int) -> None:
    rng = random.Random(13)
    symbols = [f"SYM{i:02d}" for i in range(40)]
    day, written, n = dt.datetime(2025, 1, 2, 9, 30), 0, 0
    position = {s: 0 for s in symbols}
    with path.open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(HEADER)
        while written < fills:
            for _ in range(fills // 250):
                symbol = rng.choice(symbols)
                held = position[symbol]
                roll = rng.random()
                if held == 0:  # open, long or short
                    qty = rng.choice((10, 20, 50, 100)) * rng.choice((1, -1))
                elif roll < 0.3:  # scale in
                    qty = rng.choice((10, 20, 50)) * (1 if held > 0 else -1)
                elif roll < 0.6 and abs(held) >= 20:  # partial exit
                    qty = -(held // 2) if held > 0 else abs(held) // 2
                else:  # flat
                    qty = -held
                position[symbol] += qty
                n += 1
                day += dt.timedelta(seconds=rng.randint(1, 90))
                price = round(rng.uniform(20, 400), 2)
                writer.writerow(["U0000000", "USD", "STK", symbol, 1, day.strftime("%Y-%m-%d;%H:%M:%S"), qty, price,
                                 -round(abs(qty) * 0.005, 2), "BUY" if qty > 0 else "SELL", "", 10_000_000 + n,
                                 f"0000e0d5.{n:08x}.01.01", "EXECUTION"])
                written += 1
            day = (day + dt.timedelta(days=1 + (2 if day.weekday() == 4 else 0))).replace(hour=9, minute=30)


def run(args: list[str]) -> float:
    start = time.perf_counter()
    proc = subprocess.run(common.msp_command() + args, capture_output=True)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(proc.stderr.decode())
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fills", type=int, default=50_000)
    parser.add_argument("--database-url")
    options = parser.parse_args()
    url = common.server_url(options.database_url)
    imported_db = common.scratch_database(url, "import")
    ingested_db = common.scratch_database(url, "ingest")
    try:
        with tempfile.TemporaryDirectory() as tmp:
            fills, events = Path(tmp) / "fills.csv", Path(tmp) / "events.jsonl"
            write_fills(fills, options.fills)
            seconds = run(["--database-url", imported_db, "--format", "json", "import", "fills", str(fills),
                           "--tz", "America/New_York"])
            with psycopg.connect(imported_db) as conn, events.open("w") as out:
                count = 0
                for (event,) in conn.execute("SELECT event::text FROM workflow_events ORDER BY seq"):
                    out.write(event + "\n")
                    count += 1
            ingest_seconds = run(["--database-url", ingested_db, "ingest", str(events)])
        common.record(f"import fills, {options.fills:,} IBKR executions ({dt.date.today()}, PostgreSQL "
                      f"{common.server_version(url)})", [
            f"- `msp import fills`: {seconds:.2f} s — {options.fills / seconds:,.0f} rows/s, "
            f"{count / seconds:,.0f} events/s ({count:,} events)",
            f"- `msp ingest` of the same events: {ingest_seconds:.2f} s — {count / ingest_seconds:,.0f} events/s",
            f"- import / ingest (events/s): {ingest_seconds / seconds:.2f}×; a year of 50,000 fills at this "
            f"rate: {50_000 / (options.fills / seconds):.0f} s"])
    finally:
        common.drop_database(url, imported_db)
        common.drop_database(url, ingested_db)


if __name__ == "__main__":
    main()
