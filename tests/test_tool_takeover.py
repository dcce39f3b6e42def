"""``Baseline.from_tool``: taking over databases whose versions another tool recorded.

Each database is made as the tool leaves it: the tool's first migrations run in plain
``sqlite3`` as the tool runs them, and its version table created with the tool's own
``CREATE`` and filled as the tool fills it (tests/support/foreign_tools.py). Then
bootmigrate, with the migrations imported from the same folder, continues from there.
Every check reopens the file through a new connection.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

import bootmigrate
from bootmigrate import Baseline
from foreign_tools import DATA, TABLE_NAME, TABLE_SQL, TOOLS, Up, record, run, table_rows, ups
from processes import cli_env, run_cli


def imported(tool: str, tmp_path: Path) -> Path:
    destination = tmp_path / "migrations"
    bootmigrate.import_migrations(tool, DATA / tool, destination)
    return destination


def made_by(tool: str, db: Path, applied: list[Up], *, failed: bool = False) -> None:
    """*db* as *tool* leaves it after applying *applied* (the last failed: *failed*)."""
    run(db, applied[:-1] if failed else applied)
    record(db, tool, applied, failed=failed)


def files_of(directory: Path) -> dict[str, bytes]:
    """The database's files, byte for byte (the database, -wal, -journal...): every file
    beside it but the empty lock file a run with a no-transaction step holds."""
    return {
        p.name: p.read_bytes()
        for p in directory.iterdir()
        if p.is_file() and not p.name.endswith("-bootmigrate-lock")
    }


def ledger(db: Path) -> list[int]:
    conn = sqlite3.connect(db)
    try:
        return [v for (v,) in conn.execute("SELECT version FROM bootmigrate_ledger ORDER BY 1")]
    finally:
        conn.close()


@pytest.mark.parametrize("tool", TOOLS)
@pytest.mark.parametrize("done", [1, 2])
def test_a_database_the_tool_migrated_continues_with_the_next_file(
    tool: str, done: int, tmp_path: Path
) -> None:
    source = imported(tool, tmp_path)
    migrations = ups(tool)
    db = tmp_path / "data" / "app.db"
    db.parent.mkdir()
    made_by(tool, db, migrations[:done])
    table_before = table_rows(db, tool)
    # What the tool would reach from there: all of its migrations, and its own table.
    reference = tmp_path / "reference.db"
    run(reference, migrations)
    record(reference, tool, [])

    report = bootmigrate.migrate(db, source, baseline=Baseline.from_tool(tool))

    versions = [m.version for m in migrations]
    assert report.adoption is not None
    assert report.adoption.recorded == tuple(versions[:done])
    assert report.adoption.claimed == report.adoption.version == versions[done - 1]
    assert [s.version for s in report.steps] == versions[done:]  # nothing re-run
    assert (report.from_version, report.to_version) == (versions[done - 1], versions[-1])
    assert table_rows(db, tool) == table_before  # the tool's table as the tool left it
    assert ledger(db) == versions
    assert bootmigrate.canonical_schema(db) == bootmigrate.canonical_schema(reference)
    status = bootmigrate.status(db, source)
    assert status.up_to_date and not status.problems
    again = bootmigrate.migrate(db, source, baseline=Baseline.from_tool(tool))
    assert again.state == "up-to-date" and again.adoption is None


@pytest.mark.parametrize("tool", TOOLS)
def test_a_database_at_the_tools_newest_version_is_taken_over_as_it_is(
    tool: str, tmp_path: Path
) -> None:
    source = imported(tool, tmp_path)
    db = tmp_path / "app.db"
    made_by(tool, db, ups(tool))
    schema = bootmigrate.canonical_schema(db)

    report = bootmigrate.migrate(db, source, baseline=Baseline.from_tool(tool))

    assert report.state == "up-to-date" and report.steps == ()
    assert report.adoption is not None
    assert list(report.adoption.recorded) == [u.version for u in ups(tool)]
    assert bootmigrate.canonical_schema(db) == schema
    assert bootmigrate.status(db, source).up_to_date


def test_a_dirty_golang_migrate_database_is_refused_untouched(tmp_path: Path) -> None:
    source = imported("golang-migrate", tmp_path)
    db = tmp_path / "data" / "app.db"
    db.parent.mkdir()
    made_by("golang-migrate", db, ups("golang-migrate")[:3], failed=True)
    before = files_of(db.parent)

    with pytest.raises(bootmigrate.UnrecognizedDatabase) as caught:
        bootmigrate.migrate(db, source, baseline=Baseline.from_tool("golang-migrate"))

    message = str(caught.value)
    assert "schema_migrations table says version 20240402120000 is dirty" in message
    assert "It was left unchanged" in message
    assert "migrate force" in message and message.endswith("then start again")
    assert files_of(db.parent) == before


def test_a_failed_sqlx_migration_is_refused_untouched(tmp_path: Path) -> None:
    source = imported("sqlx", tmp_path)
    db = tmp_path / "data" / "app.db"
    db.parent.mkdir()
    made_by("sqlx", db, ups("sqlx")[:2], failed=True)
    before = files_of(db.parent)

    with pytest.raises(bootmigrate.UnrecognizedDatabase) as caught:
        bootmigrate.migrate(db, source, baseline=Baseline.from_tool("sqlx"))

    message = str(caught.value)
    assert "records version 20240202000000 as failed (success = false)" in message
    assert "delete its row from _sqlx_migrations" in message
    assert files_of(db.parent) == before


def _goose_rows(db: Path, rows: list[tuple[int, int]], *ddl: str) -> None:
    conn = sqlite3.connect(db, isolation_level=None)
    for statement in ddl:
        conn.execute(statement)
    conn.executescript(TABLE_SQL["goose"])
    conn.executemany("INSERT INTO goose_db_version (version_id, is_applied) VALUES (?, ?)", rows)
    conn.close()


NOTES = "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL, updated_at TEXT)"


def test_a_gap_in_the_applied_versions_is_refused_naming_it(tmp_path: Path) -> None:
    source = imported("goose", tmp_path)
    db = tmp_path / "data" / "app.db"
    db.parent.mkdir()
    # goose -allow-missing applied 3 before 2.
    _goose_rows(db, [(0, 1), (1, 1), (3, 1)], NOTES)
    before = files_of(db.parent)

    with pytest.raises(bootmigrate.UnrecognizedDatabase) as caught:
        bootmigrate.migrate(db, source, baseline=Baseline.from_tool("goose"))

    message = str(caught.value)
    assert "goose_db_version table records versions up to 3 but not 2" in message
    assert "apply the missing migration(s) with goose" in message
    assert files_of(db.parent) == before


def test_an_old_goose_rollback_row_counts_as_not_applied(tmp_path: Path) -> None:
    source = imported("goose", tmp_path)
    db = tmp_path / "app.db"
    # goose v2 recorded a rollback of 2 as a later row with is_applied = false.
    _goose_rows(db, [(0, 1), (1, 1), (2, 1), (2, 0)], NOTES)

    report = bootmigrate.migrate(db, source, baseline=Baseline.from_tool("goose"))

    assert report.adoption is not None and report.adoption.recorded == (1,)
    assert [s.version for s in report.steps] == [2, 3, 4]


def test_versions_no_file_has_are_refused_naming_them(tmp_path: Path) -> None:
    source = imported("dbmate", tmp_path)
    db = tmp_path / "data" / "app.db"
    db.parent.mkdir()
    applied = ups("dbmate")[:2]
    made_by("dbmate", db, applied)
    conn = sqlite3.connect(db)
    conn.execute("INSERT INTO schema_migrations (version) VALUES ('20231231000000')")
    conn.commit()
    conn.close()
    before = files_of(db.parent)

    with pytest.raises(bootmigrate.UnrecognizedDatabase) as caught:
        bootmigrate.migrate(db, source, baseline=Baseline.from_tool("dbmate"))

    assert "records version(s) 20231231000000, which no migration file has" in str(caught.value)
    assert files_of(db.parent) == before


def test_a_golang_migrate_version_no_file_has_is_refused(tmp_path: Path) -> None:
    source = imported("golang-migrate", tmp_path)
    db = tmp_path / "app.db"
    run(db, ups("golang-migrate")[:1])
    record(db, "golang-migrate", [])
    conn = sqlite3.connect(db)
    conn.execute("INSERT INTO schema_migrations VALUES (20240313999999, 0)")
    conn.commit()
    conn.close()

    with pytest.raises(
        bootmigrate.UnrecognizedDatabase, match=r"at version 20240313999999, and no"
    ):
        bootmigrate.migrate(db, source, baseline=Baseline.from_tool("golang-migrate"))


def test_versions_above_the_newest_file_are_a_newer_database(tmp_path: Path) -> None:
    source = imported("diesel", tmp_path)
    db = tmp_path / "data" / "app.db"
    db.parent.mkdir()
    made_by("diesel", db, ups("diesel"))
    conn = sqlite3.connect(db)
    conn.execute("INSERT INTO __diesel_schema_migrations (version) VALUES ('20250101000000')")
    conn.commit()
    conn.close()
    before = files_of(db.parent)

    with pytest.raises(bootmigrate.LegacyVersionTooNew) as caught:
        bootmigrate.migrate(db, source, baseline=Baseline.from_tool("diesel"))

    assert isinstance(caught.value, bootmigrate.DatabaseTooNew)
    assert caught.value.claimed == 20250101000000 and caught.value.head == 20240315093000
    assert "diesel version is 20250101000000" in str(caught.value)
    assert files_of(db.parent) == before


def test_a_new_database_runs_every_migration(tmp_path: Path) -> None:
    source = imported("sqlx", tmp_path)
    db = tmp_path / "app.db"
    report = bootmigrate.migrate(db, source, baseline=Baseline.from_tool("sqlx"))
    assert report.adoption is None and len(report.steps) == 3


def test_an_empty_tool_table_is_a_database_the_tool_never_migrated(tmp_path: Path) -> None:
    source = imported("golang-migrate", tmp_path)
    db = tmp_path / "app.db"
    record(db, "golang-migrate", [])  # golang-migrate's NilVersion: no row
    report = bootmigrate.migrate(db, source, baseline=Baseline.from_tool("golang-migrate"))
    assert report.adoption is None and len(report.steps) == 4


@pytest.mark.parametrize(
    ("tool", "made_by_tool", "fragment"),
    [
        ("goose", "golang-migrate", "has tables but no goose_db_version table"),
        ("dbmate", "golang-migrate", "has a dirty column, which dbmate's has not"),
        ("golang-migrate", "dbmate", "has no dirty column, which golang-migrate's has"),
        ("sqlx", "diesel", "has tables but no _sqlx_migrations table"),
    ],
)
def test_another_tools_table_is_refused_saying_whose_it_looks(
    tool: str, made_by_tool: str, fragment: str, tmp_path: Path
) -> None:
    source = imported(tool, tmp_path)
    db = tmp_path / "data" / "app.db"
    db.parent.mkdir()
    made_by(made_by_tool, db, ups(made_by_tool)[:1])
    before = files_of(db.parent)
    with pytest.raises(bootmigrate.UnrecognizedDatabase, match=fragment):
        bootmigrate.migrate(db, source, baseline=Baseline.from_tool(tool))
    assert files_of(db.parent) == before


def test_a_table_of_another_name_is_read_when_named(tmp_path: Path) -> None:
    source = imported("goose", tmp_path)
    db = tmp_path / "app.db"
    _goose_rows(db, [(0, 1), (1, 1)], NOTES)
    conn = sqlite3.connect(db)
    conn.execute("ALTER TABLE goose_db_version RENAME TO app_versions")
    conn.commit()
    conn.close()
    with pytest.raises(bootmigrate.UnrecognizedDatabase, match=r"no goose_db_version table"):
        bootmigrate.migrate(db, source, baseline=Baseline.from_tool("goose"))
    report = bootmigrate.migrate(
        db, source, baseline=Baseline.from_tool("goose", table="app_versions")
    )
    assert report.adoption is not None and report.adoption.recorded == (1,)


@pytest.mark.parametrize(
    ("value", "fragment"),
    # VARCHAR(50) keeps -5 as the text '-5'.
    [("twenty", "holds 'twenty' in version"), (-5, "holds '-5' in version")],
)
def test_a_value_the_tool_does_not_write_is_refused(value: object, fragment: str, tmp_path):
    source = imported("diesel", tmp_path)
    db = tmp_path / "app.db"
    record(db, "diesel", [])
    conn = sqlite3.connect(db)
    conn.execute("INSERT INTO __diesel_schema_migrations (version) VALUES (?)", (value,))
    conn.commit()
    conn.close()
    with pytest.raises(bootmigrate.UnrecognizedDatabase, match=fragment):
        bootmigrate.migrate(db, source, baseline=Baseline.from_tool("diesel"))


def test_from_tool_misuse_is_a_usage_error() -> None:
    with pytest.raises(bootmigrate.UsageError, match=r"unknown migration tool 'flyway'"):
        Baseline.from_tool("flyway")
    with pytest.raises(bootmigrate.UsageError, match=r"table must be the name"):
        Baseline.from_tool("goose", table="")
    with pytest.raises(bootmigrate.UsageError, match=r"a repair or an applied, not both"):
        Baseline(lambda c: 1, 1, repair=lambda c, v: (v, []), applied=lambda c, v: v)
    assert Baseline.from_tool("goose").label == "goose version"


def test_an_applied_callback_must_return_file_versions(tmp_path: Path) -> None:
    source = imported("goose", tmp_path)
    db = tmp_path / "app.db"
    _goose_rows(db, [(0, 1), (1, 1)], NOTES)
    baseline = Baseline(lambda conn: 1, 10, applied=lambda conn, versions: [1, 99])
    with pytest.raises(bootmigrate.UsageError, match=r"applied returned \[1, 99\]"):
        bootmigrate.migrate(db, source, baseline=baseline)


def test_the_cli_takes_over_with_up_baseline_tool(tmp_path: Path) -> None:
    source = imported("dbmate", tmp_path)
    db = tmp_path / "app.db"
    made_by("dbmate", db, ups("dbmate")[:2])
    args = ["--db", str(db), "--source", str(source), "up", "--baseline", "dbmate"]
    result = run_cli(args, cwd=tmp_path, env=cli_env())
    assert result.returncode == 0, result.stderr
    assert "taken over without a ledger" in result.stdout
    assert "migrated from version 20240102120000 to 20240104120000 (2 migration(s))" in (
        result.stdout
    )
    assert ledger(db) == [u.version for u in ups("dbmate")]


def test_the_cli_refuses_a_dirty_database_exit_1(tmp_path: Path) -> None:
    source = imported("golang-migrate", tmp_path)
    db = tmp_path / "data" / "app.db"
    db.parent.mkdir()
    made_by("golang-migrate", db, ups("golang-migrate")[:2], failed=True)
    before = files_of(db.parent)
    args = ["--db", str(db), "--source", str(source), "up", "--baseline", "golang-migrate"]
    result = run_cli(args, cwd=tmp_path, env=cli_env())
    assert result.returncode == 1
    assert result.stderr.startswith("bootmigrate: error: ")
    assert "is dirty" in result.stderr and result.stderr.count("\n") == 1
    assert files_of(db.parent) == before


def test_the_cli_refuses_an_unknown_baseline_exit_2(tmp_path: Path) -> None:
    result = run_cli(
        ["--db", "app.db", "--source", "m", "up", "--baseline", "flyway"],
        cwd=tmp_path,
        env=cli_env(),
    )
    assert result.returncode == 2
    assert "--baseline takes MODULE:NAME or one of golang-migrate, goose" in result.stderr
    assert TABLE_NAME["goose"] == "goose_db_version"
