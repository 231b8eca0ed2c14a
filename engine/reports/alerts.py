"""Smart alerts, read side: the alert list (triggering is ``engine/actions/alerts.py``)."""

from __future__ import annotations

from typing import Optional

from ..db import Database, fetch_all
from ..sql import query


def list_alerts(db: Database, status: Optional[str] = None, limit: int = 50) -> list[dict]:
    with db.transaction():
        return fetch_all(db.conn, query("alerts.list"), {"workspace": db.workspace, "status": status, "limit": limit})
