"""msp — a trader's operator workflow as canonical, schema-validated events in PostgreSQL.

The repository root is this package: ``msp.engine`` holds all behaviour,
``msp.cli`` the thin click commands, ``schemas/`` and ``migrations/`` ship as
package data.
"""

__version__ = "0.1.0"
