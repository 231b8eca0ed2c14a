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


def test_server_status_and_stop_for_the_embedded_server(tmp_path):
    """`msp server status` never starts the server; `stop` stops it (and says so
    when there was nothing to stop); the API twins need no database connection."""
    import json

    from support import run_in_terminal, run_process, servers_under

    import msp

    data = tmp_path / "data"
    env = {"MSP_DATA_DIR": str(data), "MSP_DATABASE_URL": "", "DATABASE_URL": ""}
    before = run_process(["server", "status", "--format", "json"], env=env)
    assert before.returncode == 0, before.stderr
    assert json.loads(before.stdout) == {"running": False, "pid": None, "data_dir": str(data.resolve()), "url": None}
    assert not (data / "pgdata").exists()  # looking did not start it
    try:
        assert run_process(["doctor", "--format", "json"], env=env, timeout=300).returncode == 0  # starts it
        status = json.loads(run_process(["server", "status", "--format", "json"], env=env).stdout)
        assert status["running"] is True and status["data_dir"] == str(data.resolve())
        assert status["url"] == f"postgresql://postgres:@/postgres?host={data.resolve() / 'pgdata'}"
        assert servers_under(data, wait=0) and str(status["pid"]) in servers_under(data, wait=0)[0]
        code, screen = run_in_terminal(["server", "status"], env=env, columns=100)
        assert code == 0 and "running" in screen and "True" in screen and "┏" in screen  # a table on a terminal
        piped = run_process(["server", "status"], env=env).stdout.decode().splitlines()
        assert piped[0] == "Embedded server" and piped[2].split() == ["running", "True"]
        assert piped[5].split() == ["url", status["url"]]  # whole, in a pipe
        with pytest.MonkeyPatch.context() as patch:
            for name, value in env.items():
                patch.setenv(name, value)
            ws = msp.connect()
            assert ws.server_status().model_dump(mode="json") == status
            assert ws._db is None  # no connection was opened
    finally:
        stopped = run_process(["server", "stop", "--format", "json"], env=env)
    assert stopped.returncode == 0, stopped.stderr
    assert json.loads(stopped.stdout) == {"stopped": True, "pid": status["pid"], "data_dir": str(data.resolve())}
    assert servers_under(data, wait=0) == []
    assert json.loads(run_process(["server", "status", "--format", "json"], env=env).stdout)["running"] is False
    again = run_process(["server", "stop"], env=env)
    assert again.returncode == 0
    assert again.stdout.decode() == f"the embedded PostgreSQL server in {data.resolve()} is not running\n"
