"""``msp doctor`` — where msp is connected and whether it is up to date."""

from __future__ import annotations

import click

from ..context import pass_app


@click.command("doctor")
@pass_app
def command(app):
    """Show the database (password masked), server version, workspace and migration level.

    \b
    Example:
      msp doctor
    """
    from ..render import render_record

    render_record(app.format, "msp doctor", app.workspace.doctor())
