"""Settings: which database, which workspace, which time zone, which output format.

Each comes from its command-line option, else its environment variable, else
a default (README.md).  ``Settings`` is the one object the CLI hands to the
engine.
"""

from __future__ import annotations

import os
import re
from typing import Optional

from pydantic import BaseModel, field_validator

from .errors import UsageError
from .timeparse import zone

DATABASE_URL_VARS = ("MSP_DATABASE_URL", "DATABASE_URL")
WORKSPACE_VAR = "MSP_WORKSPACE"
TZ_VAR = "MSP_TZ"
FORMAT_VAR = "MSP_FORMAT"
DEFAULT_WORKSPACE = "default"
FORMATS = ("table", "json", "csv")
WORKSPACE_PATTERN = re.compile(r"[A-Za-z0-9_.:-]{1,64}")  # fullmatch: "$" would let a trailing newline through


class Settings(BaseModel):
    """Resolved global options.  ``database_url`` None means the embedded server."""

    database_url: Optional[str] = None
    workspace: str = DEFAULT_WORKSPACE
    tz: Optional[str] = None
    format: str = "table"

    @field_validator("workspace")
    @classmethod
    def _workspace_name(cls, value: str) -> str:
        if not WORKSPACE_PATTERN.fullmatch(value):
            raise ValueError("workspace names are 1-64 characters of letters, digits and _ . : -")
        return value

    @field_validator("format")
    @classmethod
    def _format_name(cls, value: str) -> str:
        if value not in FORMATS:
            raise ValueError(f"format must be one of {', '.join(FORMATS)}")
        return value


def resolve_settings(
    database_url: Optional[str] = None,
    workspace: Optional[str] = None,
    tz: Optional[str] = None,
    format: Optional[str] = None,
    environ: Optional[dict] = None,
) -> Settings:
    """Options win over environment variables, which win over defaults."""
    env = os.environ if environ is None else environ
    if not database_url:
        database_url = next((env[v] for v in DATABASE_URL_VARS if env.get(v)), None)
    try:
        settings = Settings(
            database_url=database_url or None,
            # an explicit --workspace "" is refused, not read as "default"; an empty variable is unset
            workspace=workspace if workspace is not None else (env.get(WORKSPACE_VAR) or DEFAULT_WORKSPACE),
            tz=tz or env.get(TZ_VAR) or None,
            format=format or env.get(FORMAT_VAR) or "table",
        )
    except ValueError as exc:  # pydantic.ValidationError is a ValueError
        first = exc.errors()[0] if hasattr(exc, "errors") else {"loc": ("?",), "msg": str(exc)}
        field = first["loc"][0] if first.get("loc") else "option"
        raise UsageError(f"invalid {field}: {first['msg'].removeprefix('Value error, ')}") from None
    if settings.tz:  # a zone that is not one is refused by every command, not only by reports
        zone(settings.tz)
    return settings
