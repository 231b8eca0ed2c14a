"""Reading journal entries: the list and one entry with its coach enrichments."""

from __future__ import annotations

from typing import Optional

from ..db import Database, fetch_all, fetch_one
from ..errors import NotFound
from ..sql import query


def list_entries(db: Database, status: Optional[str] = None, limit: int = 50) -> list[dict]:
    with db.transaction():
        return fetch_all(db.conn, query("journal.list"), {"workspace": db.workspace, "status": status, "limit": limit})


def show_entry(db: Database, journal_id: str) -> dict:
    params = {"workspace": db.workspace, "journal_id": journal_id}
    with db.transaction():
        entry = fetch_one(db.conn, query("journal.get"), params)
        if entry is None:
            raise NotFound(f"journal entry not found: {journal_id}")
        entry["enrichments"] = fetch_all(db.conn, query("journal.enrichments"), params)
    return entry
