"""Release quality: what a newcomer's fresh machine meets (issue 10) — the test
run's own rules, the embedded server's lifecycle, and nothing left running."""

from __future__ import annotations

import warnings

import pytest


def test_a_warning_raised_from_msp_code_fails_the_run():
    """setup.cfg's filterwarnings turns any warning attributed to msp's modules
    into an error; a warning from elsewhere stays a warning."""
    probe = "import warnings\ndef f():\n    warnings.warn('old', DeprecationWarning, stacklevel=1)\n"
    for module in ("msp.cli.render", "msp"):
        namespace = {"__name__": module}
        exec(compile(probe, f"<{module}>", "exec"), namespace)
        with pytest.raises(DeprecationWarning):
            namespace["f"]()
    elsewhere = {"__name__": "mspx_other_library"}
    exec(compile(probe, "<other>", "exec"), elsewhere)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        elsewhere["f"]()
    assert len(caught) == 1


def test_printing_a_line_issue_raises_no_deprecation_warning(capsys):
    """click 8.5 deprecates click.get_text_stream, which cli/render.py used."""
    from msp.cli.render import issue_printer
    from msp.engine.ingest import LineIssue

    issue_printer("warning")(LineIssue(source="f.jsonl", line=3, path="/payload", message="odd"))
    assert capsys.readouterr().err == "f.jsonl:3: warning: /payload: odd\n"
