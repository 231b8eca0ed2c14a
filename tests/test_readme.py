"""The README's examples cannot drift: every ```text block that starts with
`$ msp …` is run and its output compared with what the README shows.

How a block is read and run (README.md, "Working on msp", says the same):

- Each `$ ` line is a shell command (bash, with this checkout's `msp` first on
  the PATH); the lines after it, up to the next `$ ` line, are what it prints on
  a terminal TERMINAL_COLUMNS wide (stdout and stderr together, colours removed).
- A last line `exit N` is the command's exit status; without one it must be 0.
- Each block runs in a database of its own holding the demo's workspace
  `default` (the week of history and the example day, swept), except a block
  that starts with `$ msp demo`, or that has the marker
  `<!-- readme-check: empty database -->` on the line before it (a first
  import, say), which starts from an empty database.
- Normalisation, for what cannot be fixed in advance: `…` alone on a line
  stands for any number of lines (elided); `…` inside a line matches any text
  there (a time stamp, an id that hashes the time).  Trailing spaces are ignored.
- A block is left out only with an explicit marker on the line before it:
  `<!-- readme-check: skip (the reason) -->`.

To refresh a block after a deliberate change, run this file with
``MSP_README_ACTUAL=/tmp/actual.txt``: each command's output is appended there.
"""

from __future__ import annotations

import os
import re
import sys
import uuid
from pathlib import Path

import psycopg
import pytest

from support import ROOT, drop_database, make_database, run_in_terminal, swap_dbname

README = ROOT / "README.md"
TERMINAL_COLUMNS = 100
SKIP_MARKER = re.compile(r"<!--\s*readme-check:\s*skip\b.*-->")
EMPTY_MARKER = re.compile(r"<!--\s*readme-check:\s*empty database\s*-->")
FENCE = re.compile(r"^```text\n(\$ msp .*?)^```$", re.M | re.S)


def readme_blocks(text: str) -> list[tuple[int, str, bool]]:
    """(line number, body, starts from an empty database?) of every ```text block
    starting with `$ msp`, less the skipped ones."""
    blocks = []
    for match in FENCE.finditer(text):
        before = text[:match.start()].rstrip("\n").rsplit("\n", 1)[-1]
        if SKIP_MARKER.search(before):
            continue
        empty = bool(EMPTY_MARKER.search(before)) or match.group(1).startswith("$ msp demo")
        blocks.append((text.count("\n", 0, match.start()) + 1, match.group(1), empty))
    return blocks


def commands_of(block: str) -> list[tuple[str, list[str], int]]:
    """(command, expected output lines, expected exit status) for each `$ ` line of a block."""
    steps = []
    continued = False  # the previous command line ended in a backslash
    for line in block.rstrip("\n").split("\n"):
        if continued:
            steps[-1][0] = steps[-1][0][:-1].rstrip() + " " + line.strip()
        elif line.startswith("$ "):
            steps.append([line[2:], [], 0])
        else:
            steps[-1][1].append(line)
        continued = not steps[-1][1] and steps[-1][0].endswith("\\")
    for step in steps:
        if step[1] and re.fullmatch(r"exit \d+", step[1][-1]):
            step[2] = int(step[1].pop()[5:])
    return [tuple(step) for step in steps]


def matches(expected: list[str], actual: list[str]) -> bool:
    """Whether the actual lines are the expected ones, `…` read as above."""
    def line_pattern(line: str) -> re.Pattern:
        return re.compile("".join(".*?" if part == "…" else re.escape(part)
                                  for part in re.split("(…)", line.rstrip())) + r"\Z")

    def walk(i: int, j: int) -> bool:
        if i == len(expected):
            return j == len(actual)
        if expected[i].strip() == "…":
            return any(walk(i + 1, k) for k in range(j, len(actual) + 1))
        return j < len(actual) and bool(line_pattern(expected[i]).match(actual[j].rstrip())) and walk(i + 1, j + 1)

    return walk(0, 0)


@pytest.fixture(scope="module")
def demo_template(server_url):
    """A database holding the demo's workspace, copied for each block (CREATE DATABASE … TEMPLATE)."""
    name = f"msp_readme_tpl_{uuid.uuid4().hex[:8]}"
    url = make_database(server_url, name)
    from support import invoke

    assert invoke(["--database-url", url, "demo", "--format", "json"]).exit_code == 0
    yield name
    drop_database(server_url, name)


def block_database(server_url, template: str | None) -> tuple[str, str]:
    name = f"msp_readme_{uuid.uuid4().hex[:8]}"
    if template is None:
        return name, make_database(server_url, name)
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    return name, swap_dbname(server_url, name)


def run_shell(command: str, database_url: str, data_dir: Path) -> tuple[int, list[str]]:
    """One README command in bash on a terminal, as a reader would run it."""
    bin_dir = str(Path(sys.executable).parent)
    env = {"PATH": f"{bin_dir}:{os.environ.get('PATH', '')}", "MSP_DATABASE_URL": database_url,
           "MSP_DATA_DIR": str(data_dir), "MSP_WORKSPACE": "", "MSP_TZ": "", "MSP_FORMAT": "", "DATABASE_URL": ""}
    code, text = run_in_terminal(["-c", f"cd {ROOT} && {command}"], columns=TERMINAL_COLUMNS, env=env,
                                 program=["bash"])
    return code, text.rstrip("\n").split("\n") if text.strip() else []


def test_the_readme_has_checked_blocks_and_reads_its_markers():
    blocks = readme_blocks(README.read_text())
    assert len(blocks) >= 5
    sample = "x\n<!-- readme-check: skip (needs a broker) -->\n```text\n$ msp a\nb\n```\n\n```text\n$ msp c\nd\n```\n"
    assert [body for _, body, _ in readme_blocks(sample)] == ["$ msp c\nd\n"]
    fresh = "<!-- readme-check: empty database -->\n```text\n$ msp a\n```\n\n```text\n$ msp demo\n```\n"
    assert [empty for _, _, empty in readme_blocks(fresh)] == [True, True]
    assert commands_of("$ msp a \\\n    --b\nout\n") == [("msp a --b", ["out"], 0)]
    assert commands_of("$ msp a\none\nexit 3\n$ msp b\n") == [("msp a", ["one"], 3), ("msp b", [], 0)]
    assert matches(["a", "…", "d…f"], ["a", "b", "c", "dxxf"]) and matches(["…"], [])
    assert not matches(["a", "b"], ["a", "b", "c"]) and not matches(["x…"], ["yx"])


@pytest.mark.parametrize("line, block, empty", readme_blocks(README.read_text()),
                         ids=lambda v: f"README line {v}" if isinstance(v, int) and not isinstance(v, bool) else "")
def test_readme_example(line, block, empty, server_url, demo_template, tmp_path):
    steps = commands_of(block)
    name, url = block_database(server_url, None if empty else demo_template)
    try:
        for command, expected, status in steps:
            code, actual = run_shell(command, url, tmp_path / "embedded")
            shown = "\n".join(actual)
            if os.environ.get("MSP_README_ACTUAL"):  # to refresh the README: what each command printed
                with open(os.environ["MSP_README_ACTUAL"], "a") as out:
                    out.write(f"== README line {line}\n$ {command}\n{shown}\n" + (f"exit {code}\n" if code else ""))
            assert code == status, f"README line {line}: `{command}` exited {code}, not {status}:\n{shown}"
            assert matches(expected, actual), (f"README line {line}: `{command}` printed:\n{shown}\n\n"
                                               f"the README shows:\n" + "\n".join(expected))
    finally:
        drop_database(server_url, name)
