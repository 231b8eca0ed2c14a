"""``msp trace WORKFLOW_ID|EVENT_ID``: a workflow's events as a parent → children tree.

An event id is resolved to its workflow.  Events whose parent is outside the
workflow (or absent) are roots; children are in ingest order.  Parent links that
form a cycle (input can say A's parent is B and B's is A) would leave events
reachable from no root: the first such event in ingest order becomes a root,
its parent link cut, and is listed in ``cycle_breaks`` — every event is shown.
"""

from __future__ import annotations

from ..db import Database, fetch_all, iso
from ..errors import NotFound
from ..sql import query

MAX_EVENTS = 10_000
SUMMARY_KEYS = ("symbol", "direction", "result", "final_confidence", "plan_id", "trade_id", "realized_pnl",
                "journal_id", "analysis_id", "task_id", "decision", "action", "outcome")


def summary(event_type: str, payload: dict) -> str:
    if not isinstance(payload, dict):
        return ""
    parts = [f"{k}={payload[k]}" for k in SUMMARY_KEYS if k in payload and not isinstance(payload[k], (dict, list))]
    return " ".join(parts)


def trace(db: Database, ident: str) -> dict:
    params = {"workspace": db.workspace, "id": ident, "limit": MAX_EVENTS}
    with db.transaction():
        row = db.conn.execute(query("trace.workflow_of_event"), params).fetchone()
        workflow_id = row[0] if row else ident
        rows = fetch_all(db.conn, query("trace.events"), {**params, "workflow_id": workflow_id})
        archived = fetch_all(db.conn, query("trace.archived"), {**params, "workflow_id": workflow_id})
    if not rows and not archived:
        raise NotFound(f"no workflow or event with id {ident}")
    nodes = {}
    for r in rows:
        nodes[r["event_id"]] = {
            "event_id": r["event_id"], "event_type": r["event_type"], "occurred_at": iso(r["occurred_at"]),
            "actor": r["actor_type"], "summary": summary(r["event_type"], r["payload"]), "children": []}
    roots = []
    for r in rows:
        parent = r["parent_event_id"]
        if parent in nodes and parent != r["event_id"]:
            nodes[parent]["children"].append(nodes[r["event_id"]])
        else:
            roots.append(nodes[r["event_id"]])
    reached: set = set()

    def reach(node: dict) -> None:
        stack = [node]
        while stack:
            n = stack.pop()
            if id(n) not in reached:
                reached.add(id(n))
                stack.extend(n["children"])

    for root in roots:
        reach(root)
    cycle_breaks = []
    for r in rows:
        node = nodes[r["event_id"]]
        if id(node) not in reached:  # its ancestors loop: cut the link to its parent
            siblings = nodes[r["parent_event_id"]]["children"]
            siblings[:] = [c for c in siblings if c is not node]
            roots.append(node)
            cycle_breaks.append(r["event_id"])
            reach(node)
    report = {"workflow_id": workflow_id, "events": len(rows), "roots": roots, "cycle_breaks": cycle_breaks}
    if archived:  # msp archive moved part (or all) of the chain out (docs/ARCHITECTURE.md#retention)
        report["archived"] = archived
    return report
