"""Lock-safety lint of migration files with squawk (the ``squawk-cli`` wheel, run offline).

squawk is told what msp does: each file runs in one transaction
(``--assume-in-transaction``) unless it is marked ``-- msp: no-transaction``,
against the target's PostgreSQL version (``--pg-version``).  Two of its rules
are excluded here, once, with the reason beside them; every other finding fails
the check unless the file silences it on the line before the statement's line,
with the rule and a reason on the same line::

    -- squawk-ignore prefer-bigint-over-int -- a schema version: 1, 2, 3
    event_version integer NOT NULL,

A ``squawk-ignore`` without a reason, or a ``squawk-ignore-file`` (a whole file
silenced), is itself a finding.
"""

from __future__ import annotations

import json
import re
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

# rule → why msp may exclude it for every file
EXCLUDED_RULES = {
    "require-lock-timeout": "msp migrate sets lock_timeout itself for every migration transaction "
                            "(SET LOCAL; a session setting for a no-transaction file): engine/migrations.py",
    "require-statement-timeout": "msp migrate sets statement_timeout itself for every migration transaction "
                                 "(SET LOCAL): engine/migrations.py",
}
DEFAULT_PG_MAJOR = 15  # the oldest supported server: the strictest advice when no database is at hand
IGNORE_WITH_REASON = re.compile(r"^--\s*squawk-ignore\s+[a-z0-9-]+(?:\s*,\s*[a-z0-9-]+)*\s+--\s*\S")


@dataclass(frozen=True)
class LintFinding:
    file: str
    line: int  # 1-based
    rule: str
    message: str


class SquawkMissing(Exception):
    """The squawk binary of the squawk-cli package is not installed."""


def squawk_binary() -> Path:
    """The ``squawk`` executable the ``squawk-cli`` wheel installed (found from the package, not PATH)."""
    from importlib import metadata

    try:
        dist = metadata.distribution("squawk-cli")
    except metadata.PackageNotFoundError:
        raise SquawkMissing("the squawk-cli package is not installed (pip install squawk-cli)") from None
    for entry in dist.files or ():
        if entry.name in ("squawk", "squawk.exe"):
            path = Path(dist.locate_file(entry)).resolve()
            if path.exists():
                return path
    raise SquawkMissing("the squawk-cli package has no squawk executable")


def ignore_findings(name: str, text: str) -> list[LintFinding]:
    """Every ``squawk-ignore`` comment must name its rules and give a reason; none may silence a file."""
    from .migration_files import comments

    findings = []
    for start, comment in comments(text):
        if "squawk-ignore" not in comment:
            continue
        line = text.count("\n", 0, start) + 1
        if re.match(r"^--\s*squawk-ignore-file", comment):
            findings.append(LintFinding(name, line, "msp-ignore-file", "squawk-ignore-file silences a rule for the "
                                        "whole file; silence each statement's line with a reason instead"))
        elif not IGNORE_WITH_REASON.match(comment):
            findings.append(LintFinding(name, line, "msp-ignore-reason", "a squawk-ignore needs its rule and a "
                                        "reason on the same line: -- squawk-ignore RULE -- REASON"))
    return findings


def pg_version_of(server_version_num: Optional[int]) -> str:
    return f"{(server_version_num // 10000) if server_version_num else DEFAULT_PG_MAJOR}.0"


def lint(files: list[tuple[str, str]], pg_version: str, transactional: dict[str, bool]) -> list[LintFinding]:
    """squawk's findings (and msp's rules for ignore comments) for (name, text) files."""
    binary = squawk_binary()
    findings = [f for name, text in files for f in ignore_findings(name, text)]
    with tempfile.TemporaryDirectory(prefix="msp-squawk-") as folder:
        paths = {}
        for name, text in files:
            path = Path(folder) / name
            path.write_text(text, encoding="utf-8")
            paths[str(path)] = name
        for in_transaction in (True, False):
            group = [p for p, name in paths.items() if transactional.get(name, True) is in_transaction]
            if group:
                findings.extend(_run_squawk(binary, group, paths, pg_version, in_transaction))
    return sorted(findings, key=lambda f: (f.file, f.line, f.rule))


def _run_squawk(binary: Path, group: list[str], names: dict[str, str], pg_version: str,
                in_transaction: bool) -> list[LintFinding]:
    args = [str(binary), "--reporter", "json", "--pg-version", pg_version,
            "--exclude", ",".join(EXCLUDED_RULES),
            "--assume-in-transaction" if in_transaction else "--no-assume-in-transaction", *group]
    done = subprocess.run(args, capture_output=True, text=True, timeout=120)
    try:
        reported = json.loads(done.stdout or "[]")
    except json.JSONDecodeError:
        first = (done.stderr or done.stdout).strip().splitlines()
        raise SquawkMissing(f"squawk failed (exit {done.returncode}): {first[0] if first else 'no output'}") from None
    return [LintFinding(names.get(item["file"], Path(item["file"]).name), int(item["line"]) + 1,
                        item["rule_name"], item["message"]) for item in reported]
