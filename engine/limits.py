"""Ingest's input limits and batch size: one constant each, read by the engine
(``ingest.py``, ``validation.py``), the Python API and the ``msp ingest`` options.

Kept free of imports so that ``msp ingest --help`` can show the defaults
without loading the validators.
"""

DEFAULT_BATCH_LINES = 5000  # lines per committed ingest batch (--batch-size)
DEFAULT_MAX_LINE_BYTES = 1024 * 1024  # longest accepted line (--max-line-bytes)
DEFAULT_MAX_DEPTH = 64  # deepest accepted nesting of objects and arrays (--max-depth)
