"""The migration files: reading ``migrations/``, splitting each file into statements
with PostgreSQL's own grammar (pglast), its directives, and its checksum.

A file holding the comment ``-- msp: no-transaction`` runs outside a transaction
(engine/migrations.py).  A file's checksum is the SHA-256 of its text without its
``-- squawk-ignore`` comment lines (the reasons for accepted lint findings), so a
finding can be accepted in a file that databases have already applied; any other
change to an applied file is an error.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Optional, Union

MIGRATION_FILE = re.compile(r"^(\d{3})_([a-z0-9_]+)\.sql$")
NO_TRANSACTION = re.compile(r"^--\s*msp:\s*no-transaction\s*$")
SQUAWK_IGNORE = re.compile(r"^--\s*squawk-ignore")


@dataclass(frozen=True)
class Statement:
    """One statement of a migration file: its 1-based line, its text and its parse tree."""

    line: int
    sql: str
    node: object = field(compare=False, repr=False)


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def filename(self) -> str:
        return f"{self.version:03d}_{self.name}.sql"

    @cached_property
    def checksum(self) -> str:
        return checksum(self.sql)

    @cached_property
    def transactional(self) -> bool:
        """False when the file is marked ``-- msp: no-transaction``."""
        return not any(NO_TRANSACTION.match(text) for _, text in comments(self.sql))

    @cached_property
    def statements(self) -> list[Statement]:
        """The file's statements, split by PostgreSQL's own grammar (pglast)."""
        return split_statements(self.sql)


def comments(text: str) -> list[tuple[int, str]]:
    """(offset, text) of every ``--`` comment of a SQL text (PostgreSQL's scanner: never one inside a string)."""
    from pglast.parser import scan

    try:
        tokens = scan(text)
    except Exception:  # an unscannable file has no directives; the check reports its syntax
        return []
    return [(t.start, text[t.start:t.end + 1]) for t in tokens if t.name == "SQL_COMMENT"]


def checksum(text: str) -> str:
    """SHA-256 of the text without its ``-- squawk-ignore`` comment lines (see the module docstring)."""
    starts = {start for start, _ in comments(text)}
    kept, offset = [], 0
    for line in text.splitlines(keepends=True):
        stripped = line.lstrip(" \t")
        comment_at = offset + len(line) - len(stripped)
        if not (comment_at in starts and SQUAWK_IGNORE.match(stripped)):
            kept.append(line)
        offset += len(line)
    return hashlib.sha256("".join(kept).encode("utf-8")).hexdigest()


def split_statements(text: str) -> list[Statement]:
    from pglast.parser import ParseError, parse_sql, scan

    try:
        parsed = parse_sql(text)
    except ParseError:  # the server reports it when the file runs; the check reports it first
        return [Statement(1, text, None)]
    tokens = [t for t in scan(text) if t.name not in ("SQL_COMMENT", "C_COMMENT")]
    statements = []
    for raw in parsed:
        start = raw.stmt_location or 0  # pglast reports character offsets
        length = raw.stmt_len or (len(text) - start)
        first = next((t.start for t in tokens if t.start >= start), start)
        sql = text[first:start + length].strip()
        statements.append(Statement(text.count("\n", 0, first) + 1, sql, raw.stmt))
    return statements


Folder = Union[str, Path, None]


def migration_files(folder: Folder = None) -> list[tuple[str, str]]:
    """(filename, text) of every ``*.sql`` file in migrations/ (or ``folder``), sorted by name."""
    root = resources.files("msp") / "migrations" if folder is None else Path(folder)
    return sorted(
        (entry.name, entry.read_text(encoding="utf-8"))
        for entry in root.iterdir()
        if entry.name.endswith(".sql")
    )


def parse_migration(filename: str, text: str) -> Optional[Migration]:
    match = MIGRATION_FILE.match(filename)
    return Migration(int(match.group(1)), match.group(2), text) if match else None


def load_migrations(folder: Folder = None) -> list[Migration]:
    return [m for m in (parse_migration(n, t) for n, t in migration_files(folder)) if m is not None]
