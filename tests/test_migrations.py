"""Migrations: apply once under a lock, idempotent files, and the --check that proves it."""

import threading

import psycopg
import pytest

from msp.engine.migration_check import dynamic_check, static_check
from msp.engine.migrations import current_level, load_migrations, migrate, migration_files

GOOD = "CREATE TABLE IF NOT EXISTS t (a int);"


def errors(findings):
    return [(f.file, f.message) for f in findings if f.severity == "error"]


def test_shipped_migrations_pass_the_static_check():
    findings, statements = static_check()
    assert errors(findings) == []
    assert statements > 20
    # the trigger function is a sqlglot fallback: reported, checked by pglast, not silently passed
    assert any("sqlglot falls back" in f.message and f.severity == "warning" for f in findings)


def test_shipped_migrations_are_idempotent_on_a_real_server(server_url):
    assert dynamic_check(server_url) == []


def test_migrate_twice_and_concurrently_applies_each_file_once(fresh_database):
    results = []

    def run():
        with psycopg.connect(fresh_database, autocommit=True) as c:
            results.append(len(migrate(c)))

    threads = [threading.Thread(target=run) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [0, 0, len(load_migrations())]
    with psycopg.connect(fresh_database, autocommit=True) as c:
        assert current_level(c) == max(m.version for m in load_migrations())
        assert c.execute("SELECT count(*) FROM schema_migrations").fetchone()[0] == len(load_migrations())


@pytest.mark.parametrize("files, file, fragment", [
    ([("001_a.sql", GOOD), ("003_c.sql", GOOD)], "003_c.sql", "numbering gap: expected 002, found 003"),
    ([("001_a.sql", GOOD), ("001_b.sql", GOOD)], "001_b.sql", "duplicate migration number 001"),
    ([("1_a.sql", GOOD)], "1_a.sql", "file name must be NNN_snake_case_name.sql"),
    ([("001_a.sql", "CREATE TABLE t (a int);")], "001_a.sql", "CREATE without IF NOT EXISTS"),
    ([("001_a.sql", GOOD + "CREATE INDEX i ON t (a);")], "001_a.sql", "CREATE without IF NOT EXISTS"),
    ([("001_a.sql", GOOD + "CREATE INDEX CONCURRENTLY IF NOT EXISTS i ON t (a);")], "001_a.sql",
     "CREATE INDEX CONCURRENTLY"),
    ([("001_a.sql", "DROP TABLE t;")], "001_a.sql", "DROP without IF EXISTS"),
    ([("001_a.sql", "TRUNCATE t;")], "001_a.sql", "TRUNCATE destroys data"),
    ([("001_a.sql", "DELETE FROM t;")], "001_a.sql", "DELETE without WHERE"),
    ([("001_a.sql", "ALTER TABLE t DROP COLUMN a;")], "001_a.sql", "ALTER TABLE … DROP without IF EXISTS"),
    ([("001_a.sql", "CREATE TABLE IF NOT EXISTS t (a int,, b int);")], "001_a.sql", "PostgreSQL's grammar rejects"),
    ([("001_a.sql", "CREATE OR REPLACE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$; "
                    "CREATE FUNCTION g() RETURNS int LANGUAGE sql AS $$ SELECT 2 $$;")], "001_a.sql",
     "statement 2 (CREATE FUNCTION g() RETURNS int LANGUAGE): CREATE without IF NOT EXISTS"),
])
def test_static_check_catches(files, file, fragment):
    findings, _ = static_check(files)
    assert any(f.file == file and fragment in f.message and f.severity == "error" for f in findings), findings


def test_a_do_block_is_a_reported_fallback_not_an_error():
    findings, _ = static_check([("001_a.sql", "DO $$ BEGIN PERFORM 1; END $$;")])
    assert errors(findings) == []
    assert [f.severity for f in findings] == ["warning"]


def test_a_changed_applied_file_fails_the_check():
    files = migration_files()
    applied = {int(files[0][0][:3]): "0" * 64}
    findings, _ = static_check(files, applied)
    assert (files[0][0], "changed after it was applied (checksum differs)") in errors(findings)


def test_a_non_idempotent_file_fails_the_dynamic_check(server_url):
    files = [("001_a.sql", "CREATE TABLE IF NOT EXISTS t (a int); ALTER TABLE t ADD COLUMN b int;")]
    findings = dynamic_check(server_url, files)
    assert findings and findings[0].file == "001_a.sql"
    assert findings[0].message.startswith('fails on second run: column "b" of relation "t" already exists')


def test_migrate_check_command_passes(database_url):
    from support import invoke

    result = invoke(["--database-url", database_url, "migrate", "--check", "--format", "json"])
    assert result.exit_code == 0, result.stdout + result.stderr
    assert result.json()["ok"] is True
