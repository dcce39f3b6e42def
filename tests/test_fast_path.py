"""The lock-file fast path of migrate() (bootmigrate._apply.boot): fast, never wrong.

With a ``bootmigrate.lock`` that matches the ledger, migrate() decides "up to date"
without reading a migration file. Every test here is about the other cases: whatever
disagrees must fall back to the full check, so nothing pending is hidden, and an
edited migration is still refused whenever something is pending.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

import bootmigrate
from bootmigrate._db import ledger as _ledger
from bootmigrate._source import lockfile as _lockfile
from bootmigrate._source.locate import Source, resolve
from bootmigrate._source.lockfile import LOCK_FILENAME
from dbfiles import make_set, read_db

BASE = {
    "0001_notes.up.sql": "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL);\n",
    "0001_notes.down.sql": "DROP TABLE notes;\n",
    "0002_tags.up.sql": "CREATE TABLE tags (note_id INTEGER, tag TEXT);\n"
    "CREATE INDEX tags_by_note ON tags (note_id);\n",
}
THIRD = {"0003_pinned.up.sql": "ALTER TABLE notes ADD COLUMN pinned INTEGER NOT NULL DEFAULT 0;\n"}


def write_lock(source: Path) -> None:
    (source / LOCK_FILENAME).write_text(_lockfile.render(bootmigrate.load(source)))


@pytest.fixture
def applied(tmp_path: Path) -> tuple[Path, Path]:
    """A locked source of two migrations, applied to app.db."""
    source = make_set(tmp_path, BASE)
    write_lock(source)
    db = tmp_path / "app.db"
    assert bootmigrate.migrate(db, source).state == "migrated"
    return source, db


def forbid_reading(monkeypatch: pytest.MonkeyPatch) -> None:
    def files(self: Source) -> None:
        raise AssertionError("the fast path read the migration files")

    monkeypatch.setattr(Source, "files", files)


def test_up_to_date_with_a_matching_lock_reads_no_migration_file(
    applied: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    source, db = applied
    before = read_db(db)
    forbid_reading(monkeypatch)
    report = bootmigrate.migrate(db, source)
    assert (report.state, report.from_version, report.to_version) == ("up-to-date", 2, 2)
    assert report.source == str(source)
    assert read_db(db) == before


def test_a_borrowed_connection_takes_the_fast_path_and_is_left_as_it_was(
    applied: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    source, db = applied
    forbid_reading(monkeypatch)
    conn = sqlite3.connect(db)
    try:
        assert bootmigrate.migrate(conn, source).state == "up-to-date"
        assert str(conn.isolation_level) == ""  # the default, restored
        assert not conn.in_transaction
    finally:
        conn.close()


def test_a_stale_lock_does_not_hide_a_pending_migration(applied: tuple[Path, Path]) -> None:
    source, db = applied
    make_set(source.parent, THIRD)  # added after the lock was written
    report = bootmigrate.migrate(db, source)
    assert (report.state, report.from_version, report.to_version) == ("migrated", 2, 3)
    conn = sqlite3.connect(db)
    try:
        columns = [row[1] for row in conn.execute("PRAGMA table_info(notes)")]
    finally:
        conn.close()
    assert "pinned" in columns


def test_an_edited_down_file_neither_hides_nor_refuses_anything(
    applied: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The lock's down checksum is stale: the ledger holds only up checksums, so the boot
    # still decides from the lock alone, and a pending migration still runs.
    source, db = applied
    (source / "0001_notes.down.sql").write_text("DROP TABLE IF EXISTS notes;\n")
    with monkeypatch.context() as patched:
        forbid_reading(patched)
        assert bootmigrate.migrate(db, source).state == "up-to-date"
    make_set(source.parent, THIRD)
    report = bootmigrate.migrate(db, source)
    assert (report.state, report.from_version, report.to_version) == ("migrated", 2, 3)
    assert read_db(db).versions == (1, 2, 3)
    # The lock written again (the down change accepted): the fast path holds again.
    bootmigrate.write_lock(source)
    forbid_reading(monkeypatch)
    assert bootmigrate.migrate(db, source).state == "up-to-date"


def test_an_edited_migration_is_caught_when_something_is_pending(
    applied: tuple[Path, Path],
) -> None:
    source, db = applied
    before = read_db(db)
    (source / "0001_notes.up.sql").write_text("CREATE TABLE notes (id INTEGER PRIMARY KEY);\n")
    make_set(source.parent, THIRD)
    with pytest.raises(bootmigrate.ModifiedMigration, match="notes"):
        bootmigrate.migrate(db, source)
    assert read_db(db) == before  # 0003 did not run


def test_an_edited_migration_with_a_rewritten_lock_is_caught(applied: tuple[Path, Path]) -> None:
    # The lock now agrees with the files but not with the ledger: the full check runs.
    source, db = applied
    (source / "0002_tags.up.sql").write_text("CREATE TABLE tags (note_id INTEGER);\n")
    write_lock(source)
    with pytest.raises(bootmigrate.ModifiedMigration):
        bootmigrate.migrate(db, source)


def test_status_and_verify_still_read_the_files(applied: tuple[Path, Path]) -> None:
    # What the fast path trusts (the shipped lock matches the shipped files) is what
    # status reads for itself, so an edit made behind the lock's back is reported.
    source, db = applied
    (source / "0002_tags.up.sql").write_text("CREATE TABLE tags (note_id INTEGER);\n")
    assert bootmigrate.status(db, source).modified == (2,)


def test_a_newer_database_falls_back_to_the_full_check(applied: tuple[Path, Path]) -> None:
    source, db = applied
    with sqlite3.connect(db) as conn:
        conn.execute(
            "INSERT INTO bootmigrate_ledger (version, name, checksum, applied_at, execution_ms, "
            "bootmigrate_version) VALUES (9, 'later', ?, '2026-01-01T00:00:00Z', 1, '9')",
            ("f" * 64,),  # a newer release's row: a SHA-256 like every other
        )
    conn.close()
    with pytest.raises(bootmigrate.DatabaseTooNew, match="9"):
        bootmigrate.migrate(db, source)


@pytest.mark.parametrize(
    "lock_text",
    ["", "format 99\n", "format 1\n0001 notes up\n", "format 1\nnot a lock line at all\n"],
)
def test_an_unusable_lock_falls_back_to_the_full_check(
    applied: tuple[Path, Path], lock_text: str
) -> None:
    source, db = applied
    (source / LOCK_FILENAME).write_text(lock_text)
    make_set(source.parent, THIRD)
    assert bootmigrate.migrate(db, source).to_version == 3


def test_a_locked_file_that_is_gone_falls_back(applied: tuple[Path, Path]) -> None:
    source, db = applied
    (source / "0002_tags.up.sql").unlink()
    with pytest.raises(bootmigrate.DatabaseTooNew, match="2"):
        bootmigrate.migrate(db, source)


def test_a_misnamed_file_is_still_refused_with_a_matching_lock(
    applied: tuple[Path, Path],
) -> None:
    source, db = applied
    make_set(source.parent, {"0003-pinned.up.sql": "SELECT 1;\n"})
    with pytest.raises(bootmigrate.InvalidFileName, match=r"0003_pinned\.up\.sql"):
        bootmigrate.migrate(db, source)


def test_files_that_are_not_migrations_do_not_defeat_the_fast_path(
    applied: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    source, db = applied
    make_set(source.parent, {"README.md": "notes\n", "__init__.py": "", "schema.sql": ""})
    make_set(source.parent, {"0001_notes.fixture.sql": "INSERT INTO notes VALUES (1, 'a');\n"})
    forbid_reading(monkeypatch)
    assert bootmigrate.migrate(db, source).state == "up-to-date"


def test_a_database_without_a_ledger_is_migrated(tmp_path: Path) -> None:
    source = make_set(tmp_path, BASE)
    write_lock(source)
    db = tmp_path / "app.db"
    sqlite3.connect(db).close()  # an empty file: no ledger, so the query fails
    assert bootmigrate.migrate(db, source).to_version == 2
    assert read_db(db).user_version == 2


def test_a_missing_database_is_created_and_migrated(tmp_path: Path) -> None:
    source = make_set(tmp_path, BASE)
    write_lock(source)
    db = tmp_path / "new.db"
    assert bootmigrate.migrate(db, source).to_version == 2
    assert read_db(db).tables[:2] == ("bootmigrate_ledger", "bootmigrate_meta")


def test_the_fast_path_reads_the_ledger_format_the_ledger_writes() -> None:
    # The boot's query lives beside the writer it must agree with, and asks for its format.
    assert _ledger.BOOT_PARAMETERS[0] == str(_ledger.LEDGER_FORMAT)
    assert "bootmigrate_ledger" in _ledger.BOOT_QUERY and "ledger_format" in _ledger.BOOT_QUERY


def test_a_ledger_of_another_format_falls_back_and_is_refused(
    applied: tuple[Path, Path],
) -> None:
    source, db = applied
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE bootmigrate_meta SET value = '99' WHERE key = 'ledger_format'")
    conn.close()
    with pytest.raises(bootmigrate.LedgerError, match="99"):
        bootmigrate.migrate(db, source)


def test_a_target_skips_the_fast_path(applied: tuple[Path, Path]) -> None:
    source, db = applied
    with pytest.raises(bootmigrate.InvalidTarget):
        bootmigrate.migrate(db, source, target=1)


@pytest.mark.parametrize(
    ("text", "number", "line", "sql"),
    [
        # ';' inside strings and a trigger body, comments before the failing statement
        (
            "CREATE TABLE a (x TEXT);\nINSERT INTO a VALUES ('1;2');\n"
            "CREATE TRIGGER t AFTER INSERT ON a BEGIN SELECT 1; SELECT 2; END;\n"
            "-- the next one fails\n/* really */ INSERT INTO nowhere VALUES (1);\n",
            4,
            5,
            "INSERT INTO nowhere VALUES (1);",
        ),
        # a last statement without ';' after an empty statement
        ("CREATE TABLE a (x);\n;\n\nINSERT INTO nowhere VALUES (2)", 2, 4, None),
        # the first statement
        ("\n\nSELECT * FROM nowhere;", 1, 3, "SELECT * FROM nowhere;"),
    ],
)
def test_a_failing_statement_is_named_by_number_and_line(
    tmp_path: Path, text: str, number: int, line: int, sql: str | None
) -> None:
    source = make_set(tmp_path, {"0001_data.up.sql": text})
    db = tmp_path / "app.db"
    with pytest.raises(bootmigrate.StatementError) as info:
        bootmigrate.migrate(db, source)
    message = str(info.value)
    assert f"'0001_data.up.sql' statement {number} (line {line})" in message
    assert "no such table: nowhere" in message
    if sql is not None:
        assert sql in message
    assert read_db(db).tables == ()


def big_script(rows: int, *, failing_row: int | None = None) -> str:
    """Over 1 MB, so Python 3.12+ runs it whole (executescript) before any per-statement run."""
    lines = ["CREATE TABLE events (id INTEGER PRIMARY KEY, payload TEXT NOT NULL);\n"]
    for i in range(1, rows + 1):
        table = "nowhere" if i == failing_row else "events"
        lines.append(f"INSERT INTO {table} VALUES ({i}, 'payload {i:08d}; {'x' * 60}');\n")
    return "".join(lines)


def test_a_big_data_migration_runs_in_the_runners_transaction(tmp_path: Path) -> None:
    source = make_set(tmp_path, {**BASE, "0003_events.up.sql": big_script(15_000)})
    db = tmp_path / "app.db"
    report = bootmigrate.migrate(db, source)
    assert (report.state, report.to_version) == ("migrated", 3)
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*), max(id) FROM events").fetchone() == (15_000, 15_000)
        assert [row[0] for row in conn.execute("SELECT version FROM bootmigrate_ledger")] == [
            1,
            2,
            3,
        ]
    conn.close()


def test_a_failing_statement_of_a_big_migration_is_named_and_nothing_is_kept(
    tmp_path: Path,
) -> None:
    script = big_script(15_000, failing_row=9000)
    source = make_set(tmp_path, {**BASE, "0003_events.up.sql": script})
    db = tmp_path / "app.db"
    with pytest.raises(bootmigrate.StatementError) as info:
        bootmigrate.migrate(db, source)
    # statement 1 is CREATE TABLE (line 1); row 9000 is statement 9001 on line 9001
    assert "'0003_events.up.sql' statement 9001 (line 9001)" in str(info.value)
    assert "no such table: nowhere" in str(info.value)
    assert read_db(db).tables == ()  # 0001 and 0002 of the same run were rolled back too


def test_a_big_migration_with_rollback_conflict_handling_is_located(tmp_path: Path) -> None:
    # INSERT OR ROLLBACK ends the whole transaction on a conflict; the statement is still named.
    script = big_script(15_000) + "INSERT OR ROLLBACK INTO events VALUES (5, 'again');\n"
    source = make_set(tmp_path, {**BASE, "0003_events.up.sql": script})
    db = tmp_path / "app.db"
    with pytest.raises(bootmigrate.StatementError, match=r"statement 15002 \(line 15002\)"):
        bootmigrate.migrate(db, source)
    assert read_db(db).tables == ()


def test_a_borrowed_connection_gets_its_transaction_settings_back(tmp_path: Path) -> None:
    source = make_set(tmp_path, {**BASE, "0003_events.up.sql": big_script(15_000)})
    conn = sqlite3.connect(tmp_path / "app.db")
    try:
        settings = (conn.isolation_level, getattr(conn, "autocommit", None))
        assert bootmigrate.migrate(conn, source).to_version == 3
        assert (conn.isolation_level, getattr(conn, "autocommit", None)) == settings
        conn.execute("INSERT INTO events VALUES (0, 'legacy transaction control')")
        assert conn.in_transaction  # the default: an implicit BEGIN before DML, as before
        conn.rollback()
    finally:
        conn.close()


def test_a_lock_with_windows_line_endings_takes_the_fast_path(
    applied: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    source, db = applied
    lock = source / LOCK_FILENAME
    lock.write_bytes(lock.read_bytes().replace(b"\n", b"\r\n"))
    forbid_reading(monkeypatch)
    assert bootmigrate.migrate(db, source).state == "up-to-date"


def test_a_package_source_on_disk_takes_the_fast_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = tmp_path / "site" / "fastpathapp"
    source = make_set(package, BASE)
    (package / "__init__.py").write_text("")
    (source / "__init__.py").write_text("")
    write_lock(source)
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    db = tmp_path / "app.db"
    assert bootmigrate.migrate(db, "fastpathapp:migrations").to_version == 2
    # read through the package's own directory, the one importlib.resources would give
    resolved = resolve("fastpathapp:migrations")
    assert resolved.description == "fastpathapp:migrations"
    assert sorted(resolved.names()) == sorted([*BASE, "__init__.py", LOCK_FILENAME])
    forbid_reading(monkeypatch)
    report = bootmigrate.migrate(db, "fastpathapp:migrations")
    assert (report.state, report.source) == ("up-to-date", "fastpathapp:migrations")
