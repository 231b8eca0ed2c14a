"""msp import against a real PostgreSQL: backtests, IBKR and generic fills, TradingView alerts.

Exact rows and counts: ids stable across re-imports, renamed and re-exported
files; naive times read in --tz across a DST change; bad rows quarantined with
their row number and raw bytes while the rest import; FIFO P&L equal to IBKR's
FifoPnlRealized; the coach's statistics equal those of the CSV's last 20 trades.
"""

import csv
import shutil
from decimal import Decimal

import pytest

from support import FIXTURES

BACKTEST = FIXTURES / "backtest_goog_sma.csv"
IBKR = FIXTURES / "ibkr_trades.csv"
ALERTS = FIXTURES / "tradingview_alerts.jsonl"
NY = ("--tz", "America/New_York")


def summary(read, ingested, duplicates, rejected=0, *, events, events_duplicate=0, skipped=0, conflicts=0,
            warnings=0, tz="America/New_York", automations=None):
    return {"read": read, "ingested": ingested, "duplicates": duplicates, "conflicts": conflicts,
            "rejected": rejected, "warnings": warnings, "events_ingested": events,
            "events_duplicate": events_duplicate, "skipped": skipped, "tz": tz, "automations": automations}


def events(conn, workspace, event_type=None):
    sql = ("SELECT event_type, event_id, event -> 'payload' AS payload, event ->> 'occurred_at', source_line "
           "FROM workflow_events WHERE workspace = %s AND (%s::text IS NULL OR event_type = %s) ORDER BY seq")
    return conn.execute(sql, (workspace, event_type, event_type)).fetchall()


def count(conn, workspace, table="workflow_events"):
    return conn.execute(f"SELECT count(*) FROM {table} WHERE workspace = %s", (workspace,)).fetchone()[0]


def import_backtest(msp, path, *extra):
    return msp("--format", "json", "import", "backtest", path, "--symbol", "GOOG", "--strategy", "sma_cross",
               *NY, *extra)


# -- backtests -------------------------------------------------------------------------------------------

def test_a_backtesting_py_trade_list_becomes_one_workflow_per_trade(msp, conn, workspace):
    result = import_backtest(msp, BACKTEST)
    assert result.exit_code == 0, result.stderr
    assert result.json() == summary(35, 35, 0, events=105)
    rows = events(conn, workspace)
    assert [r[0] for r in rows[:4]] == ["trade.plan.created", "trade.executed", "trade.closed", "trade.plan.created"]
    plan, executed, closed = (r[2] for r in rows[:3])
    name = rows[0][1].removesuffix(".plan")
    assert name.startswith("bt-sma_cross-GOOG-2010-02-23-")
    assert plan == {
        "plan_id": f"plan-{name}", "symbol": "GOOG", "direction": "long",
        "setup": {"source": "backtest", "signal_type": "sma_up", "strategy": "sma_cross", "tool": "backtesting"},
        "entry": {"zone": 543}, "risk": {"invalidation": 515.66, "targets": [597.08]},
        "evidence": plan["evidence"]}
    assert plan["evidence"]["import"]["row"]["PnL"] == "2907.0261000000064"
    assert plan["evidence"]["import"]["tz"] == "America/New_York"
    assert plan["evidence"]["import"]["pnl"] == "net of commission"
    assert {k: v for k, v in executed.items() if k != "evidence"} == {
        "trade_id": f"trd-{name}", "symbol": "GOOG", "direction": "long", "plan_id": f"plan-{name}",
        "execution": {"side": "LONG", "quantity": 165, "entry_price": 543, "entry_date": "2010-02-23T09:30:00-05:00"}}
    assert {k: v for k, v in closed.items() if k != "evidence"} == {
        "trade_id": f"trd-{name}", "symbol": "GOOG", "plan_id": f"plan-{name}", "realized_pnl": 2907.0261000000064,
        "closed_at": "2010-03-30T16:00:00-04:00", "fees": 364.9239,
        "execution": {"side": "LONG", "quantity": 165, "entry_price": 543, "close_price": 562.83}}
    # dates only: entries at the session open, exits at its close, in New York (EST then EDT)
    assert [r[3] for r in rows[:3]] == ["2010-02-23T09:30:00-05:00"] * 2 + ["2010-03-30T16:00:00-04:00"]
    short = rows[4][2]
    assert (short["direction"], short["execution"]["side"], short["execution"]["quantity"]) == ("short", "SHORT", 164)
    chain = conn.execute("SELECT event_type, parent_event_id FROM workflow_events WHERE workspace = %s "
                         "AND workflow_id = %s ORDER BY seq", (workspace, f"wf-{name}")).fetchall()
    assert chain == [("trade.plan.created", None), ("trade.executed", f"{name}.plan"),
                     ("trade.closed", f"{name}.executed")]
    assert {r[4] for r in rows[:3]} == {2}  # the stored events name the row they came from


def test_reimporting_a_renamed_and_reexported_backtest_stores_nothing(msp, conn, workspace, tmp_path):
    assert import_backtest(msp, BACKTEST).exit_code == 0
    again = import_backtest(msp, BACKTEST)
    assert again.json() == summary(35, 0, 35, events=0, events_duplicate=105)
    # the same trades exported again: another name, columns in another order, CRLF line ends
    with BACKTEST.open(newline="") as source:
        table = list(csv.DictReader(source))
    columns = list(reversed(list(table[0])))
    reexport = tmp_path / "goog trades (copy).csv"
    with reexport.open("w", newline="") as out:
        writer = csv.DictWriter(out, columns, lineterminator="\r\n")
        writer.writeheader()
        writer.writerows(table)
    renamed = import_backtest(msp, reexport)
    assert renamed.json() == summary(35, 0, 35, events=0, events_duplicate=105)
    assert count(conn, workspace) == 105


def test_a_bad_number_quarantines_its_row_with_the_row_number_and_the_rest_import(msp, conn, workspace, tmp_path):
    lines = BACKTEST.read_bytes().split(b"\n")
    bad_line = lines[3].replace(b",-3983.93", b",-39x3.93", 1)
    assert bad_line != lines[3]
    path = tmp_path / "bad.csv"
    path.write_bytes(b"\n".join(lines[:3] + [bad_line] + lines[4:]))
    result = import_backtest(msp, path)
    assert result.exit_code == 1
    assert result.stderr == f"{path}:4: PnL: '-39x3.932119999997' is not a number\n"
    assert result.json() == summary(35, 34, 0, 1, events=102)
    quarantined = conn.execute("SELECT source, line_no, raw, errors FROM rejected_lines WHERE workspace = %s",
                               (workspace,)).fetchall()
    assert quarantined == [(str(path), 4, bad_line, [{"path": "PnL", "message": "'-39x3.932119999997' is not a number",
                                                        "import": "backtesting"}])]
    # a CSV row is not a JSON line: `rejects retry` leaves it as it is; importing the fixed file brings it in
    retry = msp("--format", "json", "rejects", "retry", "--all")
    assert retry.json() == {"retried": 0, "ingested": 0, "duplicates": 0, "still_rejected": 1}
    assert conn.execute("SELECT errors FROM rejected_lines WHERE workspace = %s", (workspace,)).fetchone()[0] == \
        quarantined[0][3]
    fixed = import_backtest(msp, BACKTEST)
    assert fixed.json() == summary(35, 1, 34, events=3, events_duplicate=102)


def test_naive_times_without_a_zone_are_refused_not_guessed(msp, conn, workspace):
    result = msp("import", "backtest", BACKTEST, "--symbol", "GOOG", "--strategy", "sma_cross")
    assert result.exit_code == 2
    assert result.stderr == (f"msp: error: {BACKTEST}:2: EntryTime '2010-02-23' has no time zone: pass --tz ZONE "
                             "(the zone the file's times are in, e.g. --tz America/New_York) or set one with "
                             "`msp state set --timezone ZONE`\n")
    assert count(conn, workspace) == 0
    # the operator state's zone is the operator's answer
    assert msp("state", "set", "--timezone", "Europe/London").exit_code == 0
    result = msp("--format", "json", "import", "backtest", BACKTEST, "--symbol", "GOOG", "--strategy", "sma_cross")
    assert result.json()["tz"] == "Europe/London"
    first = events(conn, workspace, "trade.executed")[0]
    assert first[3] == "2010-02-23T09:30:00+00:00"


def test_the_coach_after_the_last_backtest_trade_matches_the_csv_last_20_trades(msp, conn, workspace):
    result = import_backtest(msp, BACKTEST, "--automate")
    assert result.exit_code == 0, result.stderr
    assert result.json()["automations"]["auto_coach_analyses_generated"] == 35
    with BACKTEST.open(newline="") as source:
        pnl = [Decimal(row["PnL"]) for row in csv.DictReader(source)][-20:]
    wins, losses = [p for p in pnl if p > 0], [-p for p in pnl if p < 0]
    win_rate = Decimal(len(wins)) * 100 / 20
    avg_win, avg_loss = sum(wins) / len(wins), sum(losses) / len(losses)
    expectancy = win_rate / 100 * avg_win - (1 - win_rate / 100) * avg_loss
    last = conn.execute(
        "SELECT event -> 'payload' FROM workflow_events WHERE workspace = %s AND event_type = "
        "'coach.analysis.generated' ORDER BY occurred_at DESC, event_id DESC LIMIT 1", (workspace,)).fetchone()[0]
    assert last["sample_size"] == 20
    assert Decimal(str(last["win_rate"])) == win_rate
    for key, expected in (("avg_win", avg_win), ("avg_loss", avg_loss), ("expectancy", expectancy)):
        assert abs(Decimal(str(last[key])) - expected) < Decimal("1e-9"), key
    today = msp("--format", "json", "today", "--date", "2013-02-01", *NY).json()
    assert today["counts"]["closed"] == 1 and today["last_coach_insight"]["sample_size"] == 20


VECTORBT_HEADER = ("Exit Trade Id,Column,Size,Entry Timestamp,Avg Entry Price,Entry Fees,Exit Timestamp,"
                   "Avg Exit Price,Exit Fees,PnL,Return,Direction,Status,Position Id")


def test_vectorbt_trades_open_trades_stop_at_executed_and_close_on_reimport(msp, conn, workspace, tmp_path):
    first = tmp_path / "vbt.csv"
    first.write_text(VECTORBT_HEADER + "\n"
                     "0,MSFT,57.8419,2026-01-05 10:00:00+00:00,172.54,19.9601,2026-01-09 15:00:00+00:00,181.98,21.0521,"
                     "-587.0397,-0.058821,Short,Closed,0\n"
                     "1,MSFT,52.0741,2026-01-12 10:00:00+00:00,180.40,18.7883,2026-01-14 15:00:00+00:00,169.98,17.7031,"
                     "-579.1038,-0.061645,Long,Closed,1\n"
                     "2,MSFT,69.1399,2026-01-20 10:00:00+00:00,698.37,96.5705,2026-01-30 21:00:00+00:00,806.19,0.0,"
                     "7358.0926,0.152388,Long,Open,2\n")
    result = msp("--format", "json", "import", "backtest", first, "--strategy", "vbt_cross", "--from", "vectorbt")
    assert result.exit_code == 0, result.stderr
    assert result.json() == summary(3, 3, 0, events=8, tz=None)
    closed = events(conn, workspace, "trade.closed")
    assert [(c[2]["trade_id"], c[2]["realized_pnl"], c[2]["execution"]["side"], c[3]) for c in closed] == [
        (closed[0][2]["trade_id"], -587.0397, "SHORT", "2026-01-09T15:00:00+00:00"),
        (closed[1][2]["trade_id"], -579.1038, "LONG", "2026-01-14T15:00:00+00:00")]
    assert closed[0][2]["trade_id"].startswith("trd-bt-vbt_cross-MSFT-ExitTradeId-0-")
    executed = events(conn, workspace, "trade.executed")
    assert [e[2]["execution"]["quantity"] for e in executed] == [57.8419, 52.0741, 69.1399]
    # the next export: the open trade has closed
    second = tmp_path / "vbt-later.csv"
    second.write_text(first.read_text().replace("806.19,0.0,7358.0926,0.152388,Long,Open",
                                                "810.00,110.9,7512.1,0.155,Long,Closed"))
    later = msp("--format", "json", "import", "backtest", second, "--strategy", "vbt_cross", "--from", "vectorbt")
    assert later.json() == summary(3, 1, 2, events=1, events_duplicate=8, tz=None)
    assert events(conn, workspace, "trade.closed")[-1][2]["realized_pnl"] == 7512.1


def test_a_vectorbt_file_without_symbols_needs_symbol(msp, tmp_path):
    path = tmp_path / "vbt.csv"
    path.write_text(VECTORBT_HEADER + "\n0,0,1,2026-01-05,10,0,2026-01-06,11,0,1,0.1,Long,Closed,0\n")
    result = msp("import", "backtest", path, "--strategy", "x", *NY)
    assert result.exit_code == 2
    assert result.stderr == ("msp: error: this vectorbt trades CSV names no symbol (its Column is a number): "
                             "pass --symbol SYM\n")


# -- IBKR fills ------------------------------------------------------------------------------------------

def import_ibkr(msp, path=IBKR, *extra):
    return msp("--format", "json", "import", "fills", path, "--broker", "ibkr", *NY, *extra)


def test_ibkr_executions_match_fifo_and_realized_pnl_equals_fifo_pnl_realized(msp, conn, workspace):
    result = import_ibkr(msp)
    assert result.exit_code == 0, result.stderr
    # 23 executions; 3 ORDER and 3 CLOSED_LOT rows skipped; C;O makes two events
    assert result.json() == summary(23, 23, 0, events=24, skipped=6)
    closed = events(conn, workspace, "trade.closed")
    assert len(closed) == 12
    for _type, event_id, payload, _at, line in closed:
        broker = Decimal(payload["evidence"]["import"]["row"]["FifoPnlRealized"])
        assert abs(Decimal(str(payload["realized_pnl"])) - broker) < Decimal("0.005"), (line, event_id)
    by_line = {line: payload for _t, _id, payload, _at, line in closed}
    # the option: multiplier 100, a partial close is its own trade with the same entry
    assert (by_line[7]["realized_pnl"], by_line[7]["execution"]) == (
        68.7, {"side": "LONG", "quantity": 1, "entry_price": 3.5, "close_price": 4.2})
    assert by_line[7]["trade_id"] == "trd-ibkr-0000e0d5.6a55f005.01.01.0000e0d5.6a55f006.01.01"
    assert by_line[8]["trade_id"] == "trd-ibkr-0000e0d5.6a55f005.01.01"
    assert by_line[8]["realized_pnl"] == -61.3
    # AAPL: a scale-in, then a close of 120 across both lots (FIFO entry), then the last 30
    assert (by_line[12]["execution"], by_line[12]["realized_pnl"]) == (
        {"side": "LONG", "quantity": 120, "entry_price": 185.75, "close_price": 189}, 387.6)
    assert (by_line[16]["execution"], by_line[16]["realized_pnl"]) == (
        {"side": "LONG", "quantity": 30, "entry_price": 187, "close_price": 184}, -90.6)
    updated = events(conn, workspace, "trade.updated")
    assert [(u[2]["trade_id"], u[2]["position"]) for u in updated] == [
        ("trd-ibkr-0000e0d5.6a55f008.01.01",
         {"quantity": 150, "average_entry_price": 186, "fill_quantity": 50, "fill_price": 187}),
        ("trd-ibkr-0000e0d5.6a55f013.01.01",  # NVDA: two identical same-second fills stay two
         {"quantity": 10, "average_entry_price": 120, "fill_quantity": 5, "fill_price": 120})]
    # TSLA short; AMD closes and reverses (C;O) on one fill
    assert (by_line[30]["execution"]["side"], by_line[30]["realized_pnl"]) == ("SHORT", 498)
    amd = [(e[0], e[2]["trade_id"], e[2].get("direction")) for e in events(conn, workspace) if e[4] == 19]
    assert amd == [("trade.closed", "trd-ibkr-0000e0d5.6a55f00c.01.01", None),
                   ("trade.executed", "trd-ibkr-0000e0d5.6a55f00d.01.01", "short")]
    # MSFT: two round trips in one day stay two trades in two workflows
    msft = conn.execute("SELECT DISTINCT workflow_id FROM workflow_events WHERE workspace = %s AND symbol = 'MSFT'",
                        (workspace,)).fetchall()
    assert len(msft) == 2
    option = events(conn, workspace, "trade.executed")[2]
    assert option[2]["symbol"] == "AAPL_260320C00190000"


def test_ibkr_reimport_stores_nothing_and_positions_follow_the_fills(msp, conn, workspace, tmp_path):
    assert import_ibkr(msp, IBKR, "--automate").exit_code == 0
    renamed = tmp_path / "flex-2026-03.csv"
    shutil.copy(IBKR, renamed)
    again = import_ibkr(msp, renamed)
    assert again.json() == summary(23, 0, 23, events=0, events_duplicate=24, skipped=6)
    positions = conn.execute(
        "SELECT trade_id, status, quantity, entry_price, realized_pnl FROM positions WHERE workspace = %s "
        "AND symbol = 'AAPL' ORDER BY trade_id", (workspace,)).fetchall()
    assert positions == [
        ("trd-ibkr-0000e0d5.6a55f008.01.01", "closed", Decimal(30), Decimal(187), Decimal("-90.6")),
        ("trd-ibkr-0000e0d5.6a55f008.01.01.0000e0d5.6a55f00a.01.01", "closed", Decimal(120), Decimal("185.75"),
         Decimal("387.6"))]


def test_naive_ibkr_times_in_new_york_land_on_their_local_day_across_dst(msp, conn, workspace):
    assert import_ibkr(msp).exit_code == 0
    btc = [(e[0], e[3]) for e in events(conn, workspace) if e[2]["symbol"] == "BTC"]
    assert btc == [("trade.executed", "2026-03-06T23:30:00-05:00"), ("trade.closed", "2026-03-09T23:30:00-04:00")]

    def day(date):
        counts = msp("--format", "json", "today", "--date", date, *NY).json()["counts"]
        return counts["executions"], counts["closed"]

    # 03-06: BTC (23:30 EST = 04:30Z on the 7th), MSFT twice (the last close 19:45 = 00:45Z on the 7th)
    assert day("2026-03-06") == (3, 2)
    assert day("2026-03-07") == (0, 0)
    # 03-09, after the change: ETH at 00:30 EDT (04:30Z), its close, BTC's close at 23:30 EDT (03:30Z on the 10th)
    assert day("2026-03-09") == (1, 2)
    assert day("2026-03-10") == (0, 0)


def test_a_bad_ibkr_row_is_quarantined_and_a_close_without_its_open_is_refused(msp, conn, workspace, tmp_path):
    lines = IBKR.read_bytes().split(b"\n")
    lines[3] = lines[3].replace(b'"2000"', b'"2,000.x"')  # ETH's opening price
    path = tmp_path / "flex.csv"
    path.write_bytes(b"\n".join(lines))
    result = import_ibkr(msp, path)
    assert result.exit_code == 1
    assert result.stderr == (f"{path}:4: TradePrice: '2,000.x' is not a number\n"
                             f"{path}:5: Open/CloseIndicator: closes a ETH position that neither this file nor an earlier "
                             "import opened: import the statement with its opening fills first\n")
    assert result.json() == summary(23, 21, 0, 2, events=22, skipped=6)
    assert [r[0] for r in conn.execute("SELECT line_no FROM rejected_lines WHERE workspace = %s ORDER BY line_no",
                                       (workspace,))] == [4, 5]


def test_ibkr_section_layout_is_read_and_cancellations_are_refused(msp, conn, workspace, tmp_path):
    rows = IBKR.read_text().splitlines()
    header, data = rows[0], rows[1:]
    sectioned = ['"BOF","U0000000","Trades","1","20260302","20260310"', '"BOS","TRNT","Trades"',
                 '"HEADER","TRNT",' + header] + ['"DATA","TRNT",' + line for line in data[19:21]] + [
                 '"EOS","TRNT","2"', '"EOF","U0000000"']
    path = tmp_path / "sectioned.csv"
    path.write_text("\n".join(sectioned) + "\n")
    result = import_ibkr(msp, path)
    assert result.json() == summary(2, 2, 0, events=2, skipped=4)
    cancelled = tmp_path / "cancel.csv"
    cancelled.write_text(header + "\n" + data[19].replace('"BUY"', '"BUY (Ca.)"') + "\n")
    result = import_ibkr(msp, cancelled)
    assert result.exit_code == 1
    assert "Buy/Sell: a cancellation or correction" in result.stderr


# -- generic fills -----------------------------------------------------------------------------------------

def test_generic_fills_with_a_column_map_and_identical_fills_stay_two(msp, conn, workspace, tmp_path):
    path = tmp_path / "broker.csv"
    path.write_text("Day,At,Ticker,Qty,Px,B/S,Fee\n"
                    "2026-03-02,10:00:00,spy,100,500.10,Buy,1\n"
                    "2026-03-02,10:00:00,spy,100,500.10,Buy,1\n"
                    "2026-03-02,15:30:00,spy,200,501.10,Sell,2\n")
    args = ("--format", "json", "import", "fills", path, "--broker", "generic", *NY,
            "--map", "date=Day,time=At,symbol=Ticker,quantity=Qty,price=Px,side=B/S,commission=Fee")
    result = msp(*args)
    assert result.exit_code == 0, result.stderr
    assert result.json() == summary(3, 3, 0, events=3)
    closed = events(conn, workspace, "trade.closed")
    assert [(c[2]["symbol"], c[2]["realized_pnl"], c[2]["execution"]["quantity"], c[3]) for c in closed] == [
        ("SPY", 196, 200, "2026-03-02T15:30:00-05:00")]  # 200 × 1.00 − 4 commission
    assert msp(*args).json() == summary(3, 0, 3, events=0, events_duplicate=3)
    bad_map = msp("import", "fills", path, "--broker", "generic", "--map", "ticker", *NY)
    assert bad_map.exit_code == 2 and bad_map.stderr.startswith("msp: error: invalid --map entry 'ticker'")


# -- TradingView ---------------------------------------------------------------------------------------------

def test_tradingview_alerts_become_signals_with_their_body_as_evidence(msp, conn, workspace):
    result = msp("--format", "json", "import", "tradingview", ALERTS, "--confidence", "55")
    assert result.exit_code == 0, result.stderr
    assert result.json() == summary(6, 6, 0, events=6, tz=None)
    signals = events(conn, workspace, "signal.created")
    assert [(s[2]["symbol"], s[2]["direction"], s[2]["confidence"], s[2].get("timeframe"), s[3]) for s in signals] == [
        ("NVDA", "long", 72, "15m", "2026-03-09T14:45:02+00:00"),
        ("NVDA", "neutral", 55.0, "15m", "2026-03-09T17:15:01+00:00"),  # an exit: the position went flat
        ("TSLA", "short", 64, "1h", "2026-03-09T16:00:00+00:00"),
        ("BTCUSD", "long", 55.0, "1d", "2026-03-10T00:00:05+00:00"),
        ("AAPL", "short", 55.0, "4h", "2026-03-10T19:59:58+00:00"),
        ("AAPL", "short", 55.0, "4h", "2026-03-10T19:59:58+00:00")]  # two identical alerts are two signals
    first = signals[0][2]
    assert first["source"] == {"module": "tradingview", "submodule": "NASDAQ", "strategy": "ema_pullback"}
    assert "secret" not in first["evidence"]["import"]["row"]
    assert first["evidence"]["import"]["row"]["order_id"] == "Long"
    again = msp("--format", "json", "import", "tradingview", "-", "--confidence", "55", input=ALERTS.read_bytes())
    assert again.json() == summary(6, 0, 6, events=0, events_duplicate=6, tz=None)


def test_tradingview_bad_bodies_are_quarantined_with_their_line(msp, conn, workspace, tmp_path):
    path = tmp_path / "alerts.jsonl"
    path.write_bytes(b'{"ticker":"NVDA","market_position":"long","timenow":"2026-03-09T14:45:02Z"}\n'
                     b'\n'
                     b'{"ticker":"NVDA","market_position":"long","timenow":"2026-03-09T14:45:02Z",\n'
                     b'{"ticker":"nvda x","direction":"up","confidence":50,"timenow":"2026-03-09T14:45:02Z"}\n')
    result = msp("--format", "json", "import", "tradingview", path)
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"{path}:1: confidence: no confidence: add a \"confidence\" field to the alert or pass --confidence",
        f"{path}:3: (body): not a JSON alert body: unexpected end of data: line 1 column 76 (char 75)",
        f"{path}:4: direction: 'up' is not long, short or neutral"]
    assert result.json() == summary(3, 0, 0, 3, events=0, tz=None)
    raws = conn.execute("SELECT line_no, raw FROM rejected_lines WHERE workspace = %s ORDER BY line_no",
                        (workspace,)).fetchall()
    assert raws[0] == (1, b'{"ticker":"NVDA","market_position":"long","timenow":"2026-03-09T14:45:02Z"}')


def test_import_help_and_usage_errors(msp):
    assert msp("import", "backtest", BACKTEST, "--strategy", "x", *NY).stderr == (
        "msp: error: backtesting.py trade lists name no symbol: pass --symbol SYM\n")
    missing = msp("import", "fills", "no-such.csv")
    assert (missing.exit_code, missing.stderr) == (1, "msp: error: no-such.csv: no such file\n")
    wrong = msp("import", "fills", BACKTEST, *NY)
    assert wrong.exit_code == 1
    assert wrong.stderr == (f"msp: error: {BACKTEST}:1: not an IBKR Flex trades CSV: missing column(s) Symbol, "
                            "Quantity, DateTime/Date/Time/TradeDate, TradePrice/Price\n")


def test_a_realized_pnl_the_broker_disagrees_with_is_a_warning_and_the_row_imports(msp, conn, workspace, tmp_path):
    path = tmp_path / "flex.csv"
    path.write_text(IBKR.read_text().replace('"C","C","18","4000016"', '"C","C","18.50","4000016"'))
    result = import_ibkr(msp, path)
    assert result.exit_code == 0
    assert result.stderr == (f"{path}:22: warning: FifoPnlRealized: the broker reports 18.50, msp's FIFO match gives "
                             "18 (is a fill that opened this position missing from the file?)\n")
    assert result.json() == summary(23, 23, 0, events=24, skipped=6, warnings=1)


def test_the_python_api_twin_returns_what_the_command_prints(database_url, workspace, msp):
    import msp as package

    with package.connect(database_url, workspace) as ws:
        result = ws.import_tradingview(str(ALERTS), confidence=55)
    assert result.model_dump(mode="json") == summary(6, 6, 0, events=6, tz=None)
    again = msp("--format", "json", "import", "tradingview", ALERTS, "--confidence", "55")
    assert again.json() == summary(6, 0, 6, events=0, events_duplicate=6, tz=None)


def test_the_documented_flex_sample_with_zoned_times_needs_no_tz(msp, conn, workspace, tmp_path):
    """The three-row sample of IBKR's format ("HH:mm:ss TimeZone" times): a partial exit, then the rest."""
    path = tmp_path / "sample.csv"
    path.write_text(
        '"ClientAccountID","CurrencyPrimary","AssetClass","Symbol","Multiplier","DateTime","TradeDate","Quantity",'
        '"TradePrice","Proceeds","IBCommission","IBCommissionCurrency","NetCash","Buy/Sell","Open/CloseIndicator",'
        '"Notes/Codes","FifoPnlRealized","TradeID","IBExecID","LevelOfDetail"\n'
        '"U0000000","USD","STK","AAPL","1","2026-01-05;10:00:00 EST","2026-01-05","100","185.50","-18550","-1","USD",'
        '"-18551","BUY","O","O","0","1001","0000e0d5.6a55f33d.01.01","EXECUTION"\n'
        '"U0000000","USD","STK","AAPL","1","2026-01-06;14:00:00 EST","2026-01-06","-60","187.00","11220","-1","USD",'
        '"11219","SELL","C","C;P","88.40","1002","0000e0d5.6a55f33e.01.01","EXECUTION"\n'
        '"U0000000","USD","STK","AAPL","1","2026-01-07;09:45:00 EST","2026-01-07","-40","184.00","7360","-1","USD",'
        '"7359","SELL","C","C","-61.40","1003","0000e0d5.6a55f33f.01.01","EXECUTION"\n')
    result = msp("--format", "json", "import", "fills", path)
    assert result.exit_code == 0, result.stderr
    assert result.json() == summary(3, 3, 0, events=3, tz=None)
    assert [(e[2]["trade_id"], e[2]["realized_pnl"], e[3]) for e in events(conn, workspace, "trade.closed")] == [
        ("trd-ibkr-0000e0d5.6a55f33d.01.01.0000e0d5.6a55f33e.01.01", 88.4, "2026-01-06T14:00:00-05:00"),
        ("trd-ibkr-0000e0d5.6a55f33d.01.01", -61.4, "2026-01-07T09:45:00-05:00")]


@pytest.mark.parametrize("text, expected", [
    ("2026-03-09;23:30:00", "2026-03-09T23:30:00-04:00"),
    ("20260306;233000", "2026-03-06T23:30:00-05:00"),
    ("2026-03-06 23:30:00 EST", "2026-03-06T23:30:00-05:00"),
    ("2026-03-06;23:30:00 US/Pacific", "2026-03-06T23:30:00-08:00"),
    ("2021-11-23, 12:46:38", "2021-11-23T12:46:38-05:00"),
    ("1/17/2011 11:35:05", "2011-01-17T11:35:05-05:00"),
    ("2026-03-09T14:45:02Z", "2026-03-09T14:45:02+00:00"),
    ("2026-03-09 14:45:02.250+01:00", "2026-03-09T14:45:02.250000+01:00"),
    ("2010-02-23", "2010-02-23T09:30:00-05:00"),
    ("20100223", "2010-02-23T09:30:00-05:00"),
])
def test_times_in_the_formats_brokers_and_pandas_write(text, expected):
    from msp.engine.imports.rows import TimeReader, iso

    assert iso(TimeReader("America/New_York").parse(text, "DateTime")) == expected


@pytest.mark.parametrize("text, message", [
    ("2026-13-01", "DateTime: '2026-13-01' is not a date or date-time"),
    ("yesterday", "DateTime: 'yesterday' is not a date or date-time"),
    ("2026-03-06 23:30:00 XYZT", "DateTime: unknown time zone 'XYZT'"),
])
def test_unreadable_times_are_row_errors(text, message):
    from msp.engine.imports.rows import RowError, TimeReader

    with pytest.raises(RowError) as error:
        TimeReader("America/New_York").parse(text, "DateTime")
    assert str(error.value) == message


def test_a_statement_continues_the_positions_the_previous_one_left_open(msp, conn, workspace, tmp_path):
    """March in two statements (split on the 4th, then again overlapping from the 3rd) gives exactly the
    events of one import of the whole month: open positions carry over, overlapping fills are not re-applied."""
    header, *rows = IBKR.read_text().splitlines()

    def statement(name, keep):
        path = tmp_path / name
        path.write_text("\n".join([header] + [r for r in rows if keep(r.split('","')[5][:10])]) + "\n")
        return path

    def stored(name):
        return conn.execute("SELECT event_id, event FROM workflow_events WHERE workspace = %s ORDER BY event_id",
                            (name,)).fetchall()

    whole = import_ibkr(msp, IBKR)
    assert whole.exit_code == 0
    first = msp("--format", "json", "import", "fills", statement("1.csv", lambda d: d < "2026-03-04"), *NY,
                workspace_name=f"{workspace}_split")
    assert first.exit_code == 0, first.stderr
    second = msp("--format", "json", "import", "fills", statement("2.csv", lambda d: d >= "2026-03-04"), *NY,
                 workspace_name=f"{workspace}_split")
    assert second.exit_code == 0, second.stderr
    assert first.json()["read"] + second.json()["read"] == 23
    assert stored(f"{workspace}_split") == stored(workspace)
    overlap = msp("--format", "json", "import", "fills", statement("3.csv", lambda d: d >= "2026-03-03"), *NY,
                  workspace_name=f"{workspace}_split")
    assert overlap.json() == summary(20, 0, 20, events=0, events_duplicate=21, skipped=2)
    assert stored(f"{workspace}_split") == stored(workspace)
