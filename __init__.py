"""msp — a trader's operator workflow as canonical, schema-validated events in PostgreSQL.

The repository root is this package: ``msp.engine`` holds all behaviour,
``msp.cli`` the thin click commands, ``msp.api`` the Python API (``msp.connect``),
``schemas/`` and ``migrations/`` ship as package data.
"""

__version__ = "0.1.0"


def __getattr__(name):
    # ``msp.connect`` / ``msp.Workspace`` import the API on first use, so that
    # ``msp --help`` (which imports this package) stays fast.
    if name in ("connect", "Workspace"):
        from . import api

        return getattr(api, name)
    raise AttributeError(f"module 'msp' has no attribute {name!r}")
