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
    from ..render import emit_result

    result = app.workspace.migrate(check=check)
    if app.format == "json":
        emit_result(result)
    elif not check:
        if result.applied:
            for filename in result.applied:
                click.echo(f"applied {filename}")
            click.echo(f"migration level {result.level}")
        else:
            click.echo(f"up to date (migration level {result.level})")
    else:
        for f in result.findings:
            click.echo(f"{f.file or 'migrations'}: {f.severity}: {f.message}", err=f.severity == "error")
        errors = sum(f.severity == "error" for f in result.findings)
        verdict = "OK" if result.ok else f"FAILED ({errors} error{'s' if errors != 1 else ''})"
        click.echo(f"migrations check: {verdict} ({result.files} files, {result.statements} statements)")
    if check:
        sys.exit(0 if result.ok else 1)
