"""The published contracts of the commands' JSON output, as shipped in ``schemas/output/``.

One file per command, ``NAME.schema.json`` where NAME is the Python API method
(``today``, ``tasks_list``, ``ingest_automate``…).  The files are generated from
the result models (``python -m msp.results``; a test fails when one is stale);
this module only reads them, so ``msp schemas show --output`` needs no pydantic.
"""

from __future__ import annotations

import json
from importlib import resources

from .errors import NotFound

SUFFIX = ".schema.json"


def _folder():
    return resources.files("msp") / "schemas" / "output"


def output_names() -> list[str]:
    """Every published contract, by name."""
    folder = _folder()
    return sorted(p.name[: -len(SUFFIX)] for p in folder.iterdir() if p.name.endswith(SUFFIX))


def load_output_schema(name: str) -> dict:
    """The contract of one command's output; ``name`` as the API method (``tasks_list``)
    or as the command is typed (``tasks list``, ``tasks-list``)."""
    key = "_".join(name.replace("-", " ").replace("_", " ").split())
    path = _folder() / f"{key}{SUFFIX}"
    if not path.is_file():
        raise NotFound(f"no output contract named {name!r} (see `msp schemas list --output`)")
    return json.loads(path.read_text(encoding="utf-8"))
