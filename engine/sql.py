"""Named SQL statements kept in ``engine/sql/*.sql``.

A file holds one or more statements, each introduced by a ``-- name: NAME``
line; ``query("file.name")`` returns that statement's text.  Statements use
psycopg's ``%(param)s`` placeholders: always parameterized.  A statement may
name a ``{slot}`` filled by ``compose`` with another named statement's text
(SQL from these files, or a table list from ``engine/statistics.py``'s
constants; never data).  The automations' ``{in_batch}`` slot is the one
filter of a sweep batch (``runner.in_batch``).  A statement whose only
variable part is an identifier (a scratch database's name) is filled by
``psycopg.sql`` instead.
"""

from __future__ import annotations

import functools
import re
from importlib import resources

_NAME_LINE = re.compile(r"^--\s*name:\s*([A-Za-z0-9_]+)\s*$", re.MULTILINE)


@functools.lru_cache(maxsize=None)
def _file(stem: str) -> dict[str, str]:
    text = (resources.files("msp.engine") / "sql" / f"{stem}.sql").read_text(encoding="utf-8")
    parts = _NAME_LINE.split(text)
    statements = {}
    for name, body in zip(parts[1::2], parts[2::2]):
        # Comment lines document the file, not the statement: left out, so a
        # {slot} or a % named in a comment is never filled or read as a placeholder.
        code = "\n".join(line for line in body.splitlines() if not line.lstrip().startswith("--"))
        statements[name] = code.strip().rstrip(";")
    return statements


def query(qualified_name: str) -> str:
    """The statement ``name`` of file ``stem`` for ``"stem.name"``."""
    stem, _, name = qualified_name.partition(".")
    try:
        return _file(stem)[name]
    except KeyError:
        raise KeyError(f"no SQL statement {qualified_name!r}") from None


def compose(qualified_name: str, **slots: str) -> str:
    """A statement with each ``{slot}`` replaced by the given SQL text (trusted SQL only)."""
    text = query(qualified_name)
    for slot, fragment in slots.items():
        marker = "{" + slot + "}"
        if marker not in text:
            raise KeyError(f"{qualified_name} has no slot {marker}")
        text = text.replace(marker, fragment)
    return text
