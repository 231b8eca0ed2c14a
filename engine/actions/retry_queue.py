"""What the two retry queues share (the quarantine of input lines,
engine/actions/rejects.py, and the set-aside automation failures,
engine/actions/automation_failures.py): picking the rows a ``retry`` takes."""

from __future__ import annotations

from typing import Optional

import psycopg

from ..db import fetch_all
from ..errors import NotFound
from ..numbers import BIGINT_MAX
from ..sql import query


def rows_to_retry(conn: psycopg.Connection, statement: str, workspace: str, ids: Optional[list[int]],
                  what: str) -> list[dict]:
    """The rows of ``statement`` (a ``pending`` query taking ``workspace`` and
    ``ids``, locking what it returns) waiting for a retry: every one, or those
    of ``ids`` — NotFound (exit 1) naming ``what`` if ids were given and none waits."""
    storable = [i for i in ids if 0 < i <= BIGINT_MAX] if ids else None  # no row has any other id
    rows = fetch_all(conn, query(statement), {"workspace": workspace, "ids": storable or None}) \
        if storable or not ids else []
    if ids and not rows:
        raise NotFound(f"no {what} with id {', '.join(map(str, ids))} waiting for a retry")
    return rows
