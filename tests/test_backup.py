"""``migrate(..., backup=True)``: an online backup next to the database before applying."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path
from typing import NamedTuple

import pytest

import bootmigrate
from bootmigrate.testing._fingerprint import fingerprint
from dbfiles import make_set, read_db
from processes import finish, run, run_cli, start, wait_for

FILES = {
    "0001_note.up.sql": "CREATE TABLE note (id INTEGER PRIMARY KEY, body TEXT);\n",
    "0002_seed.up.sql": "INSERT INTO note (body) VALUES ('one'), ('two');\n",
    "0003_tag.up.sql": "CREATE TABLE tag (name TEXT);\n",
    "0004_more.up.sql": "ALTER TABLE note ADD COLUMN pinned INTEGER;\n",
}


def _backups(db: Path) -> list[Path]:
    return sorted(db.parent.glob(f"{db.name}.*.bootmigrate-backup"))


@pytest.mark.process
def test_a_backup_of_the_database_before_the_run(tmp_path: Path) -> None:
    source = make_set(tmp_path, FILES)
    db = tmp_path / "app.db"
    bootmigrate.migrate(db, source, target=2)
    db.chmod(0o640)
    before, rows = read_db(db), fingerprint(db)
    code, result = run("boot", [db, source, "--backup"])  # as the app would, in a process
    assert code == 0 and result["to"] == 4, result
    (backup,) = _backups(db)
    assert backup.name.startswith("app.db.") and backup.name.endswith("-v2.bootmigrate-backup")
    assert read_db(backup) == before and fingerprint(backup) == rows
    assert backup.stat().st_mode & 0o777 == 0o640
    assert read_db(db).versions == (1, 2, 3, 4)
    # Nothing pending: no backup.
    assert bootmigrate.migrate(db, source, backup=True).state == "up-to-date"
    assert _backups(db) == [backup]
    # No temporary file is left behind.
    assert sorted(p.name for p in tmp_path.iterdir() if "backup" in p.name) == [backup.name]


def test_only_the_newest_backups_are_kept(tmp_path: Path) -> None:
    source = make_set(tmp_path, FILES)
    db = tmp_path / "app.db"
    for target in (1, 2, 3, 4):
        bootmigrate.migrate(db, source, target=target, backup=True, backup_keep=2)
    names = [p.name for p in _backups(db)]
    assert len(names) == 2
    assert names[0].endswith("-v2.bootmigrate-backup")
    assert names[1].endswith("-v3.bootmigrate-backup")
    assert read_db(tmp_path / names[1]).versions == (1, 2, 3)


def test_the_backup_of_a_wal_database_holds_what_is_only_in_the_wal(tmp_path: Path) -> None:
    source = make_set(tmp_path, FILES)
    db = tmp_path / "app.db"
    app = sqlite3.connect(db, isolation_level=None)
    app.execute("PRAGMA journal_mode = wal")
    app.execute("PRAGMA wal_autocheckpoint = 0")  # keep the rows in the -wal file
    bootmigrate.migrate(app, source, target=2)
    app.execute("INSERT INTO note (body) VALUES ('only in the wal')")
    assert Path(f"{db}-wal").stat().st_size > 0
    main_only = tmp_path / "main-only.db"
    shutil.copyfile(db, main_only)  # the main file without its -wal
    plain = sqlite3.connect(main_only)
    assert plain.execute("SELECT name FROM sqlite_master WHERE name = 'note'").fetchall() == []
    plain.close()
    expected = fingerprint(app)

    bootmigrate.migrate(db, source, backup=True)  # the app's connection stays open
    (backup,) = _backups(db)
    assert fingerprint(backup) == expected
    assert ("only in the wal",) in {row[1:2] for row in read_db(backup).rows["note"]}
    app.close()


class _Usage(NamedTuple):
    total: int
    used: int
    free: int


def test_no_room_for_the_backup_is_disk_full_before_any_work(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = make_set(tmp_path, FILES)
    db = tmp_path / "app.db"
    bootmigrate.migrate(db, source, target=2)
    before = read_db(db)
    # A real nearly full disk needs root to make; the check only asks disk_usage.
    monkeypatch.setattr(shutil, "disk_usage", lambda _: _Usage(10**9, 10**9, 4096))
    with pytest.raises(bootmigrate.DiskFull) as info:
        bootmigrate.migrate(db, source, backup=True)
    message = str(info.value)
    assert "the disk is full" in message and "a backup needs about" in message
    assert "4096 free" in message and "nothing was migrated" in message
    assert read_db(db) == before and _backups(db) == []


def test_a_backup_needs_a_database_file(tmp_path: Path) -> None:
    source = make_set(tmp_path, FILES)
    conn = sqlite3.connect(":memory:")
    with pytest.raises(bootmigrate.UsageError, match="needs a database file"):
        bootmigrate.migrate(conn, source, backup=True)
    with pytest.raises(bootmigrate.UsageError, match="backup_keep must be 1 or more"):
        bootmigrate.migrate(tmp_path / "app.db", source, backup=True, backup_keep=0)
    assert not (tmp_path / "app.db").exists()
    assert conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()[0] == 0
    conn.close()


def test_the_cli_takes_a_backup(tmp_path: Path) -> None:
    source = make_set(tmp_path, FILES)
    db = tmp_path / "app.db"
    for target in ("1", "2", "3"):
        done = run_cli(["--db", db, "--source", source, "up", "--to", target, "--backup", "2"])
        assert done.returncode == 0, done.stderr
    names = [p.name for p in _backups(db)]
    assert len(names) == 2
    assert names[0].endswith("-v1.bootmigrate-backup")
    assert names[1].endswith("-v2.bootmigrate-backup")
    refused = run_cli(["--db", db, "--source", source, "up", "--backup", "0"])
    assert refused.returncode == 1 and "backup_keep must be 1 or more" in refused.stderr
    assert read_db(db).versions == (1, 2, 3)


@pytest.mark.process
def test_processes_booting_together_keep_the_backup_of_the_old_version(tmp_path: Path) -> None:
    """The backup is taken under the write lock: losers of the race take none."""
    source = make_set(tmp_path, FILES)
    db = tmp_path / "app.db"
    bootmigrate.migrate(db, source, target=2)
    before = read_db(db)
    go = tmp_path / "go"
    workers = [
        start("boot", [db, source, "--backup", "--ready", tmp_path / f"r{i}", "--go", go])
        for i in range(4)
    ]
    for i, process in enumerate(workers):
        wait_for(tmp_path / f"r{i}", process)
    go.touch()
    results = [finish(process) for process in workers]
    assert [code for code, _ in results] == [0] * 4, results
    (backup,) = _backups(db)
    assert read_db(backup) == before
