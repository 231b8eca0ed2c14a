"""Retention (issue 16 item 3): ``msp archive --before DATE`` moves finished
workflows, whole, to a gzip'd JSONL file and out of the hot tables; reports for
DATE and later are the same before and after; archived ids stay taken, so
re-ingesting the file (or the original input) stores nothing; ``msp trace``
says where an archived chain went.

The data: an old week (October 2025) of every kind of workflow — signals only,
failed candidates, plans (whose journal draft stays open), trades closed and
journaled (whose tasks are then decided), a trade still open, a trade closed
with its tasks left pending — and a new week (January 2100) of the same.  The
cutoff is 2099-01-01: the task decisions carry the wall clock's time, which
falls between the two weeks (until 2099), so no assertion depends on it.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json

import pytest

import events as ev

from msp.engine.errors import UsageError

CUTOFF = "2099-01-01"
NEW_DAYS = [dt.date(2100, 1, d) for d in range(4, 9)]


def week(prefix: str, first: dt.date) -> list:
    """Five days of six workflows each; every id fixed."""
    out = []
    for d in range(5):
        date = first + dt.timedelta(days=d)

        def at(h, m, _date=date):
            return f"{_date.isoformat()}T{h:02d}:{m:02d}:00-05:00"

        sym = ["AAPL", "NVDA", "TSLA", "MSFT", "AMD"][d]
        tag = f"{prefix}-{date.isoformat()}"
        wf = f"{tag}-sig"  # a signal only
        out.append(ev.signal(sym, workflow=wf, at=at(9, 0), event_id=f"{wf}-s"))
        wf = f"{tag}-fail"  # a failed candidate
        out.append(ev.signal(sym, workflow=wf, at=at(9, 10), event_id=f"{wf}-s"))
        out.append(ev.candidate(sym, "fail", 40, workflow=wf, at=at(9, 11), event_id=f"{wf}-c", parent=f"{wf}-s"))
        wf = f"{tag}-plan"  # a passing candidate: msp plans it, alerts it, drafts an (open) journal entry
        out.append(ev.signal(sym, workflow=wf, at=at(9, 20), event_id=f"{wf}-s"))
        out.append(ev.candidate(sym, "pass", 80, workflow=wf, at=at(9, 21), event_id=f"{wf}-c", parent=f"{wf}-s",
                                candidate_id=f"cand-{wf}"))
        wf = f"{tag}-done"  # a trade closed and journaled; its tasks are decided below
        pnl = [120.0, -80.0, 45.5, -20.0, 60.0][d]
        out.append(ev.executed(f"t-{wf}", sym, workflow=wf, at=at(10, 0), event_id=f"{wf}-x"))
        out.append(ev.journal_updated(f"j-{wf}", sym, workflow=wf, at=at(10, 5), notes="in"))
        out[-1]["event_id"] = f"{wf}-ju"
        out.append(ev.closed(f"t-{wf}", pnl, sym, workflow=wf, at=at(11, 0), event_id=f"{wf}-z"))
        out.append(ev.journal_completed(f"j-{wf}", "win" if pnl > 0 else "loss", pnl, workflow=wf, at=at(11, 5)))
        out[-1]["event_id"] = f"{wf}-jc"
        if d == 0:
            wf = f"{tag}-open"  # a trade still open
            out.append(ev.executed(f"t-{wf}", sym, workflow=wf, at=at(12, 0), event_id=f"{wf}-x"))
            wf = f"{tag}-pending"  # a trade closed whose tasks nobody decided
            out.append(ev.executed(f"t-{wf}", sym, workflow=wf, at=at(13, 0), event_id=f"{wf}-x"))
            out.append(ev.closed(f"t-{wf}", -35.0, sym, workflow=wf, at=at(14, 0), event_id=f"{wf}-z"))
    return out


OLD = week("old", dt.date(2025, 10, 6))
NEW = week("new", NEW_DAYS[0])
DONE_OLD = [f"old-2025-10-{d:02d}-done" for d in range(6, 11)]
SIG_OLD = [f"old-2025-10-{d:02d}-sig" for d in range(6, 11)]
FAIL_OLD = [f"old-2025-10-{d:02d}-fail" for d in range(6, 11)]
ARCHIVED = sorted(DONE_OLD + SIG_OLD + FAIL_OLD)


def decide_old_tasks(ws) -> int:
    """Accept or reject every pending task of the old '-done' workflows (the '-pending' one stays)."""
    n = 0
    for task in ws.tasks_list(status="pending", limit=1000).root:
        if task.workflow_id in DONE_OLD:
            (ws.tasks_accept if n % 2 else ws.tasks_reject)(task.task_id)
            n += 1
    return n


def load(ws, tmp_path, name="all.jsonl", events=None) -> str:
    """Ingest and sweep; the journal completions of OLD + NEW come in a second file, after the
    coach has enriched the still open entries (so archived enrichments are tested too)."""
    events = events if events is not None else OLD + NEW
    later = [e for e in events if e["event_id"].endswith("-jc")]
    path = ev.write(tmp_path / name, *[e for e in events if e not in later])
    for source in (path, ev.write(tmp_path / f"completed-{name}", *later)) if later else (path,):
        result = ws.ingest(source, automate=True)
        assert (result.rejected, result.conflicts) == (0, 0)
    return path


def reports(ws) -> dict:
    """Every report over the new window (the dates after the cutoff)."""
    out = {}
    for day in NEW_DAYS:
        out[f"today {day}"] = ws.today(day, tz="America/New_York").model_dump(mode="json")
        out[f"conversion {day}"] = ws.conversion(days=3, date=day, tz="America/New_York").model_dump(mode="json")
        out[f"cohort {day}"] = ws.conversion(days=3, date=day, cohort=True,
                                             tz="America/New_York").model_dump(mode="json")
    now = dt.datetime(2100, 1, 8, 20, 0, tzinfo=dt.timezone.utc)
    out["presence"] = ws.presence(now=now).model_dump(mode="json")
    out["tasks pending"] = ws.tasks_list(status="pending", limit=1000).model_dump(mode="json")
    out["review"] = ws.review(date_from="2100-01-04", date_to="2100-01-08", tz="America/New_York").model_dump(
        mode="json")
    return out


def old_trades(ws) -> dict:
    """The review of the archived week: its trades and what they are grouped by (not the loop's event
    counts or the decided tasks, whose events leave with their workflows)."""
    report = ws.review(date_from="2025-10-06", date_to="2025-10-10", tz="America/New_York", by="strategy")
    return {k: v for k, v in report.model_dump(mode="json").items() if k not in ("loop", "rules")}


def hot(conn, workspace: str) -> dict:
    """Per table: the workspace's rows, as counts, and the workflows of its events."""
    tables = ["workflow_events", "positions", "closed_trades", "alerts", "journal_entries", "journal_enrichments",
              "coach_analyses", "coach_tasks", "workflow_stages", "archived_events", "archives"]
    counts = {t: conn.execute(f"SELECT count(*) FROM {t} WHERE workspace = %s", (workspace,)).fetchone()[0]
              for t in tables}
    flows = {r[0] for r in conn.execute("SELECT DISTINCT workflow_id FROM workflow_events WHERE workspace = %s",
                                        (workspace,))}
    return {"counts": counts, "workflows": flows}


def stored_events(conn, workspace: str, workflows: list[str]) -> list[dict]:
    return [r[0] for r in conn.execute("SELECT event FROM workflow_events WHERE workspace = %s "
                                       "AND workflow_id = ANY(%s) ORDER BY seq", (workspace, workflows))]


@pytest.fixture
def loaded(api, tmp_path):
    path = load(api, tmp_path)
    assert decide_old_tasks(api) == 10  # two tasks for each of the five closes
    api.automate()  # the decisions are events too: the archive takes only what the sweep has passed
    return path


def test_archive_moves_exactly_the_finished_old_workflows_and_every_report_after_the_cutoff_is_unchanged(
        api, conn, workspace, loaded, tmp_path):
    before_reports = reports(api)
    before_old_trades = old_trades(api)
    assert before_old_trades["trades"] == 6  # the five -done closes and the -pending one
    before = hot(conn, workspace)
    to_move = stored_events(conn, workspace, ARCHIVED)
    assert len(to_move) == 5 * 1 + 5 * 2 + 5 * (4 + 1 + 2 + 2)  # -done: 4 inputs, an analysis, 2 suggestions, 2 decisions

    dry = api.archive(before=CUTOFF, dry_run=True, tz="America/New_York")
    assert dry.model_dump(mode="json") == {
        "before": CUTOFF, "cutoff": "2099-01-01T05:00:00+00:00", "dry_run": True, "file": None,
        "workflows": 15, "events": len(to_move),
        # the -plan workflows keep their open journal drafts, -open its position, -pending its tasks;
        # the 'coach' of nothing: every task has its workflow
        "kept": {"not_swept": 0, "open_position": 1, "pending_task": 1, "open_journal": 5, "enriched_later": 0},
        "rows": {"positions": 0, "alerts": 0, "journal_entries": 0, "journal_enrichments": 0, "coach_analyses": 0,
                 "coach_tasks": 0, "workflow_stages": 0},
        "renamed": []}
    assert hot(conn, workspace) == before  # a dry run changes nothing

    target = tmp_path / "old.jsonl.gz"
    result = api.archive(before=CUTOFF, to=str(target), tz="America/New_York")
    assert result.model_dump(mode="json") == {
        **dry.model_dump(mode="json"), "dry_run": False, "file": str(target),
        "rows": {"positions": 5, "alerts": 0, "journal_entries": 5, "journal_enrichments": 5, "coach_analyses": 5,
                 "coach_tasks": 10, "workflow_stages": 15}}

    # the file: the archived events exactly as stored, in seq order; no work file left
    with gzip.open(target, "rb") as f:
        lines = [json.loads(line) for line in f]
    assert lines == to_move
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith("old.")] == ["old.jsonl.gz"]

    # the hot tables: exactly those workflows and their derived rows gone; closed_trades stays (the coach's sample)
    after = hot(conn, workspace)
    assert after["workflows"] == before["workflows"] - set(ARCHIVED)
    assert after["counts"] == {**before["counts"], "workflow_events": before["counts"]["workflow_events"] - len(to_move),
                               "positions": before["counts"]["positions"] - 5,
                               "journal_entries": before["counts"]["journal_entries"] - 5,
                               "journal_enrichments": before["counts"]["journal_enrichments"] - 5,
                               "coach_analyses": before["counts"]["coach_analyses"] - 5,
                               "coach_tasks": before["counts"]["coach_tasks"] - 10,
                               "workflow_stages": before["counts"]["workflow_stages"] - 15,
                               "archived_events": len(to_move), "archives": 1}
    for table in ("positions", "journal_entries", "coach_analyses", "coach_tasks", "workflow_stages"):
        left = conn.execute(f"SELECT count(*) FROM {table} WHERE workspace = %s AND workflow_id = ANY(%s)",
                            (workspace, ARCHIVED)).fetchone()[0]
        assert (table, left) == (table, 0)
    assert conn.execute("SELECT count(*) FROM closed_trades WHERE workspace = %s AND workflow_id = ANY(%s)",
                        (workspace, DONE_OLD)).fetchone()[0] == 5

    assert reports(api) == before_reports
    # and the archived week's trades are still reviewed, by the facts the sweep kept beside their closes
    assert old_trades(api) == before_old_trades

    # nothing more to archive: no file, nothing changed
    again = api.archive(before=CUTOFF, to=str(tmp_path / "again.jsonl.gz"), tz="America/New_York")
    assert (again.workflows, again.events, again.file) == (0, 0, None)
    assert not (tmp_path / "again.jsonl.gz").exists()
    assert hot(conn, workspace) == after


def test_reingesting_the_archive_or_the_original_input_stores_nothing(api, conn, workspace, loaded, tmp_path):
    target = tmp_path / "old.jsonl.gz"
    moved = api.archive(before=CUTOFF, to=str(target), tz="America/New_York").events
    counts = hot(conn, workspace)
    plain = tmp_path / "old.jsonl"
    plain.write_bytes(gzip.decompress(target.read_bytes()))
    again = api.ingest(str(plain), automate=True)
    assert (again.read, again.ingested, again.duplicates, again.conflicts, again.rejected) == (moved, 0, moved, 0, 0)
    original = api.ingest(OLD + NEW, automate=True)
    assert (original.read, original.ingested, original.duplicates) == (len(OLD + NEW), 0, len(OLD + NEW))
    assert hot(conn, workspace) == counts
    # the same id with other content is a conflict, not a duplicate; nothing stored either
    changed = dict(json.loads(plain.read_text().splitlines()[0]))
    changed["payload"] = {**changed["payload"], "confidence": 1}
    conflict = api.ingest([changed])
    assert (conflict.ingested, conflict.duplicates, conflict.conflicts) == (0, 1, 1)
    assert hot(conn, workspace) == counts


def test_the_coach_after_the_cutoff_is_the_same_with_or_without_the_archive(database_url, api, conn, workspace,
                                                                           loaded, tmp_path):
    """A close after the archive: its analysis's last-20 sample still holds the archived closes."""
    import msp as package

    later = [ev.executed("t-later", "AAPL", workflow="later", at="2100-01-09T10:00:00-05:00", event_id="later-x"),
             ev.closed("t-later", 10.0, "AAPL", workflow="later", at="2100-01-09T11:00:00-05:00",
                       event_id="later-z")]
    with package.connect(database_url, workspace + "_ref") as reference:
        load(reference, tmp_path, "ref.jsonl")
        decide_old_tasks(reference)
        reference.automate()
        load(reference, tmp_path, "ref-later.jsonl", later)
        expected = reference.trace("later").model_dump(mode="json")
        expected_today = reference.today(dt.date(2100, 1, 9), tz="America/New_York").model_dump(mode="json")
    api.archive(before=CUTOFF, to=str(tmp_path / "old.jsonl.gz"), tz="America/New_York")
    load(api, tmp_path, "later.jsonl", later)
    assert api.trace("later").model_dump(mode="json") == expected
    assert api.today(dt.date(2100, 1, 9), tz="America/New_York").model_dump(mode="json") == expected_today
    samples = conn.execute("SELECT workspace, sample_size FROM coach_analyses WHERE close_event_id = 'later-z' "
                           "AND workspace IN (%s, %s) ORDER BY 1", (workspace, workspace + "_ref")).fetchall()
    assert samples == [(workspace, 13), (workspace + "_ref", 13)]  # 5 + 1 old closes (archived or not), 6 new, itself


def test_trace_says_where_an_archived_chain_went(api, msp, loaded, tmp_path):
    target = tmp_path / "old.jsonl.gz"
    api.archive(before=CUTOFF, to=str(target), tz="America/New_York")
    wf = DONE_OLD[0]
    report = api.trace(wf).model_dump(mode="json")
    archived_at = report["archived"][0]["archived_at"]
    assert report == {"workflow_id": wf, "events": 0, "roots": [], "cycle_breaks": [],
                      "archived": [{"events": 9, "archive_no": 1, "file": str(target), "archived_at": archived_at}]}
    assert api.trace(f"{wf}-z").workflow_id == wf  # an archived event still names its workflow
    shown = msp("trace", wf)
    assert shown.exit_code == 0, shown.stderr
    assert shown.stdout.splitlines() == [f"workflow {wf} (0 events)",
                                         f"  9 events archived on {archived_at[:10]} to {target}"]
    # a late event of the archived workflow: the trace shows it, and the archived part
    api.ingest([ev.signal("AAPL", workflow=wf, at="2100-01-04T09:00:00-05:00", event_id="late-s")])
    late = api.trace(wf).model_dump(mode="json")
    assert (late["events"], [r["event_id"] for r in late["roots"]], late["archived"][0]["events"]) == \
        (1, ["late-s"], 9)
    assert "archived" not in api.trace("new-2100-01-04-sig").model_dump(mode="json")


def test_what_keeps_a_workflow_hot(api, conn, workspace, tmp_path):
    old = [ev.signal("AAPL", workflow="unswept", at="2025-10-06T09:00:00-05:00", event_id="u-s")]
    api.ingest(old)  # not swept
    result = api.archive(before=CUTOFF, dry_run=True)
    assert (result.workflows, result.kept.not_swept) == (0, 1)
    api.automate()
    assert api.archive(before=CUTOFF, dry_run=True).workflows == 1
    # the cutoff is local midnight: an event at 23:30 New York on the 5th is before 2025-10-06 there, not in UTC
    api.ingest([ev.signal("AAPL", workflow="late-evening", at="2025-10-05T23:30:00-04:00", event_id="le-s")],
               automate=True)
    assert api.archive(before="2025-10-06", dry_run=True, tz="America/New_York").workflows == 1
    assert api.archive(before="2025-10-06", dry_run=True, tz="UTC").workflows == 0


def test_bad_options_are_one_line_errors(api, msp, loaded, tmp_path):
    taken = tmp_path / "taken.jsonl.gz"
    taken.write_bytes(b"someone else's")
    with pytest.raises(UsageError, match="the file exists"):
        api.archive(before=CUTOFF, to=str(taken))
    assert taken.read_bytes() == b"someone else's"
    with pytest.raises(UsageError, match="work file"):
        api.archive(before=CUTOFF, to=str(tmp_path / "x.jsonl.gz.partial"))
    with pytest.raises(UsageError):
        api.archive(before=None)
    for args, code in ((["--before", "2026-13-01"], 2), (["--before", "soon"], 2), ([], 2),
                       (["--before", CUTOFF, "--to", str(taken)], 2),
                       (["--before", CUTOFF, "--to", str(tmp_path / "no" / "such.jsonl.gz")], 1)):
        run = msp("archive", *args)
        assert (args, run.exit_code) == (args, code)
        assert "Traceback" not in run.stderr and len(run.stderr.strip().splitlines()) == 1, run.stderr


def test_the_cli_prints_the_archive(msp, api, loaded, tmp_path):
    target = tmp_path / "cli.jsonl.gz"
    run = msp("archive", "--before", CUTOFF, "--to", target, "--format", "json", env={"MSP_TZ": "America/New_York"})
    assert run.exit_code == 0, run.stderr
    out = json.loads(run.stdout)
    assert (out["workflows"], out["file"], out["rows"]["coach_tasks"]) == (15, str(target), 10)


def test_an_emitted_event_whose_id_was_archived_is_not_stored_again(api, conn, workspace, tmp_path):
    """The sweep's and emit's INSERT … SELECT skips an archived id as it skips a stored one."""
    payload = {"signal_id": "sig-emitted", "symbol": "AAPL", "direction": "long", "confidence": 70,
               "signal_type": "breakout"}
    first = api.emit("signal.created", payload, workflow_id="wf-emitted", occurred_at="2025-10-06T14:00:00Z")
    api.automate()
    assert api.archive(before=CUTOFF, to=str(tmp_path / "e.jsonl.gz")).events == 1
    again = api.emit("signal.created", payload, workflow_id="wf-emitted", occurred_at="2025-10-06T14:00:00Z")
    assert again == first
    assert conn.execute("SELECT count(*) FROM workflow_events WHERE workspace = %s", (workspace,)).fetchone()[0] == 0
    assert conn.execute("SELECT event_id FROM archived_events WHERE workspace = %s",
                        (workspace,)).fetchall() == [(first,)]


def test_an_archived_trade_keeps_its_facts_whether_stored_before_or_by_the_archive(api, conn, workspace, loaded,
                                                                                   tmp_path):
    """A close stored without the review's facts (before migrations/019) gets them from msp
    archive while its events are there; a late event in an archived workflow then changes
    neither the review nor what the sweep stores (the close event is gone)."""
    before = old_trades(api)
    conn.execute("UPDATE closed_trades SET has_facts = false, entered_at = NULL WHERE workspace = %s "
                 "AND workflow_id = ANY(%s)", (workspace, DONE_OLD))
    assert old_trades(api) == before  # computed from the events meanwhile
    api.archive(before=CUTOFF, to=str(tmp_path / "old.jsonl.gz"), tz="America/New_York")
    stored = conn.execute("SELECT workflow_id, has_facts, entered_at FROM closed_trades WHERE workspace = %s "
                          "AND workflow_id = ANY(%s) ORDER BY workflow_id", (workspace, DONE_OLD)).fetchall()
    assert [(w, has, at.isoformat()) for w, has, at in stored] == [
        (w, True, f"2025-10-{w[12:14]}T15:00:00+00:00") for w in sorted(DONE_OLD)]
    assert old_trades(api) == before

    late = ev.journal_updated(f"j-{DONE_OLD[0]}-late", "AAPL", workflow=DONE_OLD[0], at="2025-10-06T16:00:00-05:00",
                              strategy="late-idea", tags=["late"])
    assert api.ingest([late]).ingested == 1
    assert old_trades(api) == before  # stale, but nothing left to compute its close's facts from
    api.automate()
    assert old_trades(api) == before
