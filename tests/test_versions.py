"""Versions up to 2**63 - 1: timestamp versions as golang-migrate, sqlx, diesel and dbmate
write them, through the runner, the ledger, the lock file, the boot, the CLI and the kit.
File-level: real database files reopened through new connections."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

import bootmigrate
from bootmigrate.testing import MigrationKit
from dbfiles import make_set, read_db
from processes import run_cli

TIMESTAMPED = {
    "20240313170000_create_notes.up.sql": "CREATE TABLE notes (id INTEGER PRIMARY KEY);\n",
    "20240313170000_create_notes.down.sql": "DROP TABLE notes;\n",
    "20240401093000_add_tags.up.sql": "CREATE TABLE tags (note_id INTEGER);\n",
    "20240401093000_add_tags.down.sql": "DROP TABLE tags;\n",
}
LARGEST = 2**63 - 1


def user_version(db: Path) -> int:
    conn = sqlite3.connect(db)
    try:
        return int(conn.execute("PRAGMA user_version").fetchone()[0])
    finally:
        conn.close()


def test_timestamp_versions_migrate_and_are_recorded_as_they_are(tmp_path: Path) -> None:
    source = make_set(tmp_path, TIMESTAMPED)
    db = tmp_path / "app.db"
    report = bootmigrate.migrate(db, source)
    assert (report.from_version, report.to_version) == (None, 20240401093000)
    assert [step.label for step in report.steps] == [
        "20240313170000_create_notes",
        "20240401093000_add_tags",
    ]
    assert read_db(db).versions == (20240313170000, 20240401093000)
    # user_version holds at most 2**31 - 1: a larger version leaves it at that value.
    assert user_version(db) == 2**31 - 1
    assert bootmigrate.status(db, source).current == 20240401093000


def test_user_version_follows_a_small_version_and_saturates_on_a_large_one(
    tmp_path: Path,
) -> None:
    source = make_set(
        tmp_path,
        {
            "0001_a.up.sql": "CREATE TABLE a (x);\n",
            "20240313170000_b.up.sql": "CREATE TABLE b (x);\n",
            "20240313170000_b.down.sql": "DROP TABLE b;\n",
        },
    )
    db = tmp_path / "app.db"
    bootmigrate.migrate(db, source, target=1)
    assert user_version(db) == 1
    bootmigrate.migrate(db, source)
    assert user_version(db) == 2**31 - 1
    bootmigrate.downgrade(db, source, 1)
    assert user_version(db) == 1


def test_the_largest_version_and_one_more(tmp_path: Path) -> None:
    source = make_set(tmp_path, {f"{LARGEST}_last.up.sql": "CREATE TABLE last (x);\n"})
    db = tmp_path / "app.db"
    assert bootmigrate.migrate(db, source).to_version == LARGEST
    assert read_db(db).versions == (LARGEST,)
    make_set(tmp_path, {f"{LARGEST + 1}_beyond.up.sql": "SELECT 1;\n"})
    with pytest.raises(bootmigrate.InvalidFileName, match="at most 9223372036854775807"):
        bootmigrate.load(source)


def test_the_lock_and_the_boot_take_timestamp_versions(tmp_path: Path) -> None:
    source = make_set(tmp_path, TIMESTAMPED)
    written = bootmigrate.write_lock(source)
    lock = written.path.read_text(encoding="utf-8")
    assert "20240313170000 create_notes up " in lock
    db = tmp_path / "app.db"
    bootmigrate.migrate(db, source)
    assert bootmigrate.check_lock(source).ok
    # The boot's one query settles it from the lock: it reads no migration file, so an
    # edit made behind the lock's back is not seen by the boot (status reads the files).
    (source / "20240313170000_create_notes.up.sql").write_text("SELECT 'edited';\n")
    assert bootmigrate.migrate(db, source).state == "up-to-date"
    assert bootmigrate.status(db, source).modified == (20240313170000,)


def test_the_cli_takes_timestamp_versions(tmp_path: Path) -> None:
    source = make_set(tmp_path, TIMESTAMPED)
    db = tmp_path / "app.db"
    common = ["--db", str(db), "--source", str(source)]
    up = run_cli([*common, "up", "--to", "20240313170000"])
    assert up.returncode == 0, up.stderr
    assert "to version 20240313170000" in up.stdout
    status = run_cli([*common, "status", "--json"])
    data = json.loads(status.stdout)
    assert (data["current"], data["head"], data["pending"]) == (
        20240313170000,
        20240401093000,
        [20240401093000],
    )
    down = run_cli([*common, "down", "--to", "0"])
    assert down.returncode == 0, down.stderr
    assert read_db(db).versions == ()


def test_the_kit_checks_a_timestamped_set(tmp_path: Path) -> None:
    source = make_set(tmp_path, TIMESTAMPED)
    kit = MigrationKit(source)
    assert kit.versions == (0, 20240313170000, 20240401093000)
    assert kit.label(20240401093000) == "20240401093000_add_tags"
    kit.check_all(snapshot=False, lock=False)
