"""Code comments point at files in the repository: every docs/ARCHITECTURE.md
section a comment cites exists, and nothing cites the design contract the
project started from (it is not in the repository)."""

import re

from support import ROOT

APPLIED_BEFORE_THE_DOC = {"migrations/008_row_level_security.sql"}  # checksummed: never edited


def _anchor(heading: str) -> str:
    return re.sub(r"[^a-z0-9 -]", "", heading.lower()).strip().replace(" ", "-")


def _sources():
    for folder in ("engine", "migrations", "tests", "bench"):
        for path in (ROOT / folder).rglob("*"):
            if path.suffix in (".py", ".sql") and path.is_file():
                yield path


def test_every_cited_section_of_the_architecture_document_exists():
    doc = (ROOT / "docs" / "ARCHITECTURE.md").read_text()
    anchors = {_anchor(line.lstrip("#")) for line in doc.splitlines() if line.startswith("#")}
    cited = {(path.relative_to(ROOT).as_posix(), anchor) for path in _sources()
             for anchor in re.findall(r"ARCHITECTURE\.md#([a-z0-9-]+)", path.read_text())}
    assert len(cited) >= 20
    assert [c for c in cited if c[1] not in anchors] == []


def test_no_comment_cites_the_design_contract_outside_the_repository():
    citing = {path.relative_to(ROOT).as_posix() for path in _sources() if "DESIGN §" in path.read_text()}
    assert citing - {"tests/test_architecture_doc.py"} == APPLIED_BEFORE_THE_DOC
