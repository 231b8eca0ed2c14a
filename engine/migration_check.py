"""``msp migrate --check``: prove the migrations are well-formed and idempotent (docs/ARCHITECTURE.md#migrations).

Static: file names numbered 001… without gaps or duplicates; every statement
parses with sqlglot (postgres dialect) *and* with PostgreSQL's own grammar
(pglast) — a statement sqlglot only swallows as a generic command (DO blocks,
trigger functions, policies, …) is reported, never counted as a pass, and
pglast has the final word on syntax; every CREATE is guarded (IF NOT EXISTS
or OR REPLACE); no unguarded destructive statement (DROP without IF EXISTS,
TRUNCATE, DELETE without WHERE, ALTER … DROP without IF EXISTS); no CREATE
INDEX CONCURRENTLY (migrations run in one transaction); applied files'
checksums unchanged.

Dynamic: on a scratch database of the same server, apply everything, snapshot
the catalog with queries (not pg_dump, whose \\restrict key is random), run
every file again, snapshot again, and require identical catalogs and valid
indexes.  Sequence positions are ignored (ON CONFLICT advances them).
"""

from __future__ import annotations

import hashlib
import logging
import re
import uuid
from dataclasses import dataclass, field
from typing import Optional

import psycopg
from psycopg import sql

from .migrations import MIGRATION_FILE, migration_files
from .sql import query

GUARDED_CREATES = {
    # pglast node → attribute that must be true
    "CreateStmt": "if_not_exists", "IndexStmt": "if_not_exists", "CreateSchemaStmt": "if_not_exists",
    "CreateSeqStmt": "if_not_exists", "CreateTableAsStmt": "if_not_exists", "CreateExtensionStmt": "if_not_exists",
    "CreateFunctionStmt": "replace", "CreateTrigStmt": "replace", "ViewStmt": "replace",
}


@dataclass(frozen=True)
class Finding:
    file: str
    message: str
    severity: str = "error"


@dataclass
class CheckReport:
    findings: list = field(default_factory=list)
    files_checked: int = 0
    statements_checked: int = 0

    @property
    def ok(self) -> bool:
        return not any(f.severity == "error" for f in self.findings)

    def as_dict(self) -> dict:
        return {"ok": self.ok, "files": self.files_checked, "statements": self.statements_checked,
                "findings": [{"file": f.file, "severity": f.severity, "message": f.message} for f in self.findings]}


def _first_words(sql: str, n: int = 6) -> str:
    words = re.sub(r"--[^\n]*", " ", sql).split()
    return " ".join(words[:n])


def _numbering(files: list[tuple[str, str]]) -> list[Finding]:
    findings, seen = [], {}
    for name, _ in files:
        match = MIGRATION_FILE.match(name)
        if not match:
            findings.append(Finding(name, "file name must be NNN_snake_case_name.sql"))
            continue
        number = int(match.group(1))
        if number in seen:
            findings.append(Finding(name, f"duplicate migration number {number:03d} (also {seen[number]})"))
        seen.setdefault(number, name)
    expected = 1
    for number in sorted(seen):
        if number != expected:
            findings.append(Finding(seen[number], f"numbering gap: expected {expected:03d}, found {number:03d}"))
        expected = number + 1
    return findings


def _policy_dropped_first(node, earlier: str) -> bool:
    """CREATE POLICY has no IF NOT EXISTS: it is idempotent only after a
    ``DROP POLICY IF EXISTS`` of the same policy on the same table in the same file."""
    policy = re.escape(node.policy_name)
    table = re.escape(node.table.relname)
    return re.search(rf'\bDROP\s+POLICY\s+IF\s+EXISTS\s+"?{policy}"?\s+ON\s+(?:"?\w+"?\.)?"?{table}"?',
                     earlier, re.I) is not None


def _guard_findings(name: str, index: int, node, text: str, earlier: str = "") -> list[Finding]:
    kind = type(node).__name__
    where = f"statement {index} ({_first_words(text)})"
    findings = []
    if kind in GUARDED_CREATES and not getattr(node, GUARDED_CREATES[kind], False):
        findings.append(Finding(name, f"{where}: CREATE without IF NOT EXISTS / OR REPLACE is not idempotent"))
    if kind == "IndexStmt" and getattr(node, "concurrent", False):
        findings.append(Finding(name, f"{where}: CREATE INDEX CONCURRENTLY cannot run inside the migration "
                                      "transaction (and a failed one leaves an invalid index)"))
    if kind == "CreatePolicyStmt" and not _policy_dropped_first(node, earlier):
        findings.append(Finding(name, f"{where}: CREATE POLICY has no IF NOT EXISTS form; precede it with "
                                      "DROP POLICY IF EXISTS … ON … or create it in a DO block that checks "
                                      "pg_policies"))
    if kind in ("CompositeTypeStmt", "CreateEnumStmt", "CreateDomainStmt"):
        findings.append(Finding(name, f"{where}: has no IF NOT EXISTS form; wrap it in a DO block that checks "
                                      "the catalog"))
    if kind == "DropStmt" and not getattr(node, "missing_ok", False):
        findings.append(Finding(name, f"{where}: DROP without IF EXISTS"))
    if kind == "TruncateStmt":
        findings.append(Finding(name, f"{where}: TRUNCATE destroys data"))
    if kind == "DeleteStmt" and getattr(node, "whereClause", None) is None:
        findings.append(Finding(name, f"{where}: DELETE without WHERE destroys data"))
    if kind == "AlterTableStmt":
        for cmd in getattr(node, "cmds", None) or ():
            sub = getattr(cmd, "subtype", None)
            sub_name = getattr(sub, "name", str(sub))
            if sub_name in ("AT_DropColumn", "AT_DropConstraint") and not getattr(cmd, "missing_ok", False):
                findings.append(Finding(name, f"{where}: ALTER TABLE … DROP without IF EXISTS"))
    return findings


def static_check(files: Optional[list[tuple[str, str]]] = None,
                 applied: Optional[dict[int, str]] = None) -> tuple[list[Finding], int]:
    """Check the files without a database; returns (findings, statements checked)."""
    import pglast
    import sqlglot
    from sqlglot import exp

    logging.getLogger("sqlglot").setLevel(logging.ERROR)
    files = migration_files() if files is None else files
    findings = _numbering(files)
    statements = 0
    for name, text in files:
        try:
            parsed = pglast.parser.parse_sql(text)
        except pglast.parser.ParseError as exc:
            findings.append(Finding(name, f"PostgreSQL's grammar rejects it: {exc}"))
            continue
        for index, raw in enumerate(parsed, start=1):
            statements += 1
            start = raw.stmt_location or 0  # pglast reports character offsets
            length = raw.stmt_len or (len(text) - start)
            sql = text[start:start + length]
            try:
                tree = sqlglot.parse_one(sql, read="postgres")
                if isinstance(tree, exp.Command):
                    findings.append(Finding(name, f"statement {index} ({_first_words(sql)}): sqlglot falls back to "
                                                  "a generic command; checked with PostgreSQL's grammar (pglast)",
                                            "warning"))
            except sqlglot.errors.SqlglotError as exc:
                findings.append(Finding(name, f"statement {index} ({_first_words(sql)}): sqlglot cannot parse it "
                                              f"({str(exc).splitlines()[0]}); PostgreSQL's grammar accepts it",
                                        "warning"))
            findings.extend(_guard_findings(name, index, raw.stmt, sql, text[:start]))
    if applied:
        by_version = {int(MIGRATION_FILE.match(n).group(1)): (n, t) for n, t in files if MIGRATION_FILE.match(n)}
        for version, checksum in sorted(applied.items()):
            if version not in by_version:
                findings.append(Finding("", f"migration {version:03d} is applied but its file is missing"))
            elif hashlib.sha256(by_version[version][1].encode()).hexdigest() != checksum:
                findings.append(Finding(by_version[version][0], "changed after it was applied (checksum differs)"))
    return findings, statements


# The statements of engine/sql/catalog.sql, in snapshot order.
CATALOG = ("columns", "constraints", "indexes", "triggers", "functions", "policies", "rls", "privileges",
           "sequences", "views")


def catalog_snapshot(conn: psycopg.Connection) -> list[str]:
    lines = []
    for name in CATALOG:
        for row in conn.execute(query(f"catalog.{name}")).fetchall():
            lines.append(f"{name}: " + " | ".join("" if v is None else str(v) for v in row))
    return lines


def _scratch_statement(name: str, database: str) -> sql.Composed:
    return sql.SQL(query(f"catalog.{name}")).format(name=sql.Identifier(database))


def _scratch_url(server_url: str, name: str) -> str:
    info = psycopg.conninfo.conninfo_to_dict(server_url)
    info["dbname"] = name
    return psycopg.conninfo.make_conninfo(**info)


def dynamic_check(server_url: str, files: Optional[list[tuple[str, str]]] = None) -> list[Finding]:
    """Apply the migrations twice to a scratch database and compare catalogs."""
    files = migration_files() if files is None else files
    name = f"msp_check_{uuid.uuid4().hex[:12]}"
    findings: list[Finding] = []
    with psycopg.connect(server_url, autocommit=True) as admin:
        admin.execute(_scratch_statement("create_database", name))
    try:
        with psycopg.connect(_scratch_url(server_url, name), autocommit=True) as conn:
            for run in (1, 2):
                for filename, text in files:
                    try:
                        with conn.transaction():
                            conn.execute(text)
                    except psycopg.Error as exc:
                        message = (exc.diag.message_primary or str(exc)).splitlines()[0]
                        findings.append(Finding(filename, f"fails on {'first' if run == 1 else 'second'} run: "
                                                          f"{message}"))
                if run == 1:
                    first = catalog_snapshot(conn)
            second = catalog_snapshot(conn)
            if not findings and first != second:
                only_first = [line for line in first if line not in second][:3]
                only_second = [line for line in second if line not in first][:3]
                findings.append(Finding("", "catalog differs after a second run: "
                                            f"before {only_first} after {only_second}"))
            for line in second:
                if line.startswith("indexes: ") and line.endswith("| False"):
                    findings.append(Finding("", f"invalid index: {line.split('|')[0][9:].strip()}"))
    finally:
        with psycopg.connect(server_url, autocommit=True) as admin:
            admin.execute(_scratch_statement("drop_database", name))
    return findings


def run_check(database_url: str) -> CheckReport:
    """Static checks (with the applied checksums of ``database_url``) and the dynamic check on its server."""
    from .migrations import applied_versions

    with psycopg.connect(database_url, autocommit=True) as conn:
        applied = applied_versions(conn)
    files = migration_files()
    findings, statements = static_check(files, applied)
    if not any(f.severity == "error" for f in findings):
        findings.extend(dynamic_check(database_url, files))
    return CheckReport(findings, len(files), statements)
