"""The commands that write files beside the migrations, called as library functions."""

from __future__ import annotations

import os
import re
import sqlite3
import sys
from pathlib import Path

import pytest

import bootmigrate
from bootmigrate._schema.snapshot import render_snapshot, schema_at
from bootmigrate._source.lockfile import parse
from bootmigrate.testing import MigrationKit

LOCK = "bootmigrate.lock"


def names(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


def package_source(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A 'pkg:folder' source on sys.path: resources, not a directory to write into."""
    folder = tmp_path / "pkg_authoring" / "migrations"
    folder.mkdir(parents=True)
    (tmp_path / "pkg_authoring" / "__init__.py").write_text("", encoding="utf-8")
    (folder / "0001_a.up.sql").write_text("CREATE TABLE a (x);\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    # Each test imports its own copy, not the one an earlier test left in sys.modules.
    monkeypatch.delitem(sys.modules, "pkg_authoring", raising=False)
    return "pkg_authoring:migrations"


# -- new_migration --------------------------------------------------------------------


def test_new_migration_writes_the_next_numbered_pair(example_set):
    up, down = bootmigrate.new_migration(example_set, "add_due_date")
    assert (up, down) == (
        example_set / "0004_add_due_date.up.sql",
        example_set / "0004_add_due_date.down.sql",
    )
    assert up.read_text(encoding="utf-8") == "-- 0004_add_due_date: write the change here.\n"
    assert down.read_text(encoding="utf-8").startswith("-- 0004_add_due_date: write here how")
    # Comments only: the set refuses the pair until it holds SQL.
    with pytest.raises(bootmigrate.EmptyMigration):
        bootmigrate.load(example_set)


def test_new_migration_in_an_empty_directory_and_after_wide_versions(make_set_in, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    up, _ = bootmigrate.new_migration(str(empty), "first")
    assert up.name == "0001_first.up.sql"
    wide = make_set_in({"20240101_start.up.sql": "SELECT 1;"}, subdir="wide")
    up, down = bootmigrate.new_migration(wide, "next")
    assert (up.name, down.name) == ("20240102_next.up.sql", "20240102_next.down.sql")


@pytest.mark.parametrize("name", ["AddColumn", "add-column", "add column", "", "ünïcode"])
def test_new_migration_refuses_a_bad_name(example_set, name):
    before = names(example_set)
    with pytest.raises(bootmigrate.UsageError, match="lower-case letters, digits and '_'"):
        bootmigrate.new_migration(example_set, name)
    assert names(example_set) == before


def test_new_migration_refuses_a_package_source(tmp_path, monkeypatch):
    spec = package_source(tmp_path, monkeypatch)
    with pytest.raises(bootmigrate.UsageError, match="'new' writes files, so it needs a directory"):
        bootmigrate.new_migration(spec, "x")
    assert names(tmp_path / "pkg_authoring" / "migrations") == ["0001_a.up.sql"]


def test_new_migration_in_a_missing_directory(tmp_path):
    with pytest.raises(bootmigrate.SourceNotFound):
        bootmigrate.new_migration(tmp_path / "nowhere", "x")
    assert not (tmp_path / "nowhere").exists()


# -- write_lock -----------------------------------------------------------------------


def test_write_lock_locks_every_up_and_down_file(example_set):
    written = bootmigrate.write_lock(example_set)
    assert written.path == example_set / LOCK
    assert os.fspath(written) == str(example_set / LOCK)
    assert (
        written.summary() == f"wrote {example_set / LOCK}: 3 migration(s) locked, up to version 3"
    )
    entries = parse(written.path.read_text(encoding="utf-8"))
    assert [(e.version, e.kind) for e in entries] == [
        (1, "up"),
        (1, "down"),
        (2, "up"),
        (2, "down"),
        (3, "up"),
    ]
    assert bootmigrate.check_lock(example_set).ok


def test_write_lock_takes_new_migrations_in(example_set):
    bootmigrate.write_lock(example_set)
    (example_set / "0004_more.up.sql").write_text("CREATE TABLE more (x);\n", encoding="utf-8")
    assert bootmigrate.check_lock(example_set).unlocked == (4,)
    assert "4 migration(s) locked, up to version 4" in bootmigrate.write_lock(example_set).summary()
    assert bootmigrate.check_lock(example_set).unlocked == ()


def test_write_lock_refuses_to_bless_a_changed_release(example_set):
    bootmigrate.write_lock(example_set)
    before = (example_set / LOCK).read_bytes()
    with (example_set / "0002_add_updated_at.up.sql").open("a", encoding="utf-8") as f:
        f.write("CREATE INDEX notes_updated ON notes (updated_at);\n")
    (example_set / "0001_create_notes.down.sql").unlink()
    with pytest.raises(bootmigrate.SourceError) as refused:
        bootmigrate.write_lock(example_set)
    lines = str(refused.value).splitlines()
    assert len(lines) == 3
    assert lines[0] == (
        f"{LOCK}: version 1 (create_notes): the locked down file is gone; restore it"
    )
    assert lines[1].startswith(f"{LOCK}: '0002_add_updated_at.up.sql' changed after it was locked")
    assert lines[2] == (
        f"{LOCK} not written; restore the locked files, or delete {example_set / LOCK} first "
        "if rewriting released history is intended"
    )
    assert (example_set / LOCK).read_bytes() == before
    # Deleting the lock first is the deliberate way through.
    (example_set / LOCK).unlink()
    bootmigrate.write_lock(example_set)
    assert bootmigrate.check_lock(example_set).ok


def test_write_lock_refuses_a_package_source(tmp_path, monkeypatch):
    spec = package_source(tmp_path, monkeypatch)
    with pytest.raises(
        bootmigrate.UsageError, match=re.escape(f"'lock' writes {LOCK}, so it needs a directory")
    ):
        bootmigrate.write_lock(spec)


# -- write_schema_snapshot ------------------------------------------------------------


def test_write_schema_snapshot_writes_the_head_schema(example_set):
    written = bootmigrate.write_schema_snapshot(example_set)
    assert written.path == example_set / "schema.sql"
    migrations = bootmigrate.load(example_set)
    assert written.path.read_text(encoding="utf-8") == render_snapshot(schema_at(migrations), 3)
    assert written.summary() == (
        f"wrote {example_set / 'schema.sql'}: the schema at version 3 (2 table(s), "
        "1 index(es), 1 trigger(s), 0 view(s))"
    )
    # schema.sql is not mistaken for a migration, and the kit's snapshot check agrees.
    assert bootmigrate.load(example_set).versions == (1, 2, 3)
    MigrationKit(example_set).check_snapshot()


def test_write_schema_snapshot_of_an_empty_source(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    written = bootmigrate.write_schema_snapshot(empty)
    assert "the schema at version 0 (0 table(s)" in written.summary()
    assert written.path.read_text(encoding="utf-8").startswith(
        "-- The canonical schema of a database migrated from empty to version 0."
    )


def test_write_schema_snapshot_calls_prepare(make_set_in):
    source = make_set_in(
        {"0001_t.up.sql": "CREATE TABLE t (x TEXT);\nINSERT INTO t VALUES (shout('a'));\n"}
    )
    with pytest.raises(bootmigrate.StatementError, match="no such function: shout"):
        bootmigrate.write_schema_snapshot(source)
    assert not (source / "schema.sql").exists()

    def prepare(conn: sqlite3.Connection) -> None:
        conn.create_function("shout", 1, str.upper)

    written = bootmigrate.write_schema_snapshot(source, prepare=prepare)
    assert "table t" in written.path.read_text(encoding="utf-8")


def test_write_schema_snapshot_refuses_a_package_source(tmp_path, monkeypatch):
    spec = package_source(tmp_path, monkeypatch)
    with pytest.raises(
        bootmigrate.UsageError, match=re.escape("writes schema.sql, so it needs a directory")
    ):
        bootmigrate.write_schema_snapshot(spec)
