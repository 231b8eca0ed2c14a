"""engine/reports/ only reads: every report runs in transactions that are all
READ ONLY (``default_transaction_read_only``), where any write is refused."""

from support import FIXTURES

READ_ONLY = {"PGOPTIONS": "-c default_transaction_read_only=on"}


def test_every_report_runs_inside_a_read_only_transaction(msp, conn, workspace, tmp_path):
    loaded = msp("ingest", FIXTURES / "history_week.jsonl", FIXTURES / "trading_day.jsonl", FIXTURES / "bad_lines.jsonl",
                 "--automate", "--format", "json")
    assert loaded.json()["rejected"] > 0 and loaded.json()["auto_plans_created"] > 0
    journal_id = conn.execute("SELECT min(journal_id) FROM journal_entries WHERE workspace = %s",
                              (workspace,)).fetchone()[0]
    reject_id = conn.execute("SELECT min(reject_id) FROM rejected_lines WHERE workspace = %s",
                             (workspace,)).fetchone()[0]
    workflow_id = conn.execute("SELECT min(workflow_id) FROM alerts WHERE workspace = %s", (workspace,)).fetchone()[0]
    reports = [("today", "--date", "2026-11-20"), ("conversion", "--date", "2026-11-20"),
               ("conversion", "--cohort", "--date", "2026-11-20"), ("presence",), ("operator", "--date", "2026-11-20"),
               ("tasks", "list", "--status", "all"), ("state", "show"), ("trace", workflow_id),
               ("alerts", "list"), ("journal", "list"), ("journal", "show", journal_id),
               ("rejects", "list"), ("rejects", "show", reject_id), ("review", "--week", "2026-11-20")]
    for report in reports:
        result = msp(*report, "--format", "json", env=READ_ONLY)
        assert result.exit_code == 0, (report, result.stderr)
        assert result.stdout.strip() not in ("", "[]", "{}"), report
    refused = msp("state", "set", "--focus", "breakouts", env=READ_ONLY)  # the wall the reports ran behind is real
    assert refused.exit_code == 3 and "read-only transaction" in refused.stderr
