"""The quarantine, write side: retrying quarantined lines (``msp rejects retry``).

``retry`` re-validates stored lines against the current schemas (after a
schema fix, say) and moves the good ones into the event table through the
normal writer, marking them retried in the same transaction.  Lines still
bad keep their place, with their errors brought up to date.  Rows quarantined
by ``msp import`` (CSV rows, webhook bodies) are not JSON lines: they stay as
they are, and importing the corrected file brings them in.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass
from typing import Optional

import orjson

from ..db import Database, retry_conflicts, workspace_transaction
from ..event_store import StagedBatch, write_batch
from ..sql import query
from ..validation import LineChecker
from .retry_queue import rows_to_retry


@dataclass
class RetryReport:
    retried: int = 0
    ingested: int = 0
    duplicates: int = 0
    still_rejected: int = 0

    def counts(self) -> dict:
        return asdict(self)


def retry(db: Database, ids: Optional[list[int]] = None) -> RetryReport:
    """Re-validate quarantined lines (all, or ``ids``) and ingest those now valid; the
    one transaction is redone on a serialization failure or a deadlock."""
    return retry_conflicts(lambda: _retry_once(db, ids))


def _retry_once(db: Database, ids: Optional[list[int]]) -> RetryReport:
    checker = LineChecker()
    report = RetryReport()
    conn, workspace = db.conn, db.workspace
    # one transaction: the lines stay locked until they are moved (nested writes are savepoints)
    with workspace_transaction(conn, workspace):
        rows = rows_to_retry(conn, "rejects.pending", workspace, ids, "quarantined line")
        good: dict[str, list] = defaultdict(list)
        still_bad_ids, still_bad_errors = [], []
        for row in rows:
            if row["imported"]:  # a source row of `msp import`: fixed by importing the fixed file again
                report.still_rejected += 1
                continue
            raw = bytes(row["raw"])
            checked = checker.check(raw)
            if row["raw_truncated"] or checked.errors:
                still_bad_ids.append(row["reject_id"])
                still_bad_errors.append(orjson.dumps([p.as_dict() for p in checked.errors] or
                                                     [{"path": "", "message": "line is over the size limit"}]).decode())
            else:
                good[row["source"]].append((row, checked))
        report.still_rejected += len(still_bad_ids)
        if still_bad_ids:
            conn.execute(query("rejects.update_errors"),
                         {"workspace": workspace, "ids": still_bad_ids, "errors": still_bad_errors})
        for source, items in good.items():
            batch = StagedBatch(source, workspace)
            for row, checked in items:
                batch.add_event(row["line_no"], checked.event_id, checked.derived_id, bytes(row["raw"]), checked.event,
                                exact=checked.exact)

            def mark(c, result, items=items):
                c.execute(query("rejects.mark_retried"), {
                    "workspace": workspace, "ids": [r["reject_id"] for r, _ in items],
                    "event_ids": [ch.event_id for _, ch in items]})

            result = write_batch(conn, workspace, batch, after=mark)
            report.retried += len(items)
            report.ingested += result.ingested
            report.duplicates += result.duplicates
    return report
