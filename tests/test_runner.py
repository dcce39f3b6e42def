"""The runner on database FILES: every assertion reopens the file through a new connection."""

from __future__ import annotations

import logging
import re
import sqlite3
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest

import bootmigrate
from bootmigrate import (
    DatabaseTooNew,
    InvalidTarget,
    IrreversibleMigration,
    ModifiedMigration,
    StatementError,
    UsageError,
    downgrade,
    migrate,
    status,
)
from dbfiles import file_state, make_set, read_db
from processes import cli_env

BASE = {
    "0001_create_notes.up.sql": (
        "CREATE TABLE notes (id INTEGER PRIMARY KEY, title TEXT NOT NULL);\n"
    ),
    "0001_create_notes.down.sql": "DROP TABLE notes;\n",
    "0002_add_body.up.sql": (
        "-- the body of a note\n"
        "ALTER TABLE notes ADD COLUMN body TEXT NOT NULL DEFAULT '';\n"
        "CREATE INDEX notes_title ON notes (title);\n"
    ),
    "0002_add_body.down.sql": "DROP INDEX notes_title;\nALTER TABLE notes DROP COLUMN body;\n",
    "0003_tags.up.sql": (
        "CREATE TABLE tags (note_id INTEGER NOT NULL, tag TEXT NOT NULL);\n"
        "CREATE TRIGGER notes_gone AFTER DELETE ON notes\n"
        "BEGIN\n"
        "    DELETE FROM tags WHERE note_id = OLD.id;\n"
        "END;\n"
    ),
    "0003_tags.down.sql": "DROP TRIGGER notes_gone;\nDROP TABLE tags;\n",
}

# Three more migrations; the third has a syntax error on its line 4.
BROKEN_LATER = {
    "0004_archive.up.sql": "CREATE TABLE archive (id INTEGER PRIMARY KEY, note_id INTEGER);\n",
    "0005_seed.up.sql": "INSERT INTO notes (title) VALUES ('welcome; read me');\n",
    "0006_broken.up.sql": (
        "-- line 1: a comment\n"
        "CREATE TABLE ok_so_far (x);\n"
        "INSERT INTO ok_so_far VALUES (1);\n"
        "CREATE TABLE broken (x TEXT,, y);\n"
        "CREATE TABLE never (x);\n"
    ),
}

LEDGER_COLUMNS = (
    "version",
    "name",
    "checksum",
    "applied_at",
    "execution_ms",
    "bootmigrate_version",
    "backward_compatible",
)


def user_tables(db: Path) -> list[str]:
    return [t for t in read_db(db).tables if not t.startswith("bootmigrate_")]


def with_rows(db: Path) -> None:
    """Put rows in the database through a connection of its own, as the app would."""
    conn = sqlite3.connect(db)
    with conn:
        conn.executemany(
            "INSERT INTO notes (title, body) VALUES (?, ?)", [("a", "x"), ("b; c", "y")]
        )
        conn.execute("INSERT INTO tags VALUES (1, 'red')")
    conn.close()


# -- migrate ------------------------------------------------------------------------


def test_migrate_applies_everything_and_records_it(tmp_path: Path) -> None:
    source = make_set(tmp_path, BASE)
    db = tmp_path / "app.db"
    before = datetime.now(timezone.utc)
    report = migrate(db, source)
    after = datetime.now(timezone.utc)

    assert report.state == "migrated"
    assert (report.from_version, report.to_version) == (None, 3)
    assert [(s.version, s.name, s.direction) for s in report.steps] == [
        (1, "create_notes", "up"),
        (2, "add_body", "up"),
        (3, "tags", "up"),
    ]
    assert all(s.duration_ms >= 0 for s in report.steps)
    assert report.summary().splitlines()[0] == (
        f"{db}: migrated from an empty database to version 3 (3 migration(s))"
    )

    snap = read_db(db)
    assert user_tables(db) == ["notes", "tags"]
    assert ("index", "notes_title", "notes") in [s[:3] for s in snap.schema]
    assert ("trigger", "notes_gone", "notes") in [s[:3] for s in snap.schema]
    assert snap.user_version == 3
    assert snap.ledger_columns == LEDGER_COLUMNS
    loaded = bootmigrate.load(source)
    for row, migration in zip(snap.ledger, loaded):
        version, name, checksum, applied_at, execution_ms, version_by, compatible = row
        assert (version, name, checksum) == (migration.version, migration.name, migration.checksum)
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", applied_at)
        stamp = datetime.fromisoformat(applied_at.replace("Z", "+00:00"))
        assert before.replace(microsecond=0) <= stamp <= after
        assert isinstance(execution_ms, float) and execution_ms >= 0
        assert version_by == bootmigrate.__version__
        assert compatible == 0
    assert snap.versions == (1, 2, 3)
    assert snap.rows["bootmigrate_meta"] == (("ledger_format", "1"),)


def test_all_pending_migrations_run_in_one_transaction(tmp_path: Path) -> None:
    source = make_set(tmp_path, BASE)
    conn = sqlite3.connect(tmp_path / "app.db")
    sent: list[str] = []
    conn.set_trace_callback(sent.append)
    migrate(conn, source)
    conn.set_trace_callback(None)
    conn.close()
    control = [s.split()[0].upper() for s in sent if s.split()[0].upper() in ("BEGIN", "COMMIT")]
    assert control == ["BEGIN", "COMMIT"]
    assert "BEGIN IMMEDIATE" in sent
    # every statement and every ledger row sits between the two
    begin, commit = sent.index("BEGIN IMMEDIATE"), sent.index("COMMIT")
    inside = sent[begin:commit]
    assert any(s.startswith("CREATE TRIGGER notes_gone") for s in inside)
    # main.: a temp table of the same name on a borrowed connection is never written
    assert sum(s.startswith("INSERT INTO main.bootmigrate_ledger") for s in inside) == 3


def test_second_migrate_is_up_to_date_and_writes_nothing(tmp_path: Path) -> None:
    source = make_set(tmp_path, BASE)
    db = tmp_path / "app.db"
    migrate(db, source)
    with_rows(db)
    before, state = read_db(db), file_state(db)
    report = migrate(db, source)
    assert report.state == "up-to-date"
    assert (report.from_version, report.to_version, report.steps) == (3, 3, ())
    assert report.summary() == f"{db}: up to date at version 3"
    assert read_db(db) == before
    assert file_state(db) == state


def test_target(tmp_path: Path) -> None:
    source = make_set(tmp_path, BASE)
    db = tmp_path / "app.db"
    report = migrate(db, source, target=2)
    assert (report.from_version, report.to_version) == (None, 2)
    assert read_db(db).versions == (1, 2)
    assert read_db(db).user_version == 2
    assert user_tables(db) == ["notes"]
    report = migrate(db, source)
    assert (report.from_version, report.to_version) == (2, 3)
    assert [s.version for s in report.steps] == [3]
    assert read_db(db).user_version == 3


@pytest.mark.parametrize(
    ("target", "fragment"), [(1, "below the database's version 2"), (9, "not one of")]
)
def test_invalid_target_changes_nothing(tmp_path: Path, target: int, fragment: str) -> None:
    source = make_set(tmp_path, BASE)
    db = tmp_path / "app.db"
    migrate(db, source, target=2)
    before = read_db(db)
    with pytest.raises(InvalidTarget, match=fragment):
        migrate(db, source, target=target)
    assert read_db(db) == before


def test_migrate_accepts_a_path_like_and_a_loaded_set(tmp_path: Path) -> None:
    source = make_set(tmp_path, BASE)
    report = migrate(str(tmp_path / "a.db"), bootmigrate.load(source))
    assert report.to_version == 3
    assert report.source == str(source)


def test_failure_in_third_pending_migration_changes_nothing(tmp_path: Path) -> None:
    source = make_set(tmp_path, BASE)
    db = tmp_path / "app.db"
    migrate(db, source)
    with_rows(db)
    make_set(tmp_path, BROKEN_LATER)
    before, before_bytes = read_db(db), db.read_bytes()

    with pytest.raises(StatementError) as info:
        migrate(db, source)

    error = info.value
    assert (error.filename, error.statement, error.line) == ("0006_broken.up.sql", 3, 4)
    assert "syntax error" in error.sqlite_message
    message = str(error)
    assert "'0006_broken.up.sql' statement 3 (line 4) failed" in message
    assert "rolled back" in message
    assert "CREATE TABLE broken (x TEXT,, y);" in message
    after = read_db(db)
    assert after.schema == before.schema
    assert after.rows == before.rows
    assert after.ledger == before.ledger
    assert after.user_version == before.user_version == 3
    assert db.read_bytes() == before_bytes
    assert not (tmp_path / "app.db-journal").exists()


def test_failure_on_a_new_database_leaves_no_table(tmp_path: Path) -> None:
    source = make_set(tmp_path, {**BASE, **BROKEN_LATER})
    db = tmp_path / "app.db"
    with pytest.raises(
        StatementError, match=re.escape("'0006_broken.up.sql' statement 3 (line 4)")
    ):
        migrate(db, source)
    snap = read_db(db)
    assert snap.schema == ()  # not even the ledger
    assert snap.user_version == 0


def test_runtime_error_names_the_statement(tmp_path: Path) -> None:
    # Not a syntax error: a constraint that only fails on the data.
    source = make_set(tmp_path, BASE)
    db = tmp_path / "app.db"
    migrate(db, source)
    with_rows(db)
    make_set(
        tmp_path,
        {
            "0004_unique.up.sql": "CREATE TABLE x (y);\n\n"
            "INSERT INTO tags VALUES (1, 'blue');\n"
            "CREATE UNIQUE INDEX one_tag ON tags (note_id);\n"
        },
    )
    before = read_db(db)
    with pytest.raises(StatementError) as info:
        migrate(db, source)
    assert (info.value.statement, info.value.line) == (3, 4)
    assert "UNIQUE constraint failed" in str(info.value)
    assert read_db(db) == before


def test_modified_migration_is_refused_and_nothing_changes(tmp_path: Path) -> None:
    source = make_set(tmp_path, BASE)
    db = tmp_path / "app.db"
    migrate(db, source)
    with_rows(db)
    stored = bootmigrate.load(source).get(2)
    assert stored is not None
    make_set(
        tmp_path,
        {
            "0002_add_body.up.sql": BASE["0002_add_body.up.sql"] + "-- edited after release\n",
            "0004_archive.up.sql": BROKEN_LATER["0004_archive.up.sql"],
        },
    )
    before, state = read_db(db), file_state(db)
    with pytest.raises(ModifiedMigration) as info:
        migrate(db, source)
    now = bootmigrate.load(source).get(2)
    assert now is not None
    message = str(info.value)
    assert "version 2" in message
    assert "'add_body'" in message
    assert stored.checksum[:12] in message and now.checksum[:12] in message
    assert read_db(db) == before  # 0004 was not applied either
    assert file_state(db) == state


def test_renamed_migration_is_refused(tmp_path: Path) -> None:
    source = make_set(tmp_path, BASE)
    db = tmp_path / "app.db"
    migrate(db, source)
    (source / "0003_tags.up.sql").rename(source / "0003_labels.up.sql")
    (source / "0003_tags.down.sql").rename(source / "0003_labels.down.sql")
    before = read_db(db)
    with pytest.raises(ModifiedMigration, match=r"applied as 'tags'.*file is now 'labels'"):
        migrate(db, source)
    assert read_db(db) == before


def test_the_same_files_with_crlf_and_bom_are_not_modified(tmp_path: Path) -> None:
    source = make_set(tmp_path, BASE)
    db = tmp_path / "app.db"
    migrate(db, source)
    windows = {
        name: b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode() for name, text in BASE.items()
    }
    make_set(tmp_path, windows)
    before = read_db(db)
    assert migrate(db, source).state == "up-to-date"
    assert status(db, source).up_to_date
    assert read_db(db) == before


def test_database_too_new(tmp_path: Path) -> None:
    longer = make_set(
        tmp_path,
        {**BASE, **{k: v for k, v in BROKEN_LATER.items() if "0006" not in k}},
        subdir="v2",
    )
    shorter = make_set(tmp_path, BASE, subdir="v1")
    db = tmp_path / "app.db"
    migrate(db, longer)
    before = read_db(db)
    with pytest.raises(DatabaseTooNew) as info:
        migrate(db, shorter)
    assert info.value.versions == (4, 5)
    assert str(info.value) == (
        f"{db}: the database is newer than this app: it holds version(s) 4 (archive), "
        "5 (seed), and this app knows migrations up to 3; upgrade the app (or restore the "
        "database from a backup made for this release), or restore the deleted migration "
        f"file in {str(shorter)!r}"
    )
    assert read_db(db) == before
    result = status(db, shorter)
    assert result.unknown == (4, 5)
    assert (result.current, result.head) == (5, 3)


def test_out_of_order_is_refused(tmp_path: Path) -> None:
    source = make_set(tmp_path, {k: v for k, v in BASE.items() if not k.startswith("0002")})
    db = tmp_path / "app.db"
    migrate(db, source)
    make_set(tmp_path, {k: v for k, v in BASE.items() if k.startswith("0002")})
    before = read_db(db)
    with pytest.raises(bootmigrate.OutOfOrderMigration, match="already at version 3"):
        migrate(db, source)
    assert read_db(db) == before


@pytest.mark.parametrize(
    ("tamper", "fragment"),
    [
        # a later bootmigrate upgraded the ledger's layout
        (
            "UPDATE bootmigrate_meta SET value = '2'",
            "format 2, and this bootmigrate reads format 1",
        ),
        # someone dropped the meta table by hand
        ("DROP TABLE bootmigrate_meta", "'bootmigrate_meta' does not"),
        # garbage in the format
        ("UPDATE bootmigrate_meta SET value = '0'", "unknown format"),
    ],
)
def test_ledger_of_another_format_is_refused(tmp_path: Path, tamper: str, fragment: str) -> None:
    source = make_set(tmp_path, BASE)
    db = tmp_path / "app.db"
    migrate(db, source, target=2)
    conn = sqlite3.connect(db)
    with conn:
        conn.execute(tamper)
    conn.close()
    before = read_db(db)
    for run in (lambda: migrate(db, source), lambda: status(db, source)):
        with pytest.raises(bootmigrate.LedgerError, match=re.escape(fragment)):
            run()
    assert read_db(db) == before


# -- downgrade ----------------------------------------------------------------------


def test_downgrade(tmp_path: Path) -> None:
    source = make_set(tmp_path, BASE)
    db = tmp_path / "app.db"
    migrate(db, source, target=1)
    fresh_v1 = read_db(db).schema
    migrate(db, source)
    with_rows(db)

    report = downgrade(db, source, 1)
    assert report.state == "downgraded"
    assert (report.from_version, report.to_version) == (3, 1)
    assert [(s.version, s.direction) for s in report.steps] == [(3, "down"), (2, "down")]
    snap = read_db(db)
    assert [s for s in snap.schema if not s[1].startswith("bootmigrate_")] == [
        s for s in fresh_v1 if not s[1].startswith("bootmigrate_")
    ]
    assert snap.rows["notes"] == ((1, "a"), (2, "b; c"))  # the rows survived
    assert (snap.versions, snap.user_version) == ((1,), 1)

    downgrade(db, source, 0)
    snap = read_db(db)
    assert user_tables(db) == []
    assert (snap.versions, snap.user_version) == ((), 0)
    assert migrate(db, source).to_version == 3  # and back up again


def test_downgrade_across_a_missing_down_file_is_refused(tmp_path: Path) -> None:
    source = make_set(tmp_path, {k: v for k, v in BASE.items() if k != "0002_add_body.down.sql"})
    db = tmp_path / "app.db"
    migrate(db, source)
    before = read_db(db)
    with pytest.raises(IrreversibleMigration) as info:
        downgrade(db, source, 1)
    assert "2 (add_body)" in str(info.value)
    assert read_db(db) == before
    # above it is fine
    assert downgrade(db, source, 2).to_version == 2


def test_failing_down_file_changes_nothing(tmp_path: Path) -> None:
    source = make_set(
        tmp_path, {**BASE, "0002_add_body.down.sql": "DROP INDEX notes_title;\nDROP TABLE nope;\n"}
    )
    db = tmp_path / "app.db"
    migrate(db, source)
    before = read_db(db)
    with pytest.raises(
        StatementError, match=re.escape("'0002_add_body.down.sql' statement 2 (line 2)")
    ):
        downgrade(db, source, 0)
    assert read_db(db) == before


# -- status -------------------------------------------------------------------------


def test_status_of_a_missing_file_creates_nothing(tmp_path: Path) -> None:
    source = make_set(tmp_path, BASE)
    db = tmp_path / "data" / "app.db"
    db.parent.mkdir()
    result = status(db, source)
    assert not result.exists
    assert (result.current, result.head, result.pending) == (None, 3, (1, 2, 3))
    assert list(db.parent.iterdir()) == []  # no file, no journal


def test_status_leaves_an_existing_file_exactly_as_it_was(tmp_path: Path) -> None:
    source = make_set(tmp_path, BASE)
    db = tmp_path / "app.db"
    migrate(db, source, target=2)
    with_rows_v2 = sqlite3.connect(db)
    with with_rows_v2:
        with_rows_v2.execute("INSERT INTO notes (title) VALUES ('kept')")
    with_rows_v2.close()
    state, listing = file_state(db), sorted(p.name for p in tmp_path.iterdir())

    result = status(db, source)

    assert result.exists
    assert (result.current, result.head, result.pending) == (2, 3, (3,))
    assert [a.version for a in result.applied] == [1, 2]
    assert result.applied[0].checksum == bootmigrate.load(source).migrations[0].checksum
    assert (result.unknown, result.modified, result.out_of_order) == ((), (), ())
    assert not result.up_to_date
    assert file_state(db) == state
    assert sorted(p.name for p in tmp_path.iterdir()) == listing


def test_status_of_a_database_without_a_ledger_creates_no_table(tmp_path: Path) -> None:
    db = tmp_path / "app.db"
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE legacy (x)")
    conn.commit()
    conn.close()
    state = file_state(db)
    result = status(db, make_set(tmp_path, BASE))
    assert (result.current, result.pending) == (None, (1, 2, 3))
    assert file_state(db) == state
    assert read_db(db).tables == ("legacy",)


def test_status_of_a_file_that_is_not_a_database_leaves_it_alone(tmp_path: Path) -> None:
    db = tmp_path / "notes.txt"
    db.write_text("my notes, not a database\n" * 100)
    state = file_state(db)
    with pytest.raises(bootmigrate.NotADatabase) as info:
        status(db, make_set(tmp_path, BASE))
    assert str(db) in str(info.value)
    assert "not a SQLite database" in str(info.value)
    assert file_state(db) == state


def test_status_reports_problems_without_raising(tmp_path: Path) -> None:
    source = make_set(tmp_path, BASE)
    db = tmp_path / "app.db"
    migrate(db, source)
    (source / "0001_create_notes.up.sql").write_text("CREATE TABLE notes (id INTEGER);\n")
    result = status(db, source)
    assert result.modified == (1,)
    assert len(result.problems) == 1 and "version 1" in result.problems[0]


# -- a connection the app passes in -----------------------------------------------


def borrowed(db: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(db, isolation_level="DEFERRED")
    conn.execute("PRAGMA busy_timeout = 1234")
    conn.execute("PRAGMA foreign_keys = ON")
    return conn


AS_GIVEN = ("DEFERRED", 1234, 1, False, getattr(sqlite3, "LEGACY_TRANSACTION_CONTROL", None))


def settings_of(conn: sqlite3.Connection) -> tuple[object, ...]:
    return (
        conn.isolation_level,
        conn.execute("PRAGMA busy_timeout").fetchone()[0],
        conn.execute("PRAGMA foreign_keys").fetchone()[0],
        conn.in_transaction,
        getattr(conn, "autocommit", None),  # Python 3.12+
    )


def test_borrowed_connection_is_left_open_with_its_settings(tmp_path: Path) -> None:
    db = tmp_path / "app.db"
    conn = borrowed(db)
    report = migrate(conn, make_set(tmp_path, BASE))
    assert report.to_version == 3
    assert report.database == str(db)
    assert settings_of(conn) == AS_GIVEN
    conn.execute("INSERT INTO notes (title) VALUES ('still usable')")
    conn.commit()
    conn.close()
    assert read_db(db).rows["notes"] == ((1, "still usable", ""),)
    assert read_db(db).user_version == 3


def test_borrowed_connection_settings_restored_after_a_failure(tmp_path: Path) -> None:
    db = tmp_path / "app.db"
    conn = borrowed(db)
    with pytest.raises(StatementError):
        migrate(conn, make_set(tmp_path, {**BASE, **BROKEN_LATER}))
    assert settings_of(conn) == AS_GIVEN
    conn.close()
    assert read_db(db).schema == ()


def test_status_and_downgrade_on_a_borrowed_connection(tmp_path: Path) -> None:
    db = tmp_path / "app.db"
    source = make_set(tmp_path, BASE)
    conn = borrowed(db)
    migrate(conn, source)
    assert status(conn, source).current == 3
    downgrade(conn, source, 2)
    assert settings_of(conn) == AS_GIVEN
    conn.close()
    assert read_db(db).versions == (1, 2)


def dict_rows(cursor: sqlite3.Cursor, row: tuple[object, ...]) -> dict[str, object]:
    return {column[0]: value for column, value in zip(cursor.description, row)}


def _app_connections() -> list[tuple[str, dict[str, object], dict[str, object]]]:
    """How apps open and configure the connections they hand over."""
    kinds: list[tuple[str, dict[str, object], dict[str, object]]] = [
        ("default", {}, {}),
        ("isolation_level=None", {"isolation_level": None}, {}),
        # The sqlite3 docs' own dict_factory recipe, and bytes for text.
        ("dict rows, bytes text", {}, {"row_factory": dict_rows, "text_factory": bytes}),
        ("sqlite3.Row", {}, {"row_factory": sqlite3.Row}),
    ]
    if sys.version_info >= (3, 12):
        kinds.append(("autocommit=True", {"autocommit": True}, {}))
    return kinds


@pytest.mark.parametrize(
    ("connect_kwargs", "attributes"),
    [pytest.param(c, a, id=i) for i, c, a in _app_connections()],
)
def test_connections_as_apps_configure_them(
    tmp_path: Path, connect_kwargs: dict[str, object], attributes: dict[str, object]
) -> None:
    db = tmp_path / "app.db"
    source = make_set(tmp_path, BASE)
    conn = sqlite3.connect(db, **connect_kwargs)  # type: ignore[call-overload]
    for name, value in attributes.items():
        setattr(conn, name, value)

    def attributes_of(conn: sqlite3.Connection) -> tuple[object, ...]:
        autocommit = getattr(conn, "autocommit", None)  # Python 3.12+
        return (conn.isolation_level, conn.row_factory, conn.text_factory, autocommit)

    before = attributes_of(conn)
    assert migrate(conn, source, target=2).to_version == 2
    assert migrate(conn, source).state == "migrated"
    assert migrate(conn, source).state == "up-to-date"
    assert status(conn, source).current == 3
    assert status(conn, source).applied[0].name == "create_notes"
    assert downgrade(conn, source, 1).to_version == 1
    assert attributes_of(conn) == before
    conn.execute("INSERT INTO notes (title) VALUES ('the app goes on')")
    conn.commit()
    assert not conn.in_transaction
    conn.close()
    snap = read_db(db)
    assert (snap.versions, snap.user_version) == ((1,), 1)
    assert snap.rows["notes"] == ((1, "the app goes on"),)


def test_connection_inside_a_transaction_is_refused(tmp_path: Path) -> None:
    db = tmp_path / "app.db"
    source = make_set(tmp_path, BASE)
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE app_own (x)")
    conn.commit()
    conn.execute("INSERT INTO app_own VALUES (1)")  # opens an implicit transaction
    assert conn.in_transaction
    with pytest.raises(UsageError) as info:
        migrate(conn, source)
    assert "inside a transaction" in str(info.value)
    assert "commit or roll back first" in str(info.value)
    # The caller's transaction is theirs: still open, still holding their row.
    assert conn.in_transaction
    assert conn.execute("SELECT x FROM app_own").fetchall() == [(1,)]
    conn.rollback()
    conn.close()
    assert read_db(db).tables == ("app_own",)


# -- logging and printing -------------------------------------------------------------


def test_one_info_line_per_applied_migration(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    source = make_set(tmp_path, BASE)
    with caplog.at_level(logging.INFO, logger="bootmigrate"):
        migrate(tmp_path / "app.db", source)
    infos = [r for r in caplog.records if r.levelno == logging.INFO]
    assert [r.name for r in infos] == ["bootmigrate"] * 3
    for record, name in zip(infos, ["0001_create_notes", "0002_add_body", "0003_tags"]):
        assert re.fullmatch(rf"applied {name}\.up\.sql in \d+\.\d ms", record.getMessage())
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="bootmigrate"):
        downgrade(tmp_path / "app.db", source, 2)
    assert [
        r.getMessage().split(" in ")[0] for r in caplog.records if r.levelno == logging.INFO
    ] == ["reverted 0003_tags.down.sql"]


def test_the_library_prints_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # The README promises it: an app's stdout/stderr belong to the app.
    source = make_set(tmp_path, BASE)
    db = tmp_path / "app.db"
    status(db, source)
    migrate(db, source, target=2)
    migrate(db, source)
    migrate(db, source)
    status(db, source)
    downgrade(db, source, 1)
    make_set(tmp_path, BROKEN_LATER)
    with pytest.raises(StatementError):
        migrate(db, source)
    bootmigrate.load(source)
    assert capsys.readouterr() == ("", "")


PRINTS_NOTHING = """
import logging, sys
import bootmigrate

db, source, broken = sys.argv[1:4]
bootmigrate.status(db, source)
bootmigrate.migrate(db, source)
bootmigrate.migrate(db, source)
bootmigrate.downgrade(db, source, 1)
try:
    bootmigrate.migrate(db, broken)
except bootmigrate.StatementError:
    pass
# Whatever the library logs, even a warning, stays out of an unconfigured app's stderr.
logging.getLogger("bootmigrate").warning("a warning the library might log")
if len(sys.argv) > 4:
    logging.basicConfig(level=logging.INFO, format="%(name)s %(levelname)s %(message)s")
    bootmigrate.migrate(db, source)
"""


def test_the_library_prints_nothing_in_a_fresh_process(tmp_path: Path) -> None:
    # The README's claim, checked where pytest's capture and log handlers cannot hide
    # output: a new interpreter whose app has configured no logging at all.
    source = make_set(tmp_path, BASE)
    broken = make_set(tmp_path, {**BASE, **BROKEN_LATER}, subdir="broken")
    args = [sys.executable, "-c", PRINTS_NOTHING, str(tmp_path / "a.db"), str(source), str(broken)]
    quiet = subprocess.run(args, capture_output=True, text=True, env=cli_env(), check=False)
    assert (quiet.returncode, quiet.stdout, quiet.stderr) == (0, "", "")
    # An app that configures logging gets the INFO lines: they are logged, not printed.
    loud = subprocess.run(
        [*args, "--configure"], capture_output=True, text=True, env=cli_env(), check=False
    )
    assert loud.returncode == 0, loud.stderr
    assert loud.stdout == ""
    assert "bootmigrate INFO applied 0002_add_body.up.sql in " in loud.stderr
