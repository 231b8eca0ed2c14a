"""``msp migrate --check``: prove the migrations are well-formed and idempotent (docs/ARCHITECTURE.md#migrations).

Static: file names numbered 001… without gaps or duplicates; every statement
parses with sqlglot (postgres dialect) *and* with PostgreSQL's own grammar
(pglast) — a statement sqlglot only swallows as a generic command (DO blocks,
trigger functions, policies, …) is reported, never counted as a pass, and
pglast has the final word on syntax; every CREATE is guarded (IF NOT EXISTS
or OR REPLACE); no unguarded destructive statement (DROP without IF EXISTS,
TRUNCATE, DELETE without WHERE, ALTER … DROP without IF EXISTS); CONCURRENTLY
only in a file marked ``-- msp: no-transaction`` (the others run in one
transaction); applied files' checksums unchanged.

Lock safety: squawk lints every file for the target's PostgreSQL version
(engine/migration_lint.py).  Every finding is ``FILE:LINE: rule: message``.

Dynamic: on a scratch database of the same server, apply everything, snapshot
the catalog with queries (not pg_dump, whose \\restrict key is random), run
every file again, snapshot again, and require identical catalogs and valid
indexes.  Sequence positions are ignored (ON CONFLICT advances them).
"""

from __future__ import annotations

import logging
import re
import uuid
from typing import Literal, Optional

import psycopg
from psycopg import sql
from pydantic import BaseModel

from .errors import DatabaseError
from .migration_files import MIGRATION_FILE, checksum, migration_files, parse_migration
from .migrations import execute_statements
from .sql import query

GUARDED_CREATES = {
    # pglast node → attribute that must be true
    "CreateStmt": "if_not_exists", "IndexStmt": "if_not_exists", "CreateSchemaStmt": "if_not_exists",
    "CreateSeqStmt": "if_not_exists", "CreateTableAsStmt": "if_not_exists", "CreateExtensionStmt": "if_not_exists",
    "CreateFunctionStmt": "replace", "CreateTrigStmt": "replace", "ViewStmt": "replace",
}


class Finding(BaseModel, frozen=True):
    """One finding: ``FILE:LINE: rule: message`` (line 1-based; 0 when it concerns no line)."""

    file: str
    line: int = 0
    rule: str
    severity: Literal["error", "warning"] = "error"
    message: str

    @property
    def location(self) -> str:
        name = self.file or "migrations"
        return f"{name}:{self.line}" if self.line else name


class CheckReport(BaseModel):
    """What ``msp migrate --check`` found; ``model_dump(mode="json")`` is its ``--format json``."""

    ok: bool
    files: int
    statements: int
    pg_version: str
    squawk: bool  # whether the squawk lint ran
    dynamic: bool  # whether the double run on a scratch database ran
    findings: list[Finding]


def _first_words(sql: str, n: int = 6) -> str:
    words = re.sub(r"--[^\n]*", " ", sql).split()
    return " ".join(words[:n])


def _numbering(files: list[tuple[str, str]]) -> list[Finding]:
    findings, seen = [], {}
    for name, _ in files:
        match = MIGRATION_FILE.match(name)
        if not match:
            findings.append(Finding(file=name, rule="msp-numbering",
                                    message="file name must be NNN_snake_case_name.sql"))
            continue
        number = int(match.group(1))
        if number in seen:
            findings.append(Finding(file=name, rule="msp-numbering",
                                    message=f"duplicate migration number {number:03d} (also {seen[number]})"))
        seen.setdefault(number, name)
    expected = 1
    for number in sorted(seen):
        if number != expected:
            findings.append(Finding(file=seen[number], rule="msp-numbering",
                                    message=f"numbering gap: expected {expected:03d}, found {number:03d}"))
        expected = number + 1
    return findings


def _policy_dropped_first(node, earlier: str) -> bool:
    """CREATE POLICY has no IF NOT EXISTS: it is idempotent only after a
    ``DROP POLICY IF EXISTS`` of the same policy on the same table in the same file."""
    policy = re.escape(node.policy_name)
    table = re.escape(node.table.relname)
    return re.search(rf'\bDROP\s+POLICY\s+IF\s+EXISTS\s+"?{policy}"?\s+ON\s+(?:"?\w+"?\.)?"?{table}"?',
                     earlier, re.I) is not None


def _guard_findings(name: str, index: int, line: int, node, text: str, earlier: str = "",
                    transactional: bool = True) -> list[Finding]:
    kind = type(node).__name__
    where = f"statement {index} ({_first_words(text)})"
    findings = []

    def add(rule: str, message: str) -> None:
        findings.append(Finding(file=name, line=line, rule=rule, message=f"{where}: {message}"))

    if kind in GUARDED_CREATES and not getattr(node, GUARDED_CREATES[kind], False):
        add("msp-unguarded-create", "CREATE without IF NOT EXISTS / OR REPLACE is not idempotent")
    concurrent = getattr(node, "concurrent", False) or any(
        getattr(p, "defname", "") == "concurrently" for p in getattr(node, "params", None) or ())
    if concurrent and transactional:
        command = {"IndexStmt": "CREATE INDEX", "DropStmt": "DROP INDEX", "ReindexStmt": "REINDEX",
                   "RefreshMatViewStmt": "REFRESH MATERIALIZED VIEW"}.get(kind, kind)
        add("msp-concurrently-in-transaction", f"{command} CONCURRENTLY cannot run inside the migration "
            "transaction: mark the file with the comment -- msp: no-transaction")
    if kind == "CreatePolicyStmt" and not _policy_dropped_first(node, earlier):
        add("msp-unguarded-create", "CREATE POLICY has no IF NOT EXISTS form; precede it with DROP POLICY IF "
            "EXISTS … ON … or create it in a DO block that checks pg_policies")
    if kind in ("CompositeTypeStmt", "CreateEnumStmt", "CreateDomainStmt"):
        add("msp-unguarded-create", "has no IF NOT EXISTS form; wrap it in a DO block that checks the catalog")
    if kind == "DropStmt" and not getattr(node, "missing_ok", False):
        add("msp-destructive", "DROP without IF EXISTS")
    if kind == "TruncateStmt":
        add("msp-destructive", "TRUNCATE destroys data")
    if kind == "DeleteStmt" and getattr(node, "whereClause", None) is None:
        add("msp-destructive", "DELETE without WHERE destroys data")
    if kind == "AlterTableStmt":
        for cmd in getattr(node, "cmds", None) or ():
            sub = getattr(cmd, "subtype", None)
            sub_name = getattr(sub, "name", str(sub))
            if sub_name in ("AT_DropColumn", "AT_DropConstraint") and not getattr(cmd, "missing_ok", False):
                add("msp-destructive", "ALTER TABLE … DROP without IF EXISTS")
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
            pglast.parser.parse_sql(text)
        except pglast.parser.ParseError as exc:
            line = text.count("\n", 0, exc.location) + 1 if getattr(exc, "location", None) else 0
            findings.append(Finding(file=name, line=line, rule="msp-syntax",
                                    message=f"PostgreSQL's grammar rejects it: {exc}"))
            continue
        migration = parse_migration(name, text) or parse_migration("000_unnumbered.sql", text)
        for index, statement in enumerate(migration.statements, start=1):
            statements += 1
            sql, line = statement.sql, statement.line
            try:
                tree = sqlglot.parse_one(sql, read="postgres")
                if isinstance(tree, exp.Command):
                    findings.append(Finding(file=name, line=line, rule="msp-sqlglot-fallback", severity="warning",
                                            message=f"statement {index} ({_first_words(sql)}): sqlglot falls back "
                                                    "to a generic command; checked with PostgreSQL's grammar "
                                                    "(pglast)"))
            except sqlglot.errors.SqlglotError as exc:
                findings.append(Finding(file=name, line=line, rule="msp-sqlglot-fallback", severity="warning",
                                        message=f"statement {index} ({_first_words(sql)}): sqlglot cannot parse "
                                                f"it ({str(exc).splitlines()[0]}); PostgreSQL's grammar accepts it"))
            offset = text.find(sql)
            findings.extend(_guard_findings(name, index, line, statement.node, sql,
                                            text[:offset if offset >= 0 else 0], migration.transactional))
    if applied:
        by_version = {int(MIGRATION_FILE.match(n).group(1)): (n, t) for n, t in files if MIGRATION_FILE.match(n)}
        for version, recorded in sorted(applied.items()):
            if version not in by_version:
                findings.append(Finding(file=f"{version:03d}", rule="msp-missing",
                                        message=f"migration {version:03d} is applied but its file is missing"))
            elif checksum(by_version[version][1]) != recorded:
                findings.append(Finding(file=by_version[version][0], rule="msp-checksum",
                                        message="changed after it was applied (checksum differs)"))
    return findings, statements


def lint_check(files: list[tuple[str, str]], pg_version: str) -> list[Finding]:
    """squawk's findings for the files, as errors (see engine/migration_lint.py)."""
    from .migration_lint import SquawkMissing, lint

    transactional = {}
    for name, text in files:
        migration = parse_migration(name, text)
        transactional[name] = migration.transactional if migration else True
    try:
        found = lint(files, pg_version, transactional)
    except SquawkMissing as exc:
        return [Finding(file="", rule="msp-squawk", message=str(exc))]
    return [Finding(file=f.file, line=f.line, rule=f.rule, message=f.message) for f in found]


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
                    migration = parse_migration(filename, text) or parse_migration("000_unnumbered.sql", text)
                    try:
                        if migration.transactional:
                            with conn.transaction():
                                execute_statements(conn, migration)
                        else:
                            execute_statements(conn, migration)
                    except (psycopg.Error, DatabaseError) as exc:
                        message = exc.message if isinstance(exc, DatabaseError) else \
                            (exc.diag.message_primary or str(exc))
                        findings.append(Finding(file=filename, rule="msp-idempotent",
                                                message=f"fails on {'first' if run == 1 else 'second'} run: "
                                                        f"{message.splitlines()[0]}"))
                if run == 1:
                    first = catalog_snapshot(conn)
            second = catalog_snapshot(conn)
            if not findings and first != second:
                only_first = [line for line in first if line not in second][:3]
                only_second = [line for line in second if line not in first][:3]
                findings.append(Finding(file="", rule="msp-idempotent", message="catalog differs after a second "
                                        f"run: before {only_first} after {only_second}"))
            for line in second:
                if line.startswith("indexes: ") and line.endswith("| False"):
                    findings.append(Finding(file="", rule="msp-invalid-index",
                                            message=f"invalid index: {line.split('|')[0][9:].strip()}"))
    finally:
        with psycopg.connect(server_url, autocommit=True) as admin:
            admin.execute(_scratch_statement("drop_database", name))
    return findings


def run_check(database_url: Optional[str], folder=None) -> CheckReport:
    """Static checks (with the applied checksums of ``database_url``), squawk's lint for the
    server's PostgreSQL version, and the dynamic check on that server.  Without a
    database (``None``): the static checks and the lint for the oldest supported version."""
    from .migration_lint import pg_version_of
    from .migrations import applied_versions

    applied, version_num = {}, None
    if database_url is not None:
        with psycopg.connect(database_url, autocommit=True) as conn:
            applied = applied_versions(conn)
            version_num = int(conn.execute("SHOW server_version_num").fetchone()[0])
    files = migration_files(folder)
    pg_version = pg_version_of(version_num)
    findings, statements = static_check(files, applied)
    findings.extend(lint_check(files, pg_version))
    errors = any(f.severity == "error" for f in findings)
    if database_url is not None and not errors:
        findings.extend(dynamic_check(database_url, files))
    findings.sort(key=lambda f: (f.file, f.line, f.rule))
    ok = not any(f.severity == "error" for f in findings)
    return CheckReport(ok=ok, files=len(files), statements=statements, pg_version=pg_version, squawk=True,
                       dynamic=database_url is not None and not errors, findings=findings)
