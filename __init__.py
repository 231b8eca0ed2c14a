"""msp — a trader's operator workflow as canonical, schema-validated events in PostgreSQL.

The repository root is this package: ``msp.engine`` holds all behaviour,
``msp.cli`` the thin click commands, ``msp.api`` the Python API (``msp.connect``),
``schemas/`` and ``migrations/`` ship as package data.
"""

__version__ = "0.1.0"


# name → the module that defines it; imported on first use, so that ``msp --help``
# (which imports this package) stays fast
_LAZY = {
    "connect": "api", "Workspace": "api",
    "MspError": "engine.errors", "InputRejected": "engine.errors", "EventRejected": "engine.errors",
    "NotFound": "engine.errors", "UsageError": "engine.errors", "DatabaseError": "engine.errors",
    "EventWarning": "engine.emit", "results": None,
}
__all__ = ["__version__", *_LAZY]


def __getattr__(name):
    if name in _LAZY:
        import importlib

        if _LAZY[name] is None:
            return importlib.import_module(f"{__name__}.{name}")
        return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module 'msp' has no attribute {name!r}")
