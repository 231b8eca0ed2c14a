"""``msp migrate [--check]`` — apply migrations, or prove they are sound (DESIGN §7)."""

from __future__ import annotations

import sys

import click

from ..context import pass_app


@click.command("migrate")
@click.option("--check", is_flag=True, help="Static and dynamic checks of the migration files (for CI).")
@pass_app
def command(app, check):
    """Apply pending migrations (under an advisory lock), or --check them:
    numbering, parsing, guards, checksums, and a double run on a scratch database.

    \b
    Example:
      msp migrate
      msp migrate --check
    """
    from msp.engine.migrations import current_level, migrate

    from ..render import emit_csv, emit_json, emit_result

    db = app.database(migrate=False)
    if not check:
        applied = migrate(db.conn)
        level = current_level(db.conn)
        text = "\n".join([f"applied {m.filename}" for m in applied] + [f"migration level {level}"]) if applied \
            else f"up to date (migration level {level})"
        emit_result(app.format, {"applied": [m.filename for m in applied], "level": level}, text)
        return
    from msp.engine.migration_check import run_check

    report = run_check(db.url)
    if app.format == "json":
        emit_json(report.as_dict())
    elif app.format == "csv":
        emit_csv(["file", "severity", "message"], ([f.file, f.severity, f.message] for f in report.findings))
    else:
        for f in report.findings:
            click.echo(f"{f.file or 'migrations'}: {f.severity}: {f.message}", err=f.severity == "error")
        errors = sum(f.severity == "error" for f in report.findings)
        verdict = "OK" if report.ok else f"FAILED ({errors} error{'s' if errors != 1 else ''})"
        click.echo(f"migrations check: {verdict} ({report.files_checked} files, "
                   f"{report.statements_checked} statements)")
    sys.exit(0 if report.ok else 1)
