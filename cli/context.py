"""The object every command receives: the resolved settings and the ``Workspace`` they name."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Optional

import click

if TYPE_CHECKING:  # importing settings (pydantic) is left to the commands: `msp --help` stays fast
    from msp.api import Workspace
    from msp.engine.config import Settings

current: Optional["AppContext"] = None  # the running command's context, for error messages after it unwound


def last_database_url() -> str:
    """The URL the running command connected to (or tried to), '' before it resolved one."""
    ws = current._workspace if current is not None else None
    return (ws.url if ws is not None else None) or ""


@dataclass
class AppContext:
    settings: "Settings"
    _workspace: Optional["Workspace"] = field(default=None, repr=False)

    def __post_init__(self) -> None:
        global current
        current = self

    @property
    def format(self) -> str:
        return self.settings.format

    @property
    def workspace(self) -> "Workspace":
        """The Python API's ``Workspace`` of these settings: every command is one call on it."""
        if self._workspace is None:
            from msp.api import Workspace

            self._workspace = Workspace(self.settings)
        return self._workspace

    def database(self, migrate: bool = True):
        """The workspace's database, migrated on first use unless ``migrate`` is False."""
        return self.workspace.database(migrate)

    def close(self) -> None:
        if self._workspace is not None:
            self._workspace.close()


pass_app = click.make_pass_decorator(AppContext)
