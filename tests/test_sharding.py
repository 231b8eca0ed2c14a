"""The path past one machine (issue 16 item 4, docs/SCALING.md): the preconditions
for sharding msp by workspace (Citus), proved statically.

Every statement of engine/sql/ and migrations/ is parsed — by sqlglot, and
where sqlglot only swallows a statement as a generic command (function bodies,
DO blocks), by PostgreSQL's own grammar (pglast), whose PL/pgSQL parser hands
back the SQL inside.  Each statement that touches a workspace table must pin
every reference to it to one workspace: a top-level conjunct
``<ref>.workspace = <value>`` (a parameter, a literal, current_setting(...)),
or ``<ref>.workspace = <other>.workspace`` / ``USING (workspace)`` with a
reference that is itself pinned (a join or a correlation within one workspace:
co-located on one shard); an INSERT or COPY into one names its workspace
column.  The few statements that are deliberately cross-workspace are listed
in CROSS_WORKSPACE with their reason, and the test asserts the flagged set is
exactly that list: a statement that loses its filter fails, and so does a
listed one that is no longer flagged.  Every primary and unique key of a
workspace table starts with ``workspace`` (the property the row-level wall
relies on, and Citus's rule that a distributed table's unique keys include its
distribution column).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlglot
from pglast import parse_plpgsql
from pglast import ast as pg
from pglast import enums
from pglast.parser import parse_sql
from sqlglot import exp

from msp.engine.migration_files import load_migrations
from msp.engine.sql import _file, query

logging.getLogger("sqlglot").setLevel(logging.ERROR)

ROOT = Path(__file__).resolve().parent.parent
SQL = ROOT / "engine" / "sql"

WORKSPACE_TABLES = {
    "workflow_events", "rejected_lines", "automation_checkpoints", "positions", "closed_trades", "alerts",
    "journal_entries", "coach_analyses", "coach_tasks", "journal_enrichments", "operator_state", "workspaces",
    "workflow_stages", "pending_task_counts", "ingest_checkpoints", "automation_failures", "archives",
    "archived_events",
}

# Named statements that are fragments of others (filled into a {slot}), not statements.
FRAGMENTS = {"runner.in_batch"}
# What each {slot} stands for when a statement is checked on its own: the
# fragments are checked as statements of their own (or, for in_batch, as the
# filter they are).
SLOTS = {"in_batch": query("runner.in_batch"), "events": "SELECT NULL::jsonb, NULL::bigint",
         "candidates": "SELECT NULL", "plans": "SELECT NULL", "analyses": "SELECT NULL",
         "recommendations": "SELECT NULL", "all_closes": "SELECT NULL", "trade_facts": "SELECT NULL",
         "name": "msp_scratch", "table": "workflow_events"}

# The deliberately cross-workspace statements, and why each may be.
CROSS_WORKSPACE = {
    "engine/sql/runner.sql workspaces": "the registry's every workspace, for a replay of all of them",
    "engine/sql/runner.sql pending_workspaces": "the registry's pending workspaces, for `--all-workspaces`: "
                                                "one multi-shard read a minute (docs/SCALING.md)",
    "008_row_level_security.sql:45": "migration backfill of the registry from every workspace's events, once",
    "011_pending_task_counts.sql:14": "the TRUNCATE trigger empties the counts with coach_tasks (a TRUNCATE "
                                      "is table-wide by nature)",
    "011_pending_task_counts.sql:56": "migration backfill of every workspace's pending count, once",
    "017_desk_scale.sql:42": "migration backfill of every workspace's head and swept seqs, once",
    "019_review_facts.sql:38": "migration backfill: the closes archived before it are marked as having "
                                   "their (no) facts, once",
    "018_archive.sql:70": "the archived-id trigger over its transition table (the inserting statement's rows: "
                          "one workspace per writer transaction)",
}

# PL/pgSQL that runs SQL built at run time (EXECUTE), which no parser can check:
# where it is and what it runs.
DYNAMIC = {
    "008_row_level_security.sql:26": "GRANT msp_app to the migrating role (no table data)",
    "008_row_level_security.sql:66": "the wall: ENABLE ROW LEVEL SECURITY, CREATE POLICY, GRANT per table",
    "010_workflow_stages.sql:66": "the stages trigger: msp_workflow_stages_merge_sql over its transition table "
                                  "(the inserting statement's rows: one workspace per writer transaction)",
    "010_workflow_stages.sql:81": "the stages backfill, msp_workflow_stages_merge_sql over workflow_events, once",
    "010_workflow_stages.sql:89": "msp_wall_off: the wall's DDL for a later table",
    "017_desk_scale.sql:68": "GRANT UPDATE (head_seq, swept_seq) ON workspaces (no table data)",
    "018_archive.sql:36": "GRANT DELETE to msp_app on the tables msp archive empties (no table data)",
}


@dataclass(frozen=True)
class Source:
    label: str  # "engine/sql/file.sql name" or "NNN_file.sql:LINE"
    sql: str


def engine_statements() -> list[Source]:
    out = []
    for path in sorted(SQL.glob("*.sql")):
        for name, text in _file(path.stem).items():
            if f"{path.stem}.{name}" in FRAGMENTS:
                continue
            for slot, fragment in SLOTS.items():
                text = text.replace("{" + slot + "}", fragment)
            out.append(Source(f"engine/sql/{path.name} {name}", text))
    return out


def migration_statements() -> list[Source]:
    return [Source(f"{m.filename}:{s.line}", s.sql) for m in load_migrations() for s in m.statements]


# -- from a statement to the SQL it runs ------------------------------------------------------

def _server_text(sql: str) -> str:
    """psycopg's placeholders as the server's (``%(x)s`` -> ``$1``), ``%%`` as ``%``."""
    return re.sub(r"%\((\w+)\)[sb]", "$1", sql).replace("%%", "%")


class Visitor:
    @staticmethod
    def nodes(node):
        """Every node of a pglast tree."""
        from pglast.visitors import Visitor as _Visitor

        found = []

        class Collect(_Visitor):
            def visit(self, ancestors, n):
                found.append(n)

        Collect()(node)
        return found


def _plpgsql_queries(node) -> list[str]:
    """The SQL of a PL/pgSQL function: its SQL statements as they are, its
    expressions (IF conditions, assignments) as SELECTs."""
    found = []
    if isinstance(node, dict):
        if "PLpgSQL_stmt_execsql" in node:
            found.append(node["PLpgSQL_stmt_execsql"]["sqlstmt"]["PLpgSQL_expr"]["query"])
            return found
        if "PLpgSQL_expr" in node:
            found.append(_as_statement(node["PLpgSQL_expr"]["query"]))
        for value in node.values():
            found.extend(_plpgsql_queries(value))
    elif isinstance(node, list):
        for value in node:
            found.extend(_plpgsql_queries(value))
    return found


def _do_block_as_function(stmt) -> str:
    """A DO block's body as a function definition, which the PL/pgSQL parser reads."""
    body = next(a.arg.sval for a in stmt.args if a.defname == "as")
    return f"CREATE FUNCTION msp_do() RETURNS void LANGUAGE plpgsql AS $msp_do${body}$msp_do$"


def dynamic_sql(sources: list[Source]) -> set[str]:
    """Labels of the function bodies and DO blocks that EXECUTE SQL built at run time."""
    found = set()
    for source in sources:
        try:
            (raw,) = parse_sql(_server_text(source.sql))
        except Exception:
            continue
        if isinstance(raw.stmt, pg.DoStmt):
            tree = parse_plpgsql(_do_block_as_function(raw.stmt))
        elif isinstance(raw.stmt, pg.CreateFunctionStmt) and \
                {o.defname: o.arg for o in raw.stmt.options}["language"].sval == "plpgsql":
            tree = parse_plpgsql(_server_text(source.sql))
        else:
            continue
        if "PLpgSQL_stmt_dynexecute" in repr(tree):
            found.add(source.label)
    return found


def _as_statement(text: str) -> str:
    """A PL/pgSQL expression (an IF condition, a PERFORM's select list) as a statement."""
    head = text.lstrip().split(None, 1)[0].upper() if text.strip() else ""
    return text if head in ("SELECT", "WITH", "INSERT", "UPDATE", "DELETE") else f"SELECT {text}"


def expand(source: Source) -> list[tuple[str, object]]:
    """(sql, sqlglot tree) of every DML statement ``source`` runs: itself, or what a
    function body or DO block holds (sqlglot sees those only as generic commands;
    PostgreSQL's grammar, through pglast, opens them)."""
    try:
        tree = sqlglot.parse_one(_server_text(source.sql), read="postgres")
    except sqlglot.errors.SqlglotError:
        tree = None
    if tree is not None and not isinstance(tree, exp.Command):
        return [(source.sql, tree)] if isinstance(tree, (exp.Query, exp.Insert, exp.Update, exp.Delete, exp.Copy)) \
            else []
    (raw,) = parse_sql(_server_text(source.sql))
    node = raw.stmt
    if isinstance(node, (pg.SelectStmt, pg.InsertStmt, pg.UpdateStmt, pg.DeleteStmt, pg.CopyStmt)):
        touched = {n.relname for n in Visitor.nodes(node) if isinstance(n, pg.RangeVar)}
        assert not touched & WORKSPACE_TABLES, \
            f"{source.label}: sqlglot cannot parse this statement, so nothing checks it: {source.sql[:80]}"
        return []  # a catalog query (pg_class, …): no workspace table in it
    bodies = []
    if isinstance(node, pg.CreateFunctionStmt):
        options = {o.defname: o.arg for o in node.options}
        language = options["language"].sval
        body = options["as"][0].sval
        if language == "sql":
            bodies = [s.strip() for s in body.split(";") if s.strip()]
        elif language == "plpgsql":
            bodies = _plpgsql_queries(parse_plpgsql(_server_text(source.sql)))
    elif isinstance(node, pg.DoStmt):
        body = next(a.arg.sval for a in node.args if a.defname == "as")
        wrapped = f"CREATE FUNCTION msp_do() RETURNS void LANGUAGE plpgsql AS $msp_do${body}$msp_do$"
        bodies = _plpgsql_queries(parse_plpgsql(wrapped))
    out = []
    for body in bodies:
        out.extend(expand(Source(source.label, body)))
    return out


# -- the workspace check ----------------------------------------------------------------------

def _conjuncts(condition) -> list:
    if condition is None:
        return []
    if isinstance(condition, exp.Paren):
        return _conjuncts(condition.this)
    if isinstance(condition, exp.And):
        return _conjuncts(condition.left) + _conjuncts(condition.right)
    return [condition]


def _is_workspace_column(node) -> bool:
    return isinstance(node, exp.Column) and node.name == "workspace"


def _scope_of(table: exp.Table):
    """The SELECT/UPDATE/DELETE whose FROM, JOIN, USING or target the table is."""
    node = table.parent
    while node is not None and not isinstance(node, (exp.Select, exp.Update, exp.Delete, exp.Insert, exp.Copy)):
        node = node.parent
    return node


def _scope_conditions(scope) -> list:
    conditions = _conjuncts(scope.args.get("where").this if scope.args.get("where") else None)
    for join in scope.args.get("joins") or ():
        conditions += _conjuncts(join.args.get("on"))
    return conditions


def _scope_tables(scope) -> list[exp.Table]:
    return [t for t in scope.find_all(exp.Table) if _scope_of(t) is scope]


def unpinned(tree) -> list[str]:
    """The workspace tables ``tree`` reads or writes without pinning them to one workspace.

    A reference is pinned by a top-level conjunct ``ref.workspace = <not a column>``,
    or by ``ref.workspace = other.workspace`` (or ``USING (workspace)``) with a
    pinned ``other``; a CTE, a subquery or a transition table counts as pinned
    (its own statement is checked where it is defined; a transition table holds
    the rows of the statement that fired the trigger)."""
    ctes = {cte.alias for cte in tree.find_all(exp.CTE)}
    refs, pinned, edges = [], set(), []
    for table in tree.find_all(exp.Table):
        if table.name in WORKSPACE_TABLES and table.name not in ctes and not table.args.get("db"):
            refs.append(table)
    scopes = {id(_scope_of(t)): _scope_of(t) for t in refs}
    for scope in scopes.values():
        if isinstance(scope, (exp.Insert, exp.Copy)):
            continue
        mine = [t.alias_or_name for t in _scope_tables(scope) if t.name in WORKSPACE_TABLES]
        for condition in _scope_conditions(scope):
            if not isinstance(condition, exp.EQ):
                continue
            for left, right in ((condition.left, condition.right), (condition.right, condition.left)):
                if not _is_workspace_column(left):
                    continue
                owners = [left.table] if left.table else mine
                if _is_workspace_column(right):
                    if right.table and right.table != left.table:
                        edges += [(owner, right.table) for owner in owners]
                else:
                    pinned.update(owners)
        for join in scope.args.get("joins") or ():
            if any(getattr(c, "name", None) == "workspace" for c in join.args.get("using") or ()):
                joined = join.this.alias_or_name
                edges += [(joined, other) for other in mine if other != joined]
                edges += [(other, joined) for other in mine if other != joined]
    workspace_aliases = {t.alias_or_name for t in refs}
    changed = True
    while changed:
        changed = False
        for a, b in edges:
            if a not in pinned and (b in pinned or b not in workspace_aliases):
                pinned.add(a)
                changed = True
    problems = []
    for table in refs:
        scope = _scope_of(table)
        if isinstance(scope, (exp.Insert, exp.Copy)) and isinstance(table.parent, exp.Schema):
            if "workspace" not in [c.name for c in table.parent.expressions]:
                problems.append(f"{table.name} (written without its workspace column)")
        elif isinstance(scope, (exp.Insert, exp.Copy)) and scope.this is table:
            problems.append(f"{table.name} (written without its workspace column)")
        elif table.alias_or_name not in pinned:
            problems.append(table.name)
    return problems


def flagged(sources: list[Source]) -> dict[str, list[str]]:
    """label -> the tables each statement leaves unpinned (only statements with some)."""
    out = {}
    for source in sources:
        for _sql, tree in expand(source):
            problems = unpinned(tree)
            if problems:
                out.setdefault(source.label, []).extend(problems)
    return out


# -- the tests --------------------------------------------------------------------------------

def test_every_statement_pins_its_workspace_tables_to_one_workspace():
    sources = engine_statements() + migration_statements()
    assert len(sources) > 150  # every named statement and every migration statement
    found = flagged(sources)
    assert set(found) == set(CROSS_WORKSPACE), found


def test_dynamic_sql_is_only_where_it_is_known():
    assert dynamic_sql(engine_statements() + migration_statements()) == set(DYNAMIC)


def test_the_checker_sees_inside_function_bodies_and_do_blocks():
    """sqlglot leaves these as generic commands; pglast opens them."""
    function = Source("f", "CREATE OR REPLACE FUNCTION f() RETURNS trigger LANGUAGE plpgsql AS $fn$ BEGIN "
                           "UPDATE alerts SET status = 'x' WHERE plan_id = 'p'; RETURN NULL; END $fn$")
    assert isinstance(sqlglot.parse_one(function.sql, read="postgres"), exp.Command)
    assert [unpinned(tree) for _, tree in expand(function)] == [["alerts"], []]  # the UPDATE; RETURN NULL
    do = Source("d", "DO $$ BEGIN IF EXISTS (SELECT 1 FROM coach_tasks WHERE status = 'pending') THEN "
                     "PERFORM 1; END IF; END $$")
    assert [unpinned(tree) for _, tree in expand(do)] == [["coach_tasks"], []]
    pinned = Source("p", "DO $$ BEGIN PERFORM 1 FROM coach_tasks WHERE workspace = 'w'; END $$")
    assert [unpinned(tree) for _, tree in expand(pinned)] == [[]]


def test_a_statement_that_loses_its_workspace_filter_is_flagged():
    """A deliberately broken copy of real statements: the filter removed."""
    real = query("runner.backlog_at_least")
    assert "WHERE workspace = %(workspace)s AND" in real
    broken = real.replace("WHERE workspace = %(workspace)s AND", "WHERE")
    assert flagged([Source("runner.backlog_at_least", real)]) == {}
    assert flagged([Source("broken", broken)]) == {"broken": ["workflow_events"]}

    # a join that keeps one side pinned but loses the other's workspace equality
    conflicting = query("events.conflicting")
    assert "w.workspace = %(workspace)s AND " in conflicting
    assert flagged([Source("broken", conflicting.replace("w.workspace = %(workspace)s AND ", ""))]) == {
        "broken": ["workflow_events"]}

    # an OR does not pin: either side may hold any workspace
    orred = real.replace("WHERE workspace = %(workspace)s AND", "WHERE (workspace = %(workspace)s OR true) AND")
    assert flagged([Source("broken", orred)]) == {"broken": ["workflow_events"]}

    # two tables joined on workspace, neither pinned to one
    joined = "SELECT 1 FROM alerts a JOIN positions p ON p.workspace = a.workspace AND p.plan_id = a.plan_id"
    assert flagged([Source("broken", joined)]) == {"broken": ["alerts", "positions"]}
    assert flagged([Source("fixed", joined + " WHERE a.workspace = %(workspace)s")]) == {}

    # a workspace compared with itself pins nothing
    itself = real.replace("WHERE workspace = %(workspace)s AND", "WHERE workspace = workspace AND")
    assert flagged([Source("broken", itself)]) == {"broken": ["workflow_events"]}

    # an INSERT that leaves out its workspace column
    assert flagged([Source("broken", "INSERT INTO alerts (alert_id) VALUES ('a')")]) == {
        "broken": ["alerts (written without its workspace column)"]}


def _ddl(sources: list[Source]):
    """Every statement's parse node, the statements inside DO blocks included, in order."""
    for source in sources:
        try:
            (raw,) = parse_sql(_server_text(source.sql))
        except Exception:
            continue
        if isinstance(raw.stmt, pg.DoStmt):
            for inner in _plpgsql_queries(parse_plpgsql(_do_block_as_function(raw.stmt))):
                try:
                    yield from (r.stmt for r in parse_sql(inner))
                except Exception:
                    continue
        else:
            yield raw.stmt


KEY_TYPES = (enums.ConstrType.CONSTR_PRIMARY, enums.ConstrType.CONSTR_UNIQUE)


def _keys(sources: list[Source]) -> dict[tuple[str, str], list[str]]:
    """(table, key) -> columns of every primary key and unique key or index the
    migrations leave (following drops and ADD CONSTRAINT … USING INDEX)."""
    keys = {}
    for node in _ddl(sources):
        if isinstance(node, pg.CreateStmt):
            table = node.relation.relname
            for element in node.tableElts or ():
                constraints = []
                if isinstance(element, pg.Constraint):
                    constraints.append((element, None))
                elif isinstance(element, pg.ColumnDef):
                    constraints += [(c, element.colname) for c in element.constraints or ()]
                for constraint, column in constraints:
                    if constraint.contype in KEY_TYPES:
                        names = [k.sval for k in constraint.keys] if constraint.keys else [column]
                        keys[(table, constraint.conname or f"{table}_{column}_key")] = names
        elif isinstance(node, pg.IndexStmt) and node.unique:
            keys[(node.relation.relname, node.idxname)] = [p.name for p in node.indexParams]
        elif isinstance(node, pg.AlterTableStmt):
            table = node.relation.relname
            for cmd in node.cmds or ():
                constraint = cmd.def_
                if cmd.subtype == enums.AlterTableType.AT_DropConstraint:
                    keys.pop((table, cmd.name), None)
                elif isinstance(constraint, pg.Constraint) and constraint.contype in KEY_TYPES:
                    if constraint.indexname:  # the index becomes the constraint, under its name
                        keys[(table, constraint.conname)] = keys.pop((table, constraint.indexname))
                    else:
                        keys[(table, constraint.conname)] = [k.sval for k in constraint.keys]
    return keys


def test_every_primary_and_unique_key_of_a_workspace_table_starts_with_workspace():
    keys = _keys(migration_statements())
    workspace_keys = {k: v for k, v in keys.items() if k[0] in WORKSPACE_TABLES}
    assert {table for table, _ in workspace_keys} == WORKSPACE_TABLES
    assert {k: v for k, v in workspace_keys.items() if v[0] != "workspace"} == {}
    # rejected_lines's first key (reject_id alone, migration 002) is replaced by 017
    assert workspace_keys[("rejected_lines", "rejected_lines_workspace_pkey")] == ["workspace", "reject_id"]
    before_017 = _keys([s for s in migration_statements() if not s.label.startswith("017_")])
    assert {k: v for k, v in before_017.items() if k[0] in WORKSPACE_TABLES and v[0] != "workspace"} == {
        ("rejected_lines", "rejected_lines_pkey"): ["reject_id"]}


def test_the_migrated_database_has_only_workspace_first_keys(conn):
    rows = conn.execute(
        "SELECT c.conrelid::regclass::text, c.conname, a.attname FROM pg_constraint c "
        "JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1] "
        "WHERE c.contype IN ('p', 'u') AND c.connamespace = current_schema()::regnamespace "
        "UNION ALL "
        "SELECT i.indrelid::regclass::text, i.indexrelid::regclass::text, a.attname FROM pg_index i "
        "JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0] "
        "JOIN pg_class t ON t.oid = i.indrelid "
        "WHERE i.indisunique AND t.relnamespace = current_schema()::regnamespace "
        "ORDER BY 1, 2").fetchall()
    tables = {r[0] for r in rows}
    assert WORKSPACE_TABLES <= tables and tables - WORKSPACE_TABLES == {"schema_migrations"}
    assert [r for r in rows if r[0] in WORKSPACE_TABLES and r[2] != "workspace"] == []


def test_the_checker_refuses_what_sqlglot_cannot_parse():
    """A query sqlglot gives up on is never passed over silently."""
    with pytest.raises(AssertionError, match="sqlglot cannot parse"):
        expand(Source("odd", "INSERT INTO alerts OVERRIDING SYSTEM VALUE SELECT * FROM alerts"))
