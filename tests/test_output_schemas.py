"""The published contracts of the commands' JSON output (``schemas/output/``): generated from
the result models, never stale, shown and listed by ``msp schemas``."""

import json

from support import ROOT, invoke

from msp import results


def test_every_contract_file_is_what_the_generator_writes_now():
    """Fails when a result model changed without `python -m msp.results` being run."""
    folder = ROOT / "schemas" / "output"
    assert sorted(p.name for p in folder.glob("*.schema.json")) == sorted(f"{n}.schema.json" for n in results.OUTPUTS)
    for name in results.OUTPUTS:
        assert (folder / f"{name}.schema.json").read_text() == results.output_schema_text(name), (
            f"schemas/output/{name}.schema.json is stale: run `python -m msp.results`")


def test_the_generator_writes_every_file_and_drops_stale_ones(tmp_path):
    (tmp_path / "gone.schema.json").write_text("{}")
    written = results.write_output_schemas(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in written)
    assert json.loads((tmp_path / "today.schema.json").read_text())["$id"].endswith("/output/today.schema.json")


def test_schemas_show_and_list_the_output_contracts():
    shown = invoke(["schemas", "show", "--output", "today", "--format", "json"])
    assert shown.exit_code == 0
    assert shown.json() == json.loads((ROOT / "schemas" / "output" / "today.schema.json").read_text())
    assert invoke(["schemas", "show", "--output", "tasks list", "--format", "json"]).json()["type"] == "array"
    listed = invoke(["schemas", "list", "--output", "--format", "json"])
    assert listed.exit_code == 0 and listed.json() == sorted(results.OUTPUTS)
    table = invoke(["schemas", "show", "--output", "today"])
    assert table.exit_code == 0 and table.stdout.startswith("today output: TodayReport\n")
    assert "counts.signals,integer,yes,," in invoke(["schemas", "show", "--output", "today", "--format", "csv"]).stdout
    rows = invoke(["schemas", "show", "--output", "alerts_list", "--format", "csv"]).stdout.splitlines()
    assert rows[0] == "field,type,required,rule,description" and rows[1].startswith("[].alert_id,string,yes")
    assert "today" in invoke(["schemas", "list", "--output"]).stdout
    missing = invoke(["schemas", "show", "--output", "tomorrow"])
    assert missing.exit_code == 1
    assert missing.stderr == "msp: error: no output contract named 'tomorrow' (see `msp schemas list --output`)\n"
