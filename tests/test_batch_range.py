"""A sweep's automations read its batch as (first - 1, last], the seqs of the
events it holds, not (checkpoint, last] (engine/sql/runner.sql batch_end).

seq is one sequence for every workspace of a database.  A trader who was
quiet while the rest of the desk wrote has a checkpoint far below their next
event, and the planner sizes a seq range by the whole table: on the desk
benchmark (bench/desk.py) the first sweep of such a workspace read every one
of its closes through the wrong index, 5.8 s for 1,000 new events, where the
narrow range takes 0.4 s.  This checks the range itself, with real rows; the
timing is the benchmark's."""

import dataclasses

import psycopg

import events as ev
from msp.engine.automations import registry, runner


def test_the_automations_see_the_batch_from_its_first_event(api, database_url, workspace, tmp_path, monkeypatch):
    api.ingest(ev.write(tmp_path / "first.jsonl", ev.candidate(candidate_id="c-1")))
    assert api.automate().auto_plans_created == 1
    with psycopg.connect(database_url) as conn:
        checkpoint = conn.execute("SELECT last_seq FROM automation_checkpoints WHERE workspace = %s",
                                  (workspace,)).fetchone()[0]

    import msp as package

    with package.connect(database_url, "the_busy_rest_of_the_desk") as busy:  # seqs move on elsewhere
        busy.ingest(ev.write(tmp_path / "busy.jsonl",
                             *(ev.signal(workflow=f"wf-busy-{i}") for i in range(40))))
    candidate = ev.candidate(candidate_id="c-2", workflow="wf-2")
    api.ingest(ev.write(tmp_path / "next.jsonl", candidate))
    with psycopg.connect(database_url) as conn:
        new_seq = conn.execute("SELECT seq FROM workflow_events WHERE workspace = %s AND event_id = %s",
                               (workspace, candidate["event_id"])).fetchone()[0]
    assert new_seq > checkpoint + 40

    seen = []

    def watched(automation):
        def apply(conn, scope):
            seen.append((automation.name, scope.lo, scope.hi))
            return automation.apply(conn, scope)
        return dataclasses.replace(automation, apply=apply)

    monkeypatch.setattr(runner, "automations", lambda: tuple(watched(a) for a in registry.automations()))
    result = api.automate()

    assert (result.auto_plans_created, result.auto_alerts_created) == (1, 1)
    first_pass = [(lo, hi) for name, lo, hi in seen if name == "plan_from_candidate"]
    assert first_pass == [(new_seq - 1, new_seq)]
    assert all(lo >= new_seq - 1 for _name, lo, _hi in seen)  # later passes start at their own first event
