"""A dry run that runs: ``rehearse``, ``verify`` and ``up --dry-run`` run the pending
migrations on a scratch copy of the database, and the database itself stays byte for byte
as it was (main file and ``-wal``)."""

from __future__ import annotations

import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

import bootmigrate
from dbfiles import make_set, read_db
from processes import cli_env, run_cli

FILES = {
    "0001_notes.up.sql": "CREATE TABLE notes (id INTEGER PRIMARY KEY, title TEXT);\n",
    "0002_seed.up.sql": "INSERT INTO notes (title) VALUES ('one'), ('two');\n",
    "0003_tags.up.sql": "CREATE TABLE tags (note_id INTEGER, tag TEXT);\n",
    "0004_index.up.sql": "CREATE INDEX tags_note ON tags (note_id);\n",
    "0005_pinned.up.sql": "ALTER TABLE notes ADD COLUMN pinned INTEGER NOT NULL DEFAULT 0;\n",
}
# Pending 0006: its second statement is a syntax error that no file check can see.
BROKEN = {
    "0006_archive.up.sql": (
        "CREATE TABLE archive (id INTEGER PRIMARY KEY);\n"
        "-- copy the old notes\n"
        "INSERT INTO archive (id) SELEC id FROM notes;\n"
    )
}
BROKEN_PROBLEM = "'0006_archive.up.sql' statement 2 (line 3) failed: near \"SELEC\": syntax error"


def cli(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return run_cli([str(a) for a in args], cwd=cwd, env=cli_env())


def files_of(db: Path) -> dict[str, bytes]:
    """The bytes of the database file and its -wal: what 'not changed' means."""
    return {
        path.name: path.read_bytes()
        for path in (db, db.with_name(db.name + "-wal"))
        if path.exists()
    }


@pytest.fixture
def wal_db(tmp_path: Path) -> Iterator[Path]:
    """A WAL database at version 5 whose last transaction is only in its -wal: a
    connection stays open (no checkpoint) for the whole test."""
    source = make_set(tmp_path, FILES)
    db = tmp_path / "app.db"
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA wal_autocheckpoint = 0")
    bootmigrate.migrate(conn, source)
    conn.execute("INSERT INTO notes (title) VALUES ('only in the wal')")
    assert (tmp_path / "app.db-wal").stat().st_size > 0
    yield db
    conn.close()


def test_a_syntax_error_in_a_pending_file_is_found_and_the_database_is_untouched(
    tmp_path: Path, wal_db: Path
) -> None:
    source = make_set(tmp_path, BROKEN)
    before = files_of(wal_db)
    assert set(before) == {"app.db", "app.db-wal"}

    with pytest.raises(bootmigrate.StatementError) as info:
        bootmigrate.rehearse(wal_db, source)
    assert str(info.value) == (
        f"{BROKEN_PROBLEM}; dry run on a copy, {wal_db} was not changed. "
        "Statement: INSERT INTO archive (id) SELEC id FROM notes;"
    )
    assert (info.value.filename, info.value.statement, info.value.line) == (
        "0006_archive.up.sql",
        2,
        3,
    )
    assert files_of(wal_db) == before

    # verify: the problem, not "ok: 6 migration file(s) valid".
    result = bootmigrate.verify(wal_db, source)
    assert not result.ok
    assert result.problems == (str(info.value),)
    cli_verify = cli("--db", wal_db, "--source", source, "verify", cwd=tmp_path)
    assert cli_verify.returncode == 1
    assert cli_verify.stdout == ""
    assert cli_verify.stderr == f"bootmigrate: error: {info.value}\n"

    dry = cli("--db", wal_db, "--source", source, "up", "--dry-run", cwd=tmp_path)
    assert dry.returncode == 1
    assert dry.stderr == f"bootmigrate: error: {info.value}\n"
    assert "Traceback" not in dry.stderr
    assert files_of(wal_db) == before
    assert read_db(wal_db).versions == (1, 2, 3, 4, 5)


def test_a_dry_run_reports_each_step_with_its_time_and_changes_nothing(
    tmp_path: Path, wal_db: Path
) -> None:
    source = make_set(
        tmp_path,
        {
            "0006_archive.up.sql": "CREATE TABLE archive (id INTEGER PRIMARY KEY);\n",
            "0007_fill.up.sql": "INSERT INTO archive (id) SELECT id FROM notes;\n",
        },
    )
    before = files_of(wal_db)
    report = bootmigrate.rehearse(wal_db, source)
    assert report.dry_run is True
    assert (report.database, report.state, report.from_version, report.to_version) == (
        str(wal_db),
        "migrated",
        5,
        7,
    )
    assert [step.label for step in report.steps] == ["0006_archive", "0007_fill"]
    assert all(step.duration_ms >= 0 for step in report.steps)
    assert report.backup is None
    lines = report.summary().splitlines()
    assert lines[0] == (
        f"{wal_db}: would migrate from version 5 to 7 (2 migration(s)); dry run on a copy, "
        f"{wal_db} was not changed"
    )
    assert [line.split()[:2] for line in lines[1:]] == [["up", "0006_archive"], ["up", "0007_fill"]]
    assert files_of(wal_db) == before

    result = bootmigrate.verify(wal_db, source)
    assert result.ok, result.problems
    assert result.dry_run is not None and len(result.dry_run.steps) == 2
    assert result.summary() == (
        f"ok: 7 migration file(s) valid; {wal_db} is at version 5, 2 pending (ran without error "
        "on a copy of the database)"
    )

    dry = cli("--db", wal_db, "--source", source, "up", "--dry-run", "--to", "6", cwd=tmp_path)
    assert dry.returncode == 0, dry.stderr
    assert dry.stdout.startswith(
        f"{wal_db}: would migrate from version 5 to 6 (1 migration(s)); dry run on a copy"
    )
    assert "\n-- 0006_archive.up.sql\nCREATE TABLE archive (id INTEGER PRIMARY KEY);\n" in (
        dry.stdout
    )
    assert "0007_fill" not in dry.stdout
    assert files_of(wal_db) == before
    assert read_db(wal_db).versions == (1, 2, 3, 4, 5)


def test_a_migration_that_fails_only_on_rows_is_found(tmp_path: Path, wal_db: Path) -> None:
    # Valid SQL, and fine on an empty table: only the rows 0002 inserted refuse it.
    source = make_set(
        tmp_path, {"0006_owner.up.sql": "ALTER TABLE notes ADD COLUMN owner TEXT NOT NULL;\n"}
    )
    with pytest.raises(bootmigrate.StatementError) as info:
        bootmigrate.rehearse(wal_db, source)
    assert "Cannot add a NOT NULL column with default value NULL" in str(info.value)
    assert str(info.value).startswith("'0006_owner.up.sql' statement 1 (line 1) failed: ")


def test_the_copy_keeps_the_page_size_journal_mode_and_header(tmp_path: Path) -> None:
    source = make_set(tmp_path, FILES)
    db = tmp_path / "app.db"
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA page_size = 8192")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA application_id = 42")
    conn.close()
    bootmigrate.migrate(db, source, target=3)
    seen: list[tuple[object, ...]] = []

    def prepare(scratch: sqlite3.Connection) -> None:
        seen.append(
            tuple(
                scratch.execute(f"PRAGMA {name}").fetchone()[0]
                for name in ("page_size", "journal_mode", "application_id", "user_version")
            )
        )
        assert scratch.execute("PRAGMA database_list").fetchone()[2] != str(db)

    report = bootmigrate.rehearse(db, source, prepare=prepare)
    assert seen == [(8192, "wal", 42, 3)]
    assert [step.version for step in report.steps] == [4, 5]


def test_a_no_transaction_step_runs_on_the_copy(tmp_path: Path, wal_db: Path) -> None:
    source = make_set(
        tmp_path,
        {
            "0006_vacuum.up.sql": "-- bootmigrate: no-transaction\nVACUUM;\n",
            "0007_bad.up.sql": "-- bootmigrate: no-transaction\nCREATE TABLE b (x);\nNOPE;\n",
        },
    )
    before = files_of(wal_db)
    with pytest.raises(bootmigrate.StatementError) as info:
        bootmigrate.rehearse(wal_db, source)
    # The state of the copy (0007 partly applied) is not the database's.
    assert info.value.state == f"dry run on a copy, {wal_db} was not changed"
    assert str(info.value).startswith("'0007_bad.up.sql' statement 2 (line 3) failed: ")
    assert [step.version for step in bootmigrate.rehearse(wal_db, source, target=6).steps] == [6]
    assert files_of(wal_db) == before


def test_a_missing_database_is_rehearsed_as_a_new_one_and_not_created(tmp_path: Path) -> None:
    source = make_set(tmp_path, FILES)
    db = tmp_path / "new.db"
    report = bootmigrate.rehearse(db, source)
    assert (report.from_version, report.to_version, len(report.steps)) == (None, 5, 5)
    assert not db.exists()
    assert list(tmp_path.iterdir()) == [source]

    result = bootmigrate.verify(db, source)
    assert result.ok and result.dry_run is not None and len(result.dry_run.steps) == 5
    assert not db.exists()

    # A file in a directory that does not exist: what the real run would say.
    with pytest.raises(bootmigrate.DatabaseUnavailable) as info:
        bootmigrate.rehearse(tmp_path / "no" / "app.db", source)
    assert str(info.value) == (
        f"{tmp_path / 'no' / 'app.db'}: cannot open the database (the directory "
        f"{str(tmp_path / 'no')!r} does not exist; create it first)"
    )


def test_nothing_pending_runs_nothing(tmp_path: Path, wal_db: Path) -> None:
    source = tmp_path / "migrations"
    report = bootmigrate.rehearse(wal_db, source)
    assert (report.state, report.steps, report.dry_run) == ("up-to-date", (), True)
    assert report.summary() == f"{wal_db}: up to date at version 5; dry run, nothing would run"
    result = bootmigrate.verify(wal_db, source)
    assert result.dry_run is None
    assert result.summary() == f"ok: 5 migration file(s) valid; {wal_db} is at version 5, 0 pending"


def test_a_plan_error_is_the_one_migrate_raises(tmp_path: Path, wal_db: Path) -> None:
    source = tmp_path / "migrations"
    (source / "0002_seed.up.sql").write_text("INSERT INTO notes (title) VALUES ('edited');\n")
    with pytest.raises(bootmigrate.ModifiedMigration) as info:
        bootmigrate.rehearse(wal_db, source)
    assert "version 2 applied as 'seed'" in str(info.value)
    assert str(wal_db) in str(info.value)  # named as the caller named it, not the copy


def test_a_borrowed_connection_is_copied_and_left_as_it_was(tmp_path: Path) -> None:
    source = make_set(tmp_path, FILES)
    db = tmp_path / "app.db"
    bootmigrate.migrate(db, source, target=3)
    make_set(tmp_path, {"0006_up.up.sql": "UPDATE notes SET title = shout(title);\n"})
    conn = sqlite3.connect(db)
    conn.create_function("shout", 1, str.upper)
    try:
        before = files_of(db)
        # The copy is another connection: the app's functions come through prepare.
        report = bootmigrate.rehearse(
            conn, source, prepare=lambda c: c.create_function("shout", 1, str.upper)
        )
        assert [step.version for step in report.steps] == [4, 5, 6]
        assert report.database == str(db)
        assert conn.execute("SELECT title FROM notes ORDER BY id").fetchall() == [
            ("one",),
            ("two",),
        ]
        assert not conn.in_transaction
        assert files_of(db) == before
        with pytest.raises(bootmigrate.StatementError, match="no such function: shout"):
            bootmigrate.rehearse(conn, source)
    finally:
        conn.close()
