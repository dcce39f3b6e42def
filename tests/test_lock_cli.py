"""The CLI's schema, lock and verify --schema commands, on files and databases on disk."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

import bootmigrate
from bootmigrate._cli.main import main
from bootmigrate._source.lockfile import parse
from dbfiles import read_db
from processes import run_cli


@pytest.fixture(autouse=True)
def _isolated(tmp_path, monkeypatch):
    # The CLI reads [tool.bootmigrate] from the cwd's pyproject.toml and BOOTMIGRATE_*.
    monkeypatch.chdir(tmp_path)
    for name in ("BOOTMIGRATE_DB", "BOOTMIGRATE_SOURCE", "BOOTMIGRATE_PREPARE"):
        monkeypatch.delenv(name, raising=False)


def cli(*args: str | Path) -> int:
    return main([str(a) for a in args])


def test_schema_prints_the_canonical_text_and_json(example_set, db_path, capsys):
    bootmigrate.migrate(db_path, example_set)
    assert cli("--db", db_path, "schema") == 0
    assert capsys.readouterr().out == bootmigrate.canonical_schema(db_path).to_text()
    assert cli("--db", db_path, "schema", "--json") == 0
    data = json.loads(capsys.readouterr().out)
    assert [t["name"] for t in data["tables"]] == ["notes", "tags"]


def test_schema_of_a_missing_database_is_an_error(db_path, capsys):
    assert cli("--db", db_path, "schema") == 1
    assert "does not exist" in capsys.readouterr().err
    assert not db_path.exists()


def test_schema_write_puts_the_fresh_head_schema_beside_the_migrations(example_set, db_path):
    assert cli("--source", example_set, "schema", "--write") == 0
    text = (example_set / "schema.sql").read_text(encoding="utf-8")
    assert text.startswith("-- The canonical schema of a database migrated from empty to version 3")
    bootmigrate.migrate(db_path, example_set)
    body = "".join(line + "\n" for line in text.splitlines() if not line.startswith("--"))
    assert body == bootmigrate.canonical_schema(db_path).to_text()
    # schema.sql beside the migrations is not mistaken for a migration
    assert bootmigrate.load(example_set).versions == (1, 2, 3)


def test_schema_write_needs_a_directory_source(capsys):
    assert cli("--source", "bootmigrate:.", "schema", "--write") == 1
    assert "needs a directory source" in capsys.readouterr().err


def test_lock_needs_a_directory_source(capsys):
    assert cli("--source", "bootmigrate:.", "lock") == 1
    assert (
        "'lock' writes bootmigrate.lock, so it needs a directory source" in capsys.readouterr().err
    )


def test_lock_writes_every_up_and_down_file(example_set, capsys):
    assert cli("--source", example_set, "lock") == 0
    entries = parse((example_set / "bootmigrate.lock").read_text(encoding="utf-8"))
    assert [(e.version, e.name, e.kind) for e in entries] == [
        (1, "create_notes", "up"),
        (1, "create_notes", "down"),
        (2, "add_updated_at", "up"),
        (2, "add_updated_at", "down"),
        (3, "tags", "up"),
    ]
    migrations = bootmigrate.load(example_set)
    assert entries[0].checksum == migrations.migrations[0].up.checksum
    capsys.readouterr()
    assert cli("--source", example_set, "lock", "--check") == 0
    assert "matches 3 locked migration(s)" in capsys.readouterr().out


def test_lock_check_names_an_edited_locked_migration(example_set, capsys):
    assert cli("--source", example_set, "lock") == 0
    with (example_set / "0002_add_updated_at.up.sql").open("a", encoding="utf-8") as f:
        f.write("CREATE INDEX notes_updated ON notes (updated_at);\n")
    capsys.readouterr()
    assert cli("--source", example_set, "lock", "--check") == 1
    err = capsys.readouterr().err
    assert "'0002_add_updated_at.up.sql' changed after it was locked" in err
    # plain verify checks the lock too
    assert cli("--source", example_set, "--db", "app.db", "verify") == 1
    assert "0002_add_updated_at.up.sql" in capsys.readouterr().err
    # and `lock` refuses to bless the edit
    before = (example_set / "bootmigrate.lock").read_bytes()
    assert cli("--source", example_set, "lock") == 1
    assert "not written" in capsys.readouterr().err
    assert (example_set / "bootmigrate.lock").read_bytes() == before


def test_lock_check_fails_on_a_reused_version_number(example_set, capsys):
    assert cli("--source", example_set, "lock") == 0
    (example_set / "0003_tags.up.sql").unlink()
    (example_set / "0003_labels.up.sql").write_text("CREATE TABLE labels (x);\n", encoding="utf-8")
    capsys.readouterr()
    assert cli("--source", example_set, "lock", "--check") == 1
    assert "version 3 was locked as 'tags' and is now 'labels'" in capsys.readouterr().err


def test_lock_check_accepts_a_new_unlocked_migration(example_set, capsys):
    assert cli("--source", example_set, "lock") == 0
    (example_set / "0004_more.up.sql").write_text("CREATE TABLE more (x);\n", encoding="utf-8")
    capsys.readouterr()
    assert cli("--source", example_set, "lock", "--check") == 0
    assert "not locked yet: 4" in capsys.readouterr().out


def test_lock_check_without_a_lock_file_is_an_error(example_set, capsys):
    assert cli("--source", example_set, "lock", "--check") == 1
    assert "has no bootmigrate.lock" in capsys.readouterr().err


def test_verify_schema_passes_on_an_untouched_database_at_any_version(example_set, db_path, capsys):
    bootmigrate.migrate(db_path, example_set, target=2)
    assert cli("--source", example_set, "--db", db_path, "verify", "--schema") == 0
    assert "its schema is the one of its version" in capsys.readouterr().out


def test_verify_schema_names_what_was_altered_by_hand(example_set, db_path, capsys):
    bootmigrate.migrate(db_path, example_set)
    conn = sqlite3.connect(db_path)
    conn.executescript("ALTER TABLE notes ADD COLUMN pinned INTEGER; DROP INDEX notes_title;")
    conn.close()
    assert cli("--source", example_set, "--db", db_path, "verify", "--schema") == 1
    err = capsys.readouterr().err
    assert "differs from the one version 3 should have" in err
    assert "+  column pinned INTEGER" in err
    assert "-index notes_title ON notes (title)" in err


def test_verify_schema_in_a_new_process(example_set, db_path):
    bootmigrate.migrate(db_path, example_set)
    conn = sqlite3.connect(db_path)
    conn.execute("CREATE TABLE scratch (x)")
    conn.close()
    result = run_cli(["--source", example_set, "--db", db_path, "verify", "--schema"])
    assert result.returncode == 1, result.stderr
    assert "+table scratch" in result.stderr
    assert "Traceback" not in result.stderr


def test_an_edited_down_file_is_accepted_and_locked_with_the_change_listed(
    example_set, db_path, capsys
):
    assert cli("--source", example_set, "lock") == 0
    bootmigrate.migrate(db_path, example_set)
    lock_file = example_set / "bootmigrate.lock"
    old = {(e.version, e.kind): e.checksum for e in parse(lock_file.read_text())}
    # A fix to a released down file: allowed, nothing depends on its checksum.
    down = example_set / "0001_create_notes.down.sql"
    down.write_text("DROP TABLE IF EXISTS notes;\n", encoding="utf-8")
    capsys.readouterr()

    assert cli("--source", example_set, "lock", "--check") == 0
    assert capsys.readouterr().out == (
        "ok: bootmigrate.lock matches 3 locked migration(s); down file(s) edited since the "
        "lock, which is allowed: 0001_create_notes.down.sql (run `bootmigrate lock` to "
        "record them)\n"
    )
    assert cli("--source", example_set, "--db", db_path, "verify") == 0
    capsys.readouterr()
    # The boot (one-query fast path with the stale lock, and the full path) says up to date.
    assert bootmigrate.migrate(db_path, example_set).state == "up-to-date"
    assert bootmigrate.migrate(db_path, bootmigrate.load(example_set)).state == "up-to-date"

    assert cli("--source", example_set, "lock") == 0
    assert capsys.readouterr().out == (
        f"wrote {lock_file}: 3 migration(s) locked, up to version 3\n"
        "0001_create_notes.down.sql: down file changed, checksum updated\n"
    )
    new = {(e.version, e.kind): e.checksum for e in parse(lock_file.read_text())}
    fixed = bootmigrate.load(example_set).migrations[0].down
    assert fixed is not None and new[(1, "down")] == fixed.checksum
    assert new[(1, "down")] != old[(1, "down")]
    assert {k: v for k, v in new.items() if k != (1, "down")} == {
        k: v for k, v in old.items() if k != (1, "down")
    }
    assert cli("--source", example_set, "lock", "--check") == 0
    assert capsys.readouterr().out == "ok: bootmigrate.lock matches 3 locked migration(s)\n"
    # The new down file is the one a downgrade runs (0003 has none: stop above it).
    bootmigrate.migrate(db_path, example_set, target=None)
    down.write_text("DROP TABLE IF EXISTS notes;\nCREATE TABLE undone (x);\n")
    (example_set / "0003_tags.down.sql").write_text("DROP TABLE tags;\n")
    assert cli("--source", example_set, "lock") == 0
    assert capsys.readouterr().out.splitlines()[1:] == [
        "0001_create_notes.down.sql: down file changed, checksum updated",
        "0003_tags.down.sql: down file added, checksum recorded",
    ]
    bootmigrate.downgrade(db_path, example_set, 0)
    tables = set(read_db(db_path).tables)
    assert "undone" in tables and "notes" not in tables


def test_an_edited_up_file_is_still_refused_beside_an_edited_down_file(example_set, capsys):
    assert cli("--source", example_set, "lock") == 0
    (example_set / "0001_create_notes.down.sql").write_text("DROP TABLE IF EXISTS notes;\n")
    with (example_set / "0001_create_notes.up.sql").open("a", encoding="utf-8") as f:
        f.write("CREATE INDEX notes_id ON notes (id);\n")
    before = (example_set / "bootmigrate.lock").read_bytes()
    capsys.readouterr()
    assert cli("--source", example_set, "lock") == 1
    err = capsys.readouterr().err
    assert "'0001_create_notes.up.sql' changed after it was locked" in err
    assert "down.sql" not in err
    assert (example_set / "bootmigrate.lock").read_bytes() == before
