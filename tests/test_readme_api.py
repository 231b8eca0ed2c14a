"""The README's "Python API" example, extracted from README.md (never copied) and run as is."""

import re

from support import ROOT


def readme_example() -> tuple[str, str]:
    """The first python block of the "## Python API" section and the text block after it."""
    text = (ROOT / "README.md").read_text()
    section = text.split("\n## Python API\n", 1)[1].split("\n## ", 1)[0]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    shown = re.search(r"```python\n.*?```.*?```text\n(.*?)```", section, re.S).group(1)
    return code, shown


def test_the_readme_python_example_prints_what_the_readme_shows(database_url, workspace, monkeypatch, capsys, conn):
    code, shown = readme_example()
    monkeypatch.setenv("MSP_DATABASE_URL", database_url)
    monkeypatch.setenv("MSP_WORKSPACE", workspace)
    exec(compile(code, "<README.md: Python API>", "exec"), {"__name__": "readme"})
    assert capsys.readouterr().out == shown
    rows = conn.execute("SELECT event_type, count(*) FROM workflow_events WHERE workspace = %s GROUP BY 1 ORDER BY 1",
                        (workspace,)).fetchall()
    assert rows == [("candidate.created", 3), ("journal.draft.created", 2), ("signal.created", 3),
                    ("trade.plan.created", 2)]
    exec(compile(code, "<README.md: Python API>", "exec"), {"__name__": "readme"})  # again: nothing is stored twice
    assert capsys.readouterr().out == shown.replace("2 plans, 2 alerts", "0 plans, 0 alerts")
    assert conn.execute("SELECT count(*) FROM workflow_events WHERE workspace = %s", (workspace,)).fetchone()[0] == 10
