"""Which lock a migration statement takes on which table, from its parse tree.

The lock levels are PostgreSQL's documented ones (the "Table-level Locks"
section of the manual, and each command's page): derived from the statement
parsed by PostgreSQL's own grammar (pglast), never from running it.  A
statement whose locks depend on code it runs (a DO block, a function call) is
said to be so, not guessed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterator, Optional

# weakest first; what each blocks while held
MODES = ("ACCESS SHARE", "ROW SHARE", "ROW EXCLUSIVE", "SHARE UPDATE EXCLUSIVE", "SHARE",
         "SHARE ROW EXCLUSIVE", "EXCLUSIVE", "ACCESS EXCLUSIVE")
BLOCKS = {
    "ACCESS SHARE": "only ACCESS EXCLUSIVE (reads and writes go on)",
    "ROW SHARE": "EXCLUSIVE and ACCESS EXCLUSIVE (reads and writes go on)",
    "ROW EXCLUSIVE": "index builds and schema changes (reads and writes go on)",
    "SHARE UPDATE EXCLUSIVE": "schema changes, VACUUM and ANALYZE (reads and writes go on)",
    "SHARE": "writes (reads go on)",
    "SHARE ROW EXCLUSIVE": "writes (reads go on)",
    "EXCLUSIVE": "writes (reads go on)",
    "ACCESS EXCLUSIVE": "reads and writes",
}
LOCK_STMT_MODES = {1: "ACCESS SHARE", 2: "ROW SHARE", 3: "ROW EXCLUSIVE", 4: "SHARE UPDATE EXCLUSIVE",
                   5: "SHARE", 6: "SHARE ROW EXCLUSIVE", 7: "EXCLUSIVE", 8: "ACCESS EXCLUSIVE"}

# ALTER TABLE subcommands that take less than ACCESS EXCLUSIVE (every other form takes it)
ALTER_TABLE_MODES = {
    "AT_SetStatistics": "SHARE UPDATE EXCLUSIVE", "AT_SetOptions": "SHARE UPDATE EXCLUSIVE",
    "AT_ResetOptions": "SHARE UPDATE EXCLUSIVE", "AT_ClusterOn": "SHARE UPDATE EXCLUSIVE",
    "AT_DropCluster": "SHARE UPDATE EXCLUSIVE", "AT_SetRelOptions": "SHARE UPDATE EXCLUSIVE",
    "AT_ResetRelOptions": "SHARE UPDATE EXCLUSIVE", "AT_ValidateConstraint": "SHARE UPDATE EXCLUSIVE",
    "AT_AttachPartition": "SHARE UPDATE EXCLUSIVE",
    "AT_EnableTrig": "SHARE ROW EXCLUSIVE", "AT_EnableAlwaysTrig": "SHARE ROW EXCLUSIVE",
    "AT_EnableReplicaTrig": "SHARE ROW EXCLUSIVE", "AT_DisableTrig": "SHARE ROW EXCLUSIVE",
    "AT_EnableTrigAll": "SHARE ROW EXCLUSIVE", "AT_DisableTrigAll": "SHARE ROW EXCLUSIVE",
    "AT_EnableTrigUser": "SHARE ROW EXCLUSIVE", "AT_DisableTrigUser": "SHARE ROW EXCLUSIVE",
}
NO_TABLE_LOCK = ("CreateFunctionStmt", "CreateRoleStmt", "GrantRoleStmt", "CreateSchemaStmt",
                 "CreateExtensionStmt", "VariableSetStmt", "CreateEnumStmt", "CompositeTypeStmt",
                 "CreateDomainStmt", "TransactionStmt")


@dataclass(frozen=True)
class TableLock:
    table: Optional[str]  # None: the statement's locks cannot be read from it
    mode: Optional[str]
    note: str = ""        # "new table", "DO block: …"

    @property
    def blocks(self) -> str:
        if self.mode is None:
            return "nothing" if self.note.startswith("exists already") else "unknown"
        return "nothing (the table is new)" if self.note == "new table" else BLOCKS[self.mode]


def table_name(range_var) -> str:
    parts = [getattr(range_var, "schemaname", None), range_var.relname]
    return ".".join(p for p in parts if p)


def _range_vars(node) -> Iterator:
    """Every RangeVar in a parse tree (the tables a query reads)."""
    from pglast import ast

    if isinstance(node, ast.RangeVar):
        yield node
    elif isinstance(node, ast.Node):
        for attr in type(node).__slots__:
            yield from _range_vars(getattr(node, attr, None))
    elif isinstance(node, (list, tuple)):
        for item in node:
            yield from _range_vars(item)


def _reads(node, skip: str = "") -> list[TableLock]:
    return [TableLock(n, "ACCESS SHARE") for n in dict.fromkeys(table_name(rv) for rv in _range_vars(node)) if n != skip]


def _strongest(modes) -> str:
    return max(modes, key=MODES.index)


def statement_locks(node, index_table: Optional[Callable[[str], Optional[str]]] = None) -> list[TableLock]:
    """The table locks a statement takes, strongest per table first.  ``index_table`` maps
    an index name to its table (from the database) for DROP INDEX / REINDEX INDEX."""
    kind = type(node).__name__
    on_index = (lambda name: index_table(name) or f"(table of index {name})") if index_table \
        else (lambda name: f"(table of index {name})")
    if node is None:
        return [TableLock(None, None, "not parsed")]
    if kind in ("CreateStmt", "CreateSeqStmt"):
        rel = node.relation if kind == "CreateStmt" else node.sequence
        locks = [TableLock(table_name(rel), "ACCESS EXCLUSIVE", "new table")]
        elements = (node.tableElts or ()) if kind == "CreateStmt" else ()
        for element in elements:
            for constraint in [element] + list(getattr(element, "constraints", None) or ()):
                if getattr(constraint, "pktable", None) is not None:
                    locks.append(TableLock(table_name(constraint.pktable), "SHARE ROW EXCLUSIVE"))
        return locks
    if kind == "CreateTableAsStmt":
        return [TableLock(table_name(node.into.rel), "ACCESS EXCLUSIVE", "new table")] + _reads(node.query)
    if kind == "ViewStmt":
        return [TableLock(table_name(node.view), "ACCESS EXCLUSIVE", "" if node.replace else "new table")] + \
            _reads(node.query)
    if kind == "IndexStmt":
        return [TableLock(table_name(node.relation), "SHARE UPDATE EXCLUSIVE" if node.concurrent else "SHARE")]
    if kind == "AlterTableStmt":
        modes, extra = [], []
        for cmd in node.cmds or ():
            sub = getattr(cmd.subtype, "name", str(cmd.subtype))
            mode = ALTER_TABLE_MODES.get(sub, "ACCESS EXCLUSIVE")
            definition = getattr(cmd, "def_", None)
            if sub == "AT_AddConstraint" and getattr(definition, "pktable", None) is not None:
                mode = "SHARE ROW EXCLUSIVE"
                extra.append(TableLock(table_name(definition.pktable), "SHARE ROW EXCLUSIVE"))
            modes.append(mode)
        objtype = getattr(node.objtype, "name", "")
        table = on_index(node.relation.relname) if objtype == "OBJECT_INDEX" else table_name(node.relation)
        return [TableLock(table, _strongest(modes or ["ACCESS EXCLUSIVE"]))] + extra
    if kind == "RenameStmt" and node.relation is not None:
        objtype = getattr(node.renameType, "name", "")
        if objtype == "OBJECT_INDEX":
            return [TableLock(on_index(node.relation.relname), "SHARE UPDATE EXCLUSIVE")]
        return [TableLock(table_name(node.relation), "ACCESS EXCLUSIVE")]
    if kind == "DropStmt":
        objtype = getattr(node.removeType, "name", "")
        names = [".".join(part.sval for part in obj) for obj in node.objects or () if isinstance(obj, (list, tuple))]
        if objtype in ("OBJECT_TABLE", "OBJECT_VIEW", "OBJECT_MATVIEW", "OBJECT_SEQUENCE", "OBJECT_FOREIGN_TABLE"):
            return [TableLock(name, "ACCESS EXCLUSIVE") for name in names]
        if objtype == "OBJECT_INDEX":
            mode = "SHARE UPDATE EXCLUSIVE" if node.concurrent else "ACCESS EXCLUSIVE"
            return [TableLock(on_index(name), mode) for name in names]
        if objtype in ("OBJECT_TRIGGER", "OBJECT_POLICY", "OBJECT_RULE"):
            return [TableLock(name.rsplit(".", 1)[0], "ACCESS EXCLUSIVE") for name in names]
        return []
    if kind == "CreateTrigStmt":
        return [TableLock(table_name(node.relation), "SHARE ROW EXCLUSIVE")]
    if kind in ("CreatePolicyStmt", "AlterPolicyStmt"):
        return [TableLock(table_name(node.table), "ACCESS EXCLUSIVE")]
    if kind == "VacuumStmt":
        full = any(option.defname == "full" for option in node.options or ())
        mode = "ACCESS EXCLUSIVE" if node.is_vacuumcmd and full else "SHARE UPDATE EXCLUSIVE"
        rels = [table_name(r.relation) for r in node.rels or () if r.relation is not None]
        return [TableLock(name, mode) for name in rels] or [TableLock("every table", mode)]
    if kind == "InsertStmt":
        return [TableLock(table_name(node.relation), "ROW EXCLUSIVE")] + _reads(node.selectStmt, table_name(node.relation))
    if kind in ("UpdateStmt", "DeleteStmt", "MergeStmt"):
        target = table_name(node.relation)
        return [TableLock(target, "ROW EXCLUSIVE")] + _reads(
            [getattr(node, a, None) for a in ("fromClause", "usingClause", "whereClause", "sourceRelation")],
            target)
    if kind == "SelectStmt":
        calls = "FuncCall" in repr(node.targetList)
        return _reads(node) + ([TableLock(None, None, "calls a function: the locks it takes are not "
                                                      "visible here")] if calls else [])
    if kind == "TruncateStmt":
        return [TableLock(table_name(r), "ACCESS EXCLUSIVE") for r in node.relations]
    if kind == "ReindexStmt":
        concurrent = any(p.defname == "concurrently" for p in node.params or ())
        mode = "SHARE UPDATE EXCLUSIVE" if concurrent else "SHARE"
        kind_name = getattr(node.kind, "name", "")
        if kind_name == "REINDEX_OBJECT_INDEX":
            return [TableLock(on_index(node.relation.relname), mode)]
        return [TableLock(table_name(node.relation) if node.relation else "every table", mode)]
    if kind == "RefreshMatViewStmt":
        return [TableLock(table_name(node.relation), "EXCLUSIVE" if node.concurrent else "ACCESS EXCLUSIVE")]
    if kind == "ClusterStmt":
        return [TableLock(table_name(node.relation) if node.relation else "every clustered table", "ACCESS EXCLUSIVE")]
    if kind == "LockStmt":
        return [TableLock(table_name(r), LOCK_STMT_MODES.get(int(node.mode), "ACCESS EXCLUSIVE")) for r in node.relations]
    if kind == "CommentStmt" and getattr(node.objtype, "name", "") in ("OBJECT_TABLE", "OBJECT_COLUMN"):
        return [TableLock(None, "SHARE UPDATE EXCLUSIVE", "on the commented table")]
    if kind == "DoStmt":
        return [TableLock(None, None, "DO block: the locks it takes depend on the code it runs")]
    if kind in NO_TABLE_LOCK or kind == "GrantStmt":
        return []
    return [TableLock(None, None, f"{kind}: lock level not known to msp")]
