"""The named statements of engine/sql/: what query() and compose() hand to the database."""

from pathlib import Path

from msp.engine.sql import _file, compose, query

SQL = Path(__file__).resolve().parent.parent / "engine" / "sql"


def test_statements_carry_no_comment_lines():
    """A comment may name a slot or a percent sign: it documents the file and
    never reaches the database, where compose would fill it or psycopg read it."""
    for path in SQL.glob("*.sql"):
        for name, text in _file(path.stem).items():
            assert text and not [line for line in text.splitlines() if line.lstrip().startswith("--")], name


def test_a_multi_line_fragment_composes_into_a_valid_statement(conn):
    events = "SELECT '{}'::jsonb,\n       NULL::bigint\nWHERE false"
    statement = compose("events.insert_events", events=events)
    assert "{events}" in (SQL / "events.sql").read_text() and "{events}" not in statement
    with conn.transaction():
        conn.execute("EXPLAIN " + statement, {"workspace": "w", "source": "s"})
    assert query("runner.in_batch").startswith("e.workspace = %(workspace)s")
