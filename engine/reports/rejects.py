"""The quarantine, read side: the rejected lines, and one of them with its raw bytes."""

from __future__ import annotations

from typing import Optional

from ..db import Database, fetch_all, fetch_one
from ..errors import NotFound
from ..numbers import BIGINT_MAX
from ..sql import query


def list_rejects(db: Database, status: Optional[str] = "rejected", limit: int = 50) -> list[dict]:
    with db.transaction():
        return fetch_all(db.conn, query("rejects.list"), {"workspace": db.workspace, "status": status, "limit": limit})


def show_reject(db: Database, reject_id: int) -> dict:
    if not 0 < reject_id <= BIGINT_MAX:  # no row can have it (and PostgreSQL would refuse the number)
        raise NotFound(f"rejected line not found: {reject_id}")
    with db.transaction():
        row = fetch_one(db.conn, query("rejects.get"), {"workspace": db.workspace, "reject_id": reject_id})
    if row is None:
        raise NotFound(f"rejected line not found: {reject_id}")
    row["raw"] = bytes(row["raw"]).decode("utf-8", errors="backslashreplace")
    return row
