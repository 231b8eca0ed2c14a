"""The counts every load of lines reports, as one model: ``read = ingested +
duplicates + rejected``, always (a conflict is a line whose id is stored with
other content; a warning leaves its line valid).  ``msp ingest``'s result
(results.py), ``msp import``'s (engine/imports) and the summary of
``ingest --follow`` (engine/follow.py) extend it.  Only pydantic is imported
here: the result models load it without the ingest's machinery."""

from __future__ import annotations

from pydantic import BaseModel


class LineCounts(BaseModel):
    read: int
    ingested: int
    duplicates: int
    conflicts: int
    rejected: int
    warnings: int


class IngestCounts(LineCounts):
    """A file's lines before its checkpoint are ``checkpoint_skipped``, not read."""

    checkpoint_skipped: int
