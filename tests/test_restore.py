"""Backups you can use: ``Report.backup`` names the backup a run made, and
``bootmigrate.restore`` / ``bootmigrate restore`` put it back, atomically, refusing while
another process holds the database. Real files, reopened through new connections."""

from __future__ import annotations

import sqlite3
import subprocess
from pathlib import Path

import pytest

import bootmigrate
from bootmigrate.testing._fingerprint import fingerprint
from dbfiles import make_set, read_db
from processes import cli_env, run_cli, start, wait_for

FILES = {
    "0001_note.up.sql": "CREATE TABLE note (id INTEGER PRIMARY KEY, body TEXT);\n",
    "0002_seed.up.sql": "INSERT INTO note (body) VALUES ('one'), ('two');\n",
    "0003_tag.up.sql": "CREATE TABLE tag (name TEXT);\n",
    "0004_wipe.up.sql": "DELETE FROM note;\n",
}


def cli(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return run_cli([str(a) for a in args], cwd=cwd, env=cli_env())


def database_files(db: Path) -> dict[str, bytes]:
    """The bytes of the database, its -wal and its backups."""
    return {
        p.name: p.read_bytes()
        for p in [db, db.with_name(db.name + "-wal"), *backups_of(db)]
        if p.exists()
    }


def backups_of(db: Path) -> list[Path]:
    return sorted(db.parent.glob(f"{db.name}.*.bootmigrate-backup"))


@pytest.fixture
def migrated(tmp_path: Path) -> tuple[Path, Path]:
    """app.db at version 2, then migrated to 4 with a backup of version 2."""
    source = make_set(tmp_path, FILES)
    db = tmp_path / "app.db"
    bootmigrate.migrate(db, source, target=2)
    return db, source


def test_the_report_and_its_summary_name_the_backup(migrated: tuple[Path, Path]) -> None:
    db, source = migrated
    report = bootmigrate.migrate(db, source, backup=True)
    (made,) = backups_of(db)
    assert report.backup == made
    assert report.summary().splitlines()[-1] == (
        f"{db}: backed up first, at version 2, to {made} (bootmigrate restore puts it back)"
    )
    # Nothing ran: no backup, none named.
    again = bootmigrate.migrate(db, source, backup=True)
    assert again.backup is None and backups_of(db) == [made]


def test_the_cli_summary_names_the_backup(migrated: tuple[Path, Path]) -> None:
    db, source = migrated
    result = cli("--db", db, "--source", source, "up", "--backup", cwd=db.parent)
    assert result.returncode == 0, result.stderr
    (made,) = backups_of(db)
    assert f"{db}: backed up first, at version 2, to {made}" in result.stdout


def test_restore_puts_the_newest_backup_back(migrated: tuple[Path, Path]) -> None:
    db, source = migrated
    db.chmod(0o640)
    at_two, rows = read_db(db), fingerprint(db)
    report = bootmigrate.migrate(db, source, backup=True)
    assert read_db(db).rows["note"] == ()  # 0004 wiped the notes
    # Side files the old database left: a stale journal would be read into the restore.
    (db.parent / "app.db-journal").write_bytes(b"stale")
    (db.parent / "app.db-shm").write_bytes(b"stale")

    restored = bootmigrate.restore(db)
    assert restored.backup == report.backup and restored.version == 2
    assert restored.summary() == f"{db}: restored from {report.backup} (version 2)"
    assert read_db(db) == at_two and fingerprint(db) == rows
    assert db.stat().st_mode & 0o777 == 0o640
    assert not (db.parent / "app.db-journal").exists()
    assert not (db.parent / "app.db-shm").exists()
    assert report.backup is not None and report.backup.exists()  # the backup is kept
    assert not [p for p in db.parent.iterdir() if p.name.endswith("-partial")]
    assert bootmigrate.status(db, source).current == 2


def test_restore_a_named_backup_of_a_wal_database(tmp_path: Path) -> None:
    source = make_set(tmp_path, FILES)
    db = tmp_path / "app.db"
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.close()
    first = bootmigrate.migrate(db, source, target=2, backup=True).backup
    second = bootmigrate.migrate(db, source, backup=True, backup_keep=2).backup
    assert first is not None and second is not None
    assert bootmigrate.restore(db, first).version == 0
    snapshot = read_db(db)
    assert (snapshot.tables, snapshot.versions) == ((), ())
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()
    (tmp_path / "app.db-wal").write_bytes(b"frames of the file that is replaced")
    assert bootmigrate.restore(db, second).version == 2
    assert not (tmp_path / "app.db-wal").exists()
    assert read_db(db).versions == (1, 2)


def test_restore_replaces_a_damaged_database(migrated: tuple[Path, Path]) -> None:
    db, source = migrated
    bootmigrate.migrate(db, source, backup=True)
    db.write_bytes(b"this is not a database" * 100)
    bootmigrate.restore(db)
    assert read_db(db).versions == (1, 2)


def test_no_backup_found_says_where_it_looked(tmp_path: Path) -> None:
    db = tmp_path / "app.db"
    with pytest.raises(bootmigrate.RestoreError) as info:
        bootmigrate.restore(db)
    assert str(info.value) == (
        f"{db}: no backup found: looked in {str(tmp_path)!r} for files named "
        "'app.db.<UTC time>-v<version>.bootmigrate-backup'; the database was not changed; "
        "backups are made by migrate(..., backup=True) or `bootmigrate up --backup`; name "
        "another file with `bootmigrate restore BACKUP` if it was moved"
    )
    result = cli("--db", db, "restore", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr == f"bootmigrate: error: {info.value}\n"


def test_a_backup_of_another_database_is_refused(migrated: tuple[Path, Path]) -> None:
    db, source = migrated
    other = db.parent / "other.db"
    bootmigrate.migrate(other, source, target=1)
    made = bootmigrate.migrate(other, source, backup=True).backup
    assert made is not None
    before = db.read_bytes()
    with pytest.raises(bootmigrate.RestoreError) as info:
        bootmigrate.restore(db, made)
    assert str(info.value) == (
        f"{db}: {str(made)!r} is not named as a backup of this database "
        "('app.db.<UTC time>-v<version>.bootmigrate-backup'): it may be the backup of "
        "another database; the database was not changed; name a backup of this database; "
        "to put another file in its place, copy it by hand with the app stopped"
    )
    assert db.read_bytes() == before


def test_a_backup_that_is_not_sqlite_is_refused(migrated: tuple[Path, Path]) -> None:
    db, _ = migrated
    fake = db.parent / "app.db.20260101T000000000000Z-v3.bootmigrate-backup"
    fake.write_text("not sqlite\n")
    before = db.read_bytes()
    with pytest.raises(bootmigrate.RestoreError) as info:
        bootmigrate.restore(db)
    assert str(info.value) == (
        f"{db}: the backup {str(fake)!r} is not a SQLite database; the database was not "
        "changed; pick another backup (bootmigrate restore BACKUP)"
    )
    # A SQLite header over a damaged body: SQLite's check refuses the copy.
    fake.write_bytes(b"SQLite format 3\x00" + b"\xff" * 4000)
    with pytest.raises(bootmigrate.NotADatabase) as damaged:
        bootmigrate.restore(db)
    assert str(damaged.value).startswith(f"{fake}: ")
    assert db.read_bytes() == before
    assert not [p for p in db.parent.iterdir() if p.name.endswith("-partial")]


def test_restore_of_a_connection_is_a_usage_error(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "app.db")
    try:
        with pytest.raises(bootmigrate.UsageError, match="pass its path, not a connection"):
            bootmigrate.restore(conn)  # type: ignore[arg-type]
    finally:
        conn.close()


@pytest.mark.process
@pytest.mark.parametrize("journal", ["delete", "wal"])
def test_restore_is_refused_while_another_process_holds_the_database(
    migrated: tuple[Path, Path], journal: str
) -> None:
    db, source = migrated
    conn = sqlite3.connect(db)
    conn.execute(f"PRAGMA journal_mode = {journal}")
    conn.close()
    bootmigrate.migrate(db, source, backup=True)
    ready = db.parent / "ready"
    holder = start("hold_lock", [db, ready, "30"])
    try:
        wait_for(ready, holder)
        before = database_files(db)
        with pytest.raises(bootmigrate.DatabaseBusy) as info:
            bootmigrate.restore(db, timeout=0.3)
        assert str(info.value) == (
            f"{db}: another process has the database open or locked (stop the app before "
            "restoring) for more than 0.3 s; close the other program or raise the timeout"
        )
        assert database_files(db) == before
        result = cli("--db", db, "--timeout", "0.3", "restore", cwd=db.parent)
        assert result.returncode == 1 and "Traceback" not in result.stderr
    finally:
        holder.kill()
        holder.communicate()
    assert read_db(db).versions == (1, 2, 3, 4)
    result = cli("--db", db, "restore", cwd=db.parent)
    assert result.returncode == 0, result.stderr
    (made,) = backups_of(db)
    assert result.stdout == f"{db}: restored from {made} (version 2)\n"
    assert read_db(db).versions == (1, 2)


@pytest.mark.process
def test_restore_is_refused_while_another_process_has_a_wal_database_open(
    migrated: tuple[Path, Path],
) -> None:
    # An app between queries: no transaction, but a WAL connection is open.
    db, source = migrated
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.close()
    bootmigrate.migrate(db, source, backup=True)
    ready = db.parent / "ready"
    holder = start("hold_open", [db, ready, "30"])
    try:
        wait_for(ready, holder)
        before = database_files(db)
        with pytest.raises(bootmigrate.DatabaseBusy) as info:
            bootmigrate.restore(db, timeout=0.3)
        assert str(info.value) == (
            f"{db}: another process has the database open or locked (stop the app before "
            "restoring) for more than 0.3 s; close the other program or raise the timeout"
        )
        assert database_files(db) == before
    finally:
        holder.kill()
        holder.communicate()
    assert bootmigrate.restore(db).version == 2
    assert read_db(db).versions == (1, 2)


def test_a_database_in_a_missing_folder_or_a_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(bootmigrate.DatabaseUnavailable) as missing:
        bootmigrate.restore(tmp_path / "no" / "app.db")
    assert str(missing.value) == (
        f"{tmp_path / 'no' / 'app.db'}: cannot open the database (the directory "
        f"{str(tmp_path / 'no')!r} does not exist; create it first)"
    )
    with pytest.raises(bootmigrate.DatabaseUnavailable, match="it is a directory"):
        bootmigrate.restore(tmp_path)
