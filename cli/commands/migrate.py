"""``msp migrate [--check | --status | --dry-run]`` — apply migrations, prove them, or say where a database stands (DESIGN §7)."""

from __future__ import annotations

import sys

import click

from ..context import pass_app
from ..params import FiniteNumber


@click.command("migrate")
@click.option("--check", is_flag=True, help="Static checks, squawk's lock-safety lint and a double run on a "
                                            "scratch database (for CI); exit 1 on any error.")
@click.option("--offline", is_flag=True, help="With --check: no database (static checks and lint for "
                                              "PostgreSQL 15), for a pre-commit hook.")
@click.option("--status", is_flag=True, help="Each migration: applied (when), pending, changed or missing; "
                                             "exit 1 unless in sync.  Applies nothing.")
@click.option("--dry-run", is_flag=True, help="What would be applied, statement by statement, with the lock each "
                                              "takes on which table.  Applies nothing.")
@click.option("--lock-timeout", type=FiniteNumber(0.001, 86_400), default=5.0, show_default=True, metavar="SECONDS",
              help="Longest wait for a lock before rolling back and retrying.")
@click.option("--statement-timeout", type=FiniteNumber(0, 86_400), default=300.0, show_default=True,
              metavar="SECONDS", help="Longest run of one statement (0: none).")
@click.option("--retries", type=click.IntRange(min=0), default=3, show_default=True,
              help="Retries (backoff 1 s, 2 s, 4 s…) after a lock not granted in time; then exit 3.")
@pass_app
def command(app, check, offline, status, dry_run, lock_timeout, statement_timeout, retries):
    """Apply pending migrations (under an advisory lock, with lock and statement
    timeouts), or --check them, or show their --status or a --dry-run.

    \b
    Example:
      msp migrate
      msp migrate --check
      msp migrate --status --format json
      msp migrate --dry-run
    """
    if sum((check, status, dry_run)) > 1:
        raise click.UsageError("choose one of --check, --status, --dry-run")
    if offline and not check:
        raise click.UsageError("--offline goes with --check")
    ws = app.workspace
    if not (check and offline):
        # opened without the migrate-on-first-use (these apply nothing, or apply under their own
        # timeouts); its URL names the database in error messages (the embedded server's too)
        ws.database(migrate=False)
    if check:
        _render_check(app.format, ws.migrate_check(offline=offline))
    elif status:
        _render_status(app.format, ws.migrate_status())
    elif dry_run:
        _render_dry_run(app.format, ws.migrate_dry_run())
    else:
        _render_migrate(app.format, ws.migrate(lock_timeout=lock_timeout, statement_timeout=statement_timeout,
                                               retries=retries))


def _render_migrate(fmt, result) -> None:
    from ..render import emit_result

    text = "\n".join([f"applied {name}" for name in result.applied] + [f"migration level {result.level}"]) \
        if result.applied else f"up to date (migration level {result.level})"
    emit_result(fmt, result, text)


def _render_check(fmt, report) -> None:
    from ..render import emit_csv, emit_model

    if fmt == "json":
        emit_model(report)
    elif fmt == "csv":
        emit_csv(["file", "line", "rule", "severity", "message"],
                 ([f.file, f.line, f.rule, f.severity, f.message] for f in report.findings))
    else:
        for f in report.findings:
            click.echo(f"{f.location}: {f.rule}: {f.message} [{f.severity}]", err=f.severity == "error")
        errors = sum(f.severity == "error" for f in report.findings)
        verdict = "OK" if report.ok else f"FAILED ({errors} error{'s' if errors != 1 else ''})"
        ran = f"squawk for PostgreSQL {report.pg_version}" + \
            ("; double run on a scratch database" if report.dynamic else "")
        click.echo(f"migrations check: {verdict} ({report.files} files, {report.statements} statements; {ran})")
    sys.exit(0 if report.ok else 1)


def _render_status(fmt, status) -> None:
    from ..render import emit_model, render_rows

    if fmt == "json":
        emit_model(status)
    else:
        rows = [m.model_dump() for m in status.migrations]
        render_rows(fmt, f"Migrations of {status.database}", ["version", "file", "state", "applied_at"], rows,
                    empty="No migration files and nothing applied.")
        if fmt == "table":
            counts = [f"{n} {state}" for state, n in (("pending", status.pending), ("changed", status.changed),
                                                      ("missing", status.missing)) if n]
            click.echo(f"migration level {status.level}: " + ("in sync" if status.in_sync else ", ".join(counts)))
    sys.exit(0 if status.in_sync else 1)


def _render_dry_run(fmt, plan) -> None:
    from ..render import emit_model, safe_text

    if fmt == "json":
        emit_model(plan)
        return
    if not plan.statements:
        click.echo(f"nothing to apply (migration level {plan.level})")
        return
    for s in plan.statements:
        where = "in the transaction" if s.in_transaction else "outside a transaction"
        click.echo(f"{s.file}:{s.line} ({where})")
        text = safe_text(" ".join(s.statement.split()))
        click.echo("  " + (text if len(text) <= 160 else text[:159] + "…"))
        for lock in s.locks or ():
            target = f"{lock.mode} on {lock.table}" if lock.mode and lock.table else \
                (lock.mode or (f"none on {lock.table}" if lock.table else "unknown"))
            note = f" ({lock.note})" if lock.note and lock.note != "new table" else ""
            blocks = "a new table: blocks nothing" if lock.note == "new table" else f"blocks {lock.blocks}"
            click.echo(f"  lock: {target} — {blocks}{note}")
        if not s.locks:
            click.echo("  lock: none on a table")
    click.echo(f"{len(plan.files)} file{'s' if len(plan.files) != 1 else ''} to apply "
               f"({', '.join(plan.files)}); nothing applied")
