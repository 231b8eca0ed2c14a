"""The object every command receives: resolved settings and a lazily opened database."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Optional

import click

if TYPE_CHECKING:  # importing settings (pydantic) is left to the commands: `msp --help` stays fast
    from msp.engine.config import Settings


last_database_url: Optional[str] = None  # for error messages after the command has unwound


@dataclass
class AppContext:
    settings: "Settings"
    _db: Optional[object] = field(default=None, repr=False)

    @property
    def format(self) -> str:
        return self.settings.format

    def database(self, migrate: bool = True):
        """The workspace's database, migrated on first use (DESIGN §2)."""
        if self._db is None:
            from msp.engine.db import Database
            from msp.engine.migrations import migrate as apply_migrations

            global last_database_url
            db = Database(self.settings)
            last_database_url = db.url
            if migrate:
                apply_migrations(db.conn)
            self._db = db
        return self._db

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None


pass_app = click.make_pass_decorator(AppContext)
