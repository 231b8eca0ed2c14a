"""``msp server status|stop`` — msp's own embedded PostgreSQL server (engine/embedded.py)."""

from __future__ import annotations

import click

from ..context import pass_app


@click.group("server")
def command():
    """The embedded PostgreSQL server msp starts when no database URL is set
    (data in MSP_DATA_DIR, else your user data directory).

    \b
    Example:
      msp server status
      msp server stop
    """


@command.command("status")
@pass_app
def status_cmd(app):
    """Whether it is running, its pid, data directory and URL (never starts it)."""
    from ..render import render_record

    render_record(app.format, "Embedded server", app.workspace.server_status())


@command.command("stop")
@pass_app
def stop_cmd(app):
    """Stop it (a clean, fast shutdown); the next command that needs it starts it again."""
    from ..render import render_record

    result = app.workspace.server_stop()
    if app.format != "table":
        render_record(app.format, "Embedded server", result)
    elif result.stopped:
        click.echo(f"stopped the embedded PostgreSQL server (pid {result.pid}) in {result.data_dir}")
    else:
        click.echo(f"the embedded PostgreSQL server in {result.data_dir} is not running")
