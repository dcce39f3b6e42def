"""The migration test kit's checks, each on a set that passes and on one that must fail."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest

import bootmigrate
from bootmigrate._schema.snapshot import render_snapshot, schema_at
from bootmigrate._source import lockfile as _lockfile
from bootmigrate.testing import MigrationCheckFailed, MigrationKit, fingerprint

NOTES = "CREATE TABLE notes (id INTEGER PRIMARY KEY, title TEXT NOT NULL);\n"
NOTES_ROWS = "INSERT INTO notes (title) VALUES ('first'), ('second');\n"


def rows(path: Path, sql: str) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def freeze(directory: Path) -> None:
    """What `bootmigrate schema --write` and `bootmigrate lock` commit beside the files."""
    migrations = bootmigrate.load(directory)
    (directory / "schema.sql").write_text(
        render_snapshot(schema_at(migrations), migrations.head), encoding="utf-8"
    )
    (directory / "bootmigrate.lock").write_text(_lockfile.render(migrations), encoding="utf-8")


def test_the_example_set_passes_every_check(example_set):
    freeze(example_set)
    kit = MigrationKit(example_set)
    assert kit.versions == (0, 1, 2, 3)
    assert kit.versions_for("round_trip") == (1, 2)
    kit.check_all()


def test_database_at_a_version_holds_the_fixture_rows(make_set_in, tmp_path):
    source = make_set_in(
        {
            "0001_notes.up.sql": NOTES,
            "0001_notes.fixture.sql": NOTES_ROWS,
            "0002_more.up.sql": "ALTER TABLE notes ADD COLUMN body TEXT;\n",
        }
    )
    path = MigrationKit(source).database_at(1, tmp_path / "at1.db")
    # The fixture runs first, then the kit's synthetic row (a key far above the app's).
    assert rows(path, "SELECT id, title FROM notes ORDER BY id") == [
        (1, "first"),
        (2, "second"),
        (987654321, "title 0"),
    ]
    assert bootmigrate.status(path, source).current == 1
    bare = MigrationKit(source, synthetic_rows=False).database_at(1, tmp_path / "bare.db")
    assert rows(bare, "SELECT id, title FROM notes ORDER BY id") == [(1, "first"), (2, "second")]


# -- populated tables -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "sqlite_says"),
    [
        # works on an empty table, fails on every user's database
        ("ALTER TABLE notes ADD COLUMN body TEXT NOT NULL;", "NOT NULL"),
        ("ALTER TABLE notes ADD COLUMN at TEXT DEFAULT (datetime('now'));", "non-constant"),
        # two notes with one title is normal data
        ("CREATE UNIQUE INDEX notes_title ON notes (title);", "UNIQUE constraint failed"),
    ],
    ids=["not-null-without-default", "non-constant-default", "unique-over-duplicates"],
)
def test_a_migration_that_only_works_on_empty_tables_fails(
    make_set_in, tmp_path, change, sqlite_says
):
    source = make_set_in({"0001_notes.up.sql": NOTES, "0002_change.up.sql": change + "\n"})
    bootmigrate.migrate(tmp_path / "empty.db", source)  # fine without rows
    kit = MigrationKit(source)
    kit.check_populated(1)
    with pytest.raises(MigrationCheckFailed) as failure:
        kit.check_populated(2)
    message = str(failure.value)
    assert failure.value.version == 2
    assert message.startswith("populated tables, 0002_change: the migration fails on tables")
    assert "(notes: 3)" in message  # the version-1 row and the two alike
    assert sqlite_says in message
    assert "'0002_change.up.sql' statement 1 (line 1)" in message


def test_populated_tables_respect_foreign_keys_and_defaults(make_set_in):
    source = make_set_in(
        {
            "0001_notes.up.sql": NOTES
            + "CREATE TABLE tags (note_id INTEGER NOT NULL REFERENCES notes (id),"
            " tag TEXT NOT NULL DEFAULT 'x', n INTEGER, CHECK (n > 5));\n",
            "0002_safe.up.sql": "ALTER TABLE notes ADD COLUMN done INTEGER NOT NULL DEFAULT 0;\n"
            "PRAGMA foreign_keys = ON;\n",
        }
    )
    MigrationKit(source, prepare=lambda c: c.execute("PRAGMA foreign_keys = ON")).check_populated(2)


def test_a_single_row_table_gets_its_row_too(make_set_in):
    source = make_set_in(
        {
            "0001_settings.up.sql": "CREATE TABLE settings (id INTEGER PRIMARY KEY CHECK (id = 1),"
            " theme TEXT);\n",
            "0002_lang.up.sql": "ALTER TABLE settings ADD COLUMN lang TEXT NOT NULL;\n",
        }
    )
    with pytest.raises(MigrationCheckFailed, match=r"\(settings: 1\).*Cannot add a NOT NULL"):
        MigrationKit(source).check_populated(2)


def test_rows_take_a_value_a_check_in_list_allows(make_set_in):
    source = make_set_in(
        {
            "0001_jobs.up.sql": "CREATE TABLE jobs (id INTEGER PRIMARY KEY, state TEXT NOT NULL"
            " CHECK (state IN ('queued', 'done')), \"my kind\" INTEGER,"
            ' CHECK ("my kind" IN (2, 3)));\n',
            "0002_one_per_state.up.sql": "CREATE UNIQUE INDEX jobs_state ON jobs (state);\n",
        }
    )
    with pytest.raises(MigrationCheckFailed, match=r"\(jobs: 3\).*UNIQUE constraint failed"):
        MigrationKit(source).check_populated(2)


# -- round trip -------------------------------------------------------------------------


def test_a_down_that_does_not_undo_its_up_fails_with_the_difference(make_set_in):
    source = make_set_in(
        {
            "0001_notes.up.sql": NOTES,
            "0001_notes.down.sql": "DROP TABLE notes;\n",
            "0002_body.up.sql": "ALTER TABLE notes ADD COLUMN body TEXT;\n"
            "CREATE INDEX notes_body ON notes (body);\n",
            "0002_body.down.sql": "DROP INDEX notes_body;\n",
        }
    )
    kit = MigrationKit(source)
    kit.check_round_trip(1)
    with pytest.raises(MigrationCheckFailed) as failure:
        kit.check_round_trip(2)
    message = str(failure.value)
    assert message.startswith(
        "round trip of 0002_body: 0002_body.down.sql does not undo 0002_body.up.sql"
    )
    assert "+  column body TEXT" in message
    assert failure.value.check == "round_trip"


def test_round_trip_of_a_migration_without_down_is_a_usage_error(make_set_in):
    source = make_set_in({"0001_notes.up.sql": NOTES})
    with pytest.raises(bootmigrate.UsageError, match="has no down file"):
        MigrationKit(source).check_round_trip(1)


# -- convergence ------------------------------------------------------------------------


def test_convergence_runs_fixtures_and_the_rows_hook(make_set_in):
    source = make_set_in(
        {
            "0001_notes.up.sql": NOTES,
            "0001_notes.fixture.sql": NOTES_ROWS,
            "0002_body.up.sql": "ALTER TABLE notes ADD COLUMN body TEXT NOT NULL DEFAULT '';\n",
        }
    )
    seen = []

    def fill(conn: sqlite3.Connection, migration: bootmigrate.Migration) -> None:
        if migration.version == 2:
            conn.execute("INSERT INTO notes (title, body) VALUES ('third', 'b')")

    def check_rows(conn: sqlite3.Connection, from_version: int) -> None:
        titles = [r[0] for r in conn.execute("SELECT title FROM notes ORDER BY id")]
        seen.append((from_version, titles))
        assert titles[:2] == ["first", "second"] or from_version == 0

    # Without the synthetic rows, to see exactly the fixtures' and the hook's.
    kit = MigrationKit(source, fill=fill, check_rows=check_rows, synthetic_rows=False)
    for version in kit.versions_for("convergence"):
        kit.check_convergence(version)
    assert seen == [
        (0, []),
        (1, ["first", "second"]),
        (2, ["first", "second", "third"]),
    ]


def test_fingerprint_lets_the_rows_hook_prove_untouched_rows_identical(make_set_in, tmp_path):
    source = make_set_in(
        {
            "0001_notes.up.sql": NOTES + "CREATE TABLE log (line TEXT);\n",
            "0001_notes.fixture.sql": NOTES_ROWS + "INSERT INTO log VALUES ('a'), ('b');\n",
            "0002_body.up.sql": "ALTER TABLE notes ADD COLUMN body TEXT;\n"
            "DELETE FROM log WHERE line = 'b';\n",
        }
    )
    kit = MigrationKit(source)
    before = fingerprint(kit.database_at(1, tmp_path / "at1.db"))

    def check_rows(conn: sqlite3.Connection, from_version: int) -> None:
        after = fingerprint(conn, exclude={"bootmigrate_ledger", "bootmigrate_meta"})
        assert after["log"] == before["log"], "0002 changed the rows of log"

    with pytest.raises(MigrationCheckFailed, match="0002 changed the rows of log"):
        MigrationKit(source, check_rows=check_rows).check_convergence(1)


def test_a_failing_rows_hook_names_the_version(make_set_in):
    source = make_set_in({"0001_notes.up.sql": NOTES, "0001_notes.fixture.sql": NOTES_ROWS})

    def check_rows(conn: sqlite3.Connection, from_version: int) -> None:
        assert conn.execute("SELECT count(*) FROM notes").fetchone()[0] == 9, "expected 9 notes"

    with pytest.raises(MigrationCheckFailed, match=r"from version 0001_notes: the rows check.*9"):
        MigrationKit(source, check_rows=check_rows).check_convergence(1)


def test_a_rebuild_that_loses_rows_fails_convergence(make_set_in):
    source = make_set_in(
        {
            "0001_notes.up.sql": NOTES,
            "0001_notes.fixture.sql": NOTES_ROWS,
            "0002_rebuild.up.sql": "CREATE TABLE notes_new (id INTEGER PRIMARY KEY, title TEXT);\n"
            "DROP TABLE notes;\nALTER TABLE notes_new RENAME TO notes;\n",
        }
    )
    kit = MigrationKit(source)
    kit.check_convergence(0)
    with pytest.raises(MigrationCheckFailed) as failure:
        kit.check_convergence(1)
    message = str(failure.value)
    assert "table(s) notes held rows at version 1 and are empty" in message
    # The kit's own rows count too; the message says what to do if that was the point.
    advice = "give the table rows that stay in a fixture file, or pass synthetic_rows=False"
    assert message.endswith(advice)


def test_an_upgrade_that_breaks_on_fixture_rows_fails_convergence(make_set_in):
    source = make_set_in(
        {
            "0001_notes.up.sql": NOTES,
            "0001_notes.fixture.sql": NOTES_ROWS,
            "0002_body.up.sql": "ALTER TABLE notes ADD COLUMN body TEXT NOT NULL;\n",
        }
    )
    with pytest.raises(MigrationCheckFailed) as failure:
        MigrationKit(source).check_convergence(1)
    message = str(failure.value)
    assert message.startswith("convergence from version 0001_notes: upgrading a database from")
    assert "0002_body.up.sql" in message


def test_an_origin_that_diverges_shows_the_extra_column(make_set_in):
    source = make_set_in(
        {
            "0001_sessions.up.sql": "CREATE TABLE sessions (id TEXT PRIMARY KEY, query TEXT);\n",
            "0002_cost.up.sql": "ALTER TABLE sessions ADD COLUMN cost_usd REAL;\n",
        }
    )

    def hotfix_build(path: Path) -> None:
        # An old build that added a column outside the migrations, like the legacy
        # store's total_tokens that only upgraded databases have.
        bootmigrate.migrate(path, source, target=1)
        conn = sqlite3.connect(path)
        conn.execute("ALTER TABLE sessions ADD COLUMN total_tokens INTEGER")
        conn.close()

    def clean_build(path: Path) -> None:
        bootmigrate.migrate(path, source, target=1)

    kit = MigrationKit(source, origins={"1.3 hotfix": hotfix_build, "1.3": clean_build})
    kit.check_origin("1.3")
    with pytest.raises(MigrationCheckFailed) as failure:
        kit.check_origin("1.3 hotfix")
    message = str(failure.value)
    assert message.startswith("convergence from origin '1.3 hotfix': the database it built")
    assert "+  column total_tokens INTEGER" in message


# -- snapshot, lock, drift --------------------------------------------------------------


def test_snapshot_must_exist_and_match(example_set):
    kit = MigrationKit(example_set)
    with pytest.raises(MigrationCheckFailed, match=re.escape("no schema.sql; write it with")):
        kit.check_snapshot()
    freeze(example_set)
    kit.check_snapshot()
    (example_set / "0004_pin.up.sql").write_text(
        "ALTER TABLE notes ADD COLUMN pinned INTEGER NOT NULL DEFAULT 0;\n", encoding="utf-8"
    )
    with pytest.raises(MigrationCheckFailed) as failure:
        MigrationKit(example_set).check_snapshot()
    message = str(failure.value)
    assert "differs from the committed schema.sql" in message
    assert "+  column pinned INTEGER NOT NULL DEFAULT 0" in message
    assert "schema --write" in message


def test_an_edited_locked_migration_fails_the_lock_check(example_set):
    freeze(example_set)
    MigrationKit(example_set).check_lock()
    with (example_set / "0001_create_notes.up.sql").open("a", encoding="utf-8") as f:
        f.write("CREATE INDEX notes_body ON notes (body);\n")
    with pytest.raises(
        MigrationCheckFailed, match=re.escape("'0001_create_notes.up.sql' changed after")
    ):
        MigrationKit(example_set).check_lock()


def test_a_missing_lock_file_fails_the_lock_check(example_set):
    with pytest.raises(MigrationCheckFailed, match=re.escape("no bootmigrate.lock")):
        MigrationKit(example_set).check_lock()


def test_drift_names_the_change_made_by_hand(example_set, db_path):
    kit = MigrationKit(example_set)
    bootmigrate.migrate(db_path, example_set, target=2)
    kit.check_drift(db_path)
    conn = sqlite3.connect(db_path)
    conn.execute("DROP INDEX notes_title")
    conn.close()
    with pytest.raises(MigrationCheckFailed) as failure:
        kit.check_drift(db_path)
    assert failure.value.version == 2
    assert "-index notes_title ON notes (title)" in str(failure.value)


def test_the_testing_module_documents_its_public_names():
    import bootmigrate.testing as testing

    for name in testing.__all__:
        value = getattr(testing, name)
        if callable(value) and not name.endswith("Hook") and name != "OriginBuilder":
            assert value.__doc__, name
    public = [n for n in vars(testing.MigrationKit) if n.startswith("check_")]
    assert sorted(public) == [
        "check_all",
        "check_baseline",
        "check_compatible",
        "check_convergence",
        "check_drift",
        "check_lock",
        "check_origin",
        "check_populated",
        "check_round_trip",
        "check_snapshot",
    ]


def test_drift_of_a_database_from_a_newer_release_is_a_failed_check(example_set, db_path):
    # Its version is not in these files, so there is no schema to expect (this used to
    # escape as an InvalidTarget from building the expected database).
    (example_set / "0004_extra.up.sql").write_text(
        "-- bootmigrate: backward-compatible\nCREATE TABLE extra (x);\n", encoding="utf-8"
    )
    bootmigrate.migrate(db_path, example_set)
    (example_set / "0004_extra.up.sql").unlink()
    with pytest.raises(MigrationCheckFailed) as failure:
        MigrationKit(example_set).check_drift(db_path)
    assert failure.value.check == "drift"
    assert failure.value.version == 4
    assert str(failure.value).startswith(f"{db_path}: ")
    assert "version(s) 4" in str(failure.value)


# -- what the kit says ------------------------------------------------------------------


def test_a_plain_syntax_error_is_not_blamed_on_rows(make_set_in):
    source = make_set_in(
        {"0001_notes.up.sql": NOTES, "0002_bad.up.sql": "CREATE TABLEX broken (x);\n"}
    )
    with pytest.raises(MigrationCheckFailed) as failure:
        MigrationKit(source).check_populated(2)
    assert str(failure.value) == (
        "populated tables, 0002_bad: the migration fails: '0002_bad.up.sql' statement 1 "
        '(line 1) failed: near "TABLEX": syntax error; the run was rolled back and the '
        "database is unchanged. Statement: CREATE TABLEX broken (x);"
    )


def test_a_failure_only_on_rows_says_it_passes_on_empty_tables(make_set_in):
    source = make_set_in(
        {
            "0001_notes.up.sql": NOTES,
            "0002_unique.up.sql": "CREATE UNIQUE INDEX notes_title ON notes (title);\n",
        }
    )
    with pytest.raises(MigrationCheckFailed) as failure:
        MigrationKit(source).check_populated(2)
    assert str(failure.value) == (
        "populated tables, 0002_unique: the migration fails on tables that hold rows "
        "(notes: 3) and passes on empty ones, as a user's database would fail: "
        "'0002_unique.up.sql' statement 1 (line 1) failed: UNIQUE constraint failed: "
        "notes.title; the run was rolled back and the database is unchanged. Statement: "
        "CREATE UNIQUE INDEX notes_title ON notes (title);"
    )


def test_a_failure_at_the_newest_version_is_not_an_upgrade_from_it_to_itself(make_set_in):
    source = make_set_in({"0001_notes.up.sql": NOTES, "0002_more.up.sql": NOTES_ROWS})

    def fill(conn: sqlite3.Connection, migration: object) -> None:
        if getattr(migration, "version", None) == 2:  # something planted on the ledger
            conn.execute(
                "CREATE TRIGGER planted AFTER INSERT ON bootmigrate_ledger BEGIN SELECT 1; END"
            )

    with pytest.raises(MigrationCheckFailed) as failure:
        MigrationKit(source, fill=fill).check_convergence(2)
    message = str(failure.value)
    assert message.startswith(
        "convergence from version 0002_more: opening a database at version 2 (the newest) failed: "
    )
    assert "from version 2 to 2" not in message and "planted" in message


def test_the_first_run_hints_name_the_migrations_directory(make_set_in):
    source = make_set_in({"0001_notes.up.sql": NOTES})
    kit = MigrationKit(source)
    with pytest.raises(MigrationCheckFailed) as snapshot:
        kit.check_snapshot()
    assert str(snapshot.value) == (
        f"{source} has no schema.sql; write it with `bootmigrate --source {source} schema "
        "--write` and commit it"
    )
    with pytest.raises(MigrationCheckFailed) as lock:
        kit.check_lock()
    assert str(lock.value) == (
        f"{source} has no bootmigrate.lock; write it with `bootmigrate --source {source} "
        "lock` and commit it"
    )


def test_the_hint_for_a_package_names_its_folder_on_disk(tmp_path, monkeypatch):
    package = tmp_path / "site" / "kitapp"
    (package / "migrations").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "migrations" / "0001_notes.up.sql").write_text(NOTES)
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    with pytest.raises(MigrationCheckFailed) as lock:
        MigrationKit("kitapp:migrations").check_lock()
    assert str(lock.value) == (
        "kitapp:migrations has no bootmigrate.lock; write it with `bootmigrate --source "
        f"{package / 'migrations'} lock` and commit it"
    )
