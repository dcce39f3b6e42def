"""The read-only checks (bootmigrate.verify, check_lock, schema_drift, dry_run) on real files."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest

import bootmigrate
from bootmigrate._source import lockfile as _lockfile
from dbfiles import file_state

LOCK = "bootmigrate.lock"


def lock(source: Path) -> None:
    """Write the lock file as `bootmigrate lock` does (without going through it)."""
    text = _lockfile.render(bootmigrate.load(source))
    (source / LOCK).write_text(text, encoding="utf-8")


def append(path: Path, text: str) -> None:
    with path.open("a", encoding="utf-8") as f:
        f.write(text)


def alter(db: Path, sql: str) -> None:
    conn = sqlite3.connect(db)
    try:
        conn.executescript(sql)
    finally:
        conn.close()


# -- verify ---------------------------------------------------------------------------


def test_verify_an_up_to_date_database(example_set, db_path):
    bootmigrate.migrate(db_path, example_set)
    before = file_state(db_path)
    result = bootmigrate.verify(db_path, example_set)
    assert result.ok
    assert result.problems == ()
    assert (result.database, result.source) == (str(db_path), str(example_set))
    assert (result.migrations, result.current, result.pending) == (3, 3, ())
    assert not result.lock_checked and not result.schema_checked
    assert (
        result.summary() == f"ok: 3 migration file(s) valid; {db_path} is at version 3, 0 pending"
    )
    assert file_state(db_path) == before


def test_verify_a_missing_database_creates_nothing(example_set, db_path):
    result = bootmigrate.verify(db_path, example_set)
    assert result.ok
    assert (result.current, result.pending) == (None, (1, 2, 3))
    assert not db_path.exists()
    # With schema: there is no schema to compare, which is a problem.
    result = bootmigrate.verify(db_path, example_set, schema=True)
    assert result.problems == (
        f"{db_path}: the database does not exist, so it has no schema to check",
    )
    assert not result.ok and not result.schema_checked
    assert not db_path.exists()


def test_verify_reports_the_lock_file(example_set, db_path):
    lock(example_set)
    bootmigrate.migrate(db_path, example_set, target=2)
    result = bootmigrate.verify(db_path, example_set)
    assert result.ok and result.lock_checked
    assert result.summary().endswith(
        "is at version 2, 1 pending (ran without error on a copy of the database); the lock "
        "file matches"
    )

    append(example_set / "0003_tags.up.sql", ";CREATE INDEX tags_tag ON tags (tag);\n")
    result = bootmigrate.verify(db_path, example_set)
    assert not result.ok
    assert len(result.problems) == 1
    assert result.problems[0].startswith(f"{LOCK}: '0003_tags.up.sql' changed after it was locked")
    assert result.summary() == result.problems[0]


def test_verify_collects_the_status_problems_and_skips_the_schema(example_set, db_path):
    bootmigrate.migrate(db_path, example_set)
    append(example_set / "0002_add_updated_at.up.sql", "CREATE INDEX b ON notes (body);\n")
    alter(db_path, "CREATE TABLE scratch (x)")  # drift that must not be reported
    result = bootmigrate.verify(db_path, example_set, schema=True)
    assert len(result.problems) == 1
    assert "changed after they ran" in result.problems[0]
    assert "scratch" not in result.summary()
    assert not result.schema_checked


def test_verify_schema_matches_at_every_version(example_set, db_path):
    for version in (1, 2, 3):
        bootmigrate.migrate(db_path, example_set, target=version)
        result = bootmigrate.verify(db_path, example_set, schema=True)
        assert result.ok, result.problems
        assert result.schema_checked
        assert result.summary().endswith("; its schema is the one of its version")


def test_verify_schema_names_the_change_made_by_hand(example_set, db_path):
    bootmigrate.migrate(db_path, example_set)
    alter(db_path, "ALTER TABLE notes ADD COLUMN pinned INTEGER; DROP INDEX notes_title;")
    (problem,) = bootmigrate.verify(db_path, example_set, schema=True).problems
    first, *diff = problem.splitlines()
    assert first == (
        f"{db_path}: the schema differs from the one version 3 should have; someone changed "
        "the database outside the migrations ('-' expected, '+' found):"
    )
    assert "+  column pinned INTEGER" in diff
    assert "-index notes_title ON notes (title)" in diff


def test_verify_schema_on_a_database_from_a_newer_release(example_set, db_path):
    newer = {"0004_extra.up.sql": "-- bootmigrate: backward-compatible\nCREATE TABLE extra (x);\n"}
    (example_set / "0004_extra.up.sql").write_text(newer["0004_extra.up.sql"], encoding="utf-8")
    bootmigrate.migrate(db_path, example_set)
    (example_set / "0004_extra.up.sql").unlink()
    assert bootmigrate.verify(db_path, example_set).ok  # compatible: the app may use it
    (problem,) = bootmigrate.verify(db_path, example_set, schema=True).problems
    assert "holds version(s) 4 that the migrations do not have" in problem


def test_verify_schema_calls_prepare_for_the_reference_database(make_set_in, db_path):
    source = make_set_in(
        {"0001_t.up.sql": "CREATE TABLE t (x TEXT);\nINSERT INTO t VALUES (shout('a'));\n"}
    )
    seen = []

    def prepare(conn: sqlite3.Connection) -> None:
        seen.append(conn)
        conn.create_function("shout", 1, str.upper)

    conn = sqlite3.connect(db_path)
    prepare(conn)
    bootmigrate.migrate(conn, source)
    conn.close()
    seen.clear()
    result = bootmigrate.verify(db_path, source, schema=True, prepare=prepare)
    assert result.ok, result.problems
    assert len(seen) == 1 and isinstance(seen[0], sqlite3.Connection)


def test_verify_raises_for_broken_files(example_set, db_path):
    (example_set / "0004-oops.up.sql").write_text("SELECT 1;", encoding="utf-8")
    with pytest.raises(
        bootmigrate.InvalidFileName, match=re.escape("rename it to '0004_oops.up.sql'")
    ):
        bootmigrate.verify(db_path, example_set)
    (example_set / "0004-oops.up.sql").unlink()
    (example_set / LOCK).write_text("format 1\nnonsense\n", encoding="utf-8")
    with pytest.raises(bootmigrate.SourceError, match="line 2"):
        bootmigrate.verify(db_path, example_set)


# -- check_lock -----------------------------------------------------------------------


def test_check_lock_without_a_lock_file_is_a_usage_error(example_set):
    with pytest.raises(bootmigrate.UsageError, match=re.escape(f"has no {LOCK}; write it")):
        bootmigrate.check_lock(example_set)


def test_check_lock_of_a_malformed_lock_file_names_the_line(example_set):
    (example_set / LOCK).write_text("format 1\n0001 x up short\n", encoding="utf-8")
    with pytest.raises(bootmigrate.SourceError, match="line 2: expected 'VERSION NAME"):
        bootmigrate.check_lock(example_set)


def test_check_lock_matches_and_lists_what_is_not_locked_yet(example_set):
    lock(example_set)
    result = bootmigrate.check_lock(example_set)
    assert result.ok
    assert (result.locked, result.unlocked, result.differences) == ((1, 2, 3), (), ())
    assert result.source == str(example_set)
    assert result.summary() == f"ok: {LOCK} matches 3 locked migration(s)"

    (example_set / "0004_more.up.sql").write_text("CREATE TABLE more (x);\n", encoding="utf-8")
    (example_set / "0005_most.up.sql").write_text("CREATE TABLE most (x);\n", encoding="utf-8")
    result = bootmigrate.check_lock(example_set)
    assert result.ok
    assert result.unlocked == (4, 5)
    assert result.summary() == (
        f"ok: {LOCK} matches 3 locked migration(s); not locked yet: 4, 5 "
        "(run `bootmigrate lock` when you release them)"
    )


def test_check_lock_lists_every_difference(example_set):
    lock(example_set)
    append(example_set / "0001_create_notes.up.sql", "CREATE INDEX b ON notes (body);\n")
    (example_set / "0003_tags.up.sql").rename(example_set / "0003_labels.up.sql")
    result = bootmigrate.check_lock(example_set)
    assert not result.ok
    assert len(result.differences) == 2
    assert "'0001_create_notes.up.sql' changed after it was locked" in result.differences[0]
    assert "version 3 was locked as 'tags' and is now 'labels'" in result.differences[1]
    assert result.problems == tuple(f"{LOCK}: {d}" for d in result.differences)
    assert result.summary() == "\n".join(result.problems)


def test_check_lock_takes_a_loaded_set(example_set):
    lock(example_set)
    assert bootmigrate.check_lock(bootmigrate.load(example_set)).ok


# -- schema_drift ---------------------------------------------------------------------


def test_schema_drift_is_empty_for_an_untouched_database(example_set, db_path):
    bootmigrate.migrate(db_path, example_set, target=2)
    before = file_state(db_path)
    assert bootmigrate.schema_drift(db_path, example_set) == ""
    assert file_state(db_path) == before


def test_schema_drift_is_the_diff_from_the_version_s_schema(example_set, db_path):
    bootmigrate.migrate(db_path, example_set, target=2)
    alter(db_path, "DROP INDEX notes_title; CREATE TABLE scratch (x);")
    diff = bootmigrate.schema_drift(db_path, example_set)
    lines = diff.splitlines()
    assert lines[0] == "--- version 2 (a new database migrated by the files)"
    assert lines[1] == f"+++ {db_path}"
    assert "-index notes_title ON notes (title)" in lines
    assert "+table scratch" in lines


def test_schema_drift_on_a_connection(example_set, db_path):
    bootmigrate.migrate(db_path, example_set)
    conn = sqlite3.connect(db_path)
    try:
        assert bootmigrate.schema_drift(conn, example_set) == ""
        conn.execute("CREATE INDEX notes_body ON notes (body)")
        assert "+index notes_body ON notes (body)" in bootmigrate.schema_drift(conn, example_set)
    finally:
        conn.close()


def test_schema_drift_of_a_missing_database_raises_and_creates_nothing(example_set, db_path):
    with pytest.raises(bootmigrate.DatabaseUnavailable, match="does not exist"):
        bootmigrate.schema_drift(db_path, example_set)
    assert not db_path.exists()


def test_schema_drift_raises_when_files_and_database_disagree(example_set, db_path):
    (example_set / "0004_extra.up.sql").write_text(
        "-- bootmigrate: backward-compatible\nCREATE TABLE extra (x);\n", encoding="utf-8"
    )
    bootmigrate.migrate(db_path, example_set)
    (example_set / "0004_extra.up.sql").unlink()
    # Even a backward-compatible newer version: its schema is not in these files.
    with pytest.raises(bootmigrate.DatabaseTooNew):
        bootmigrate.schema_drift(db_path, example_set)

    other = db_path.with_name("other.db")
    bootmigrate.migrate(other, example_set)
    append(example_set / "0003_tags.up.sql", ";CREATE INDEX tags_tag ON tags (tag);\n")
    with pytest.raises(bootmigrate.ModifiedMigration):
        bootmigrate.schema_drift(other, example_set)


def test_schema_drift_passes_prepare_to_the_reference_database(make_set_in, db_path):
    source = make_set_in(
        {"0001_t.up.sql": "CREATE TABLE t (x TEXT COLLATE loose);\nCREATE INDEX t_x ON t (x);\n"}
    )

    def prepare(conn: sqlite3.Connection) -> None:
        conn.create_collation(
            "loose", lambda a, b: (a.lower() > b.lower()) - (a.lower() < b.lower())
        )

    conn = sqlite3.connect(db_path)
    prepare(conn)
    bootmigrate.migrate(conn, source)
    conn.close()
    with pytest.raises(bootmigrate.StatementError, match="no such collation sequence: loose"):
        bootmigrate.schema_drift(db_path, source)
    assert bootmigrate.schema_drift(db_path, source, prepare=prepare) == ""


# -- dry_run --------------------------------------------------------------------------


def test_dry_run_of_a_missing_database_plans_everything_and_creates_nothing(example_set, db_path):
    would = bootmigrate.dry_run(db_path, example_set)
    assert isinstance(would, bootmigrate.Plan)
    assert would.current is None
    assert [m.version for m in would.pending] == [1, 2, 3]
    assert not db_path.exists()


def test_dry_run_changes_nothing_and_stops_at_the_target(example_set, db_path):
    bootmigrate.migrate(db_path, example_set, target=1)
    before = file_state(db_path)
    would = bootmigrate.dry_run(db_path, example_set, target=2)
    assert (would.current, [m.label for m in would.pending]) == (1, ["0002_add_updated_at"])
    assert [m.version for m in bootmigrate.dry_run(db_path, example_set).pending] == [2, 3]
    assert file_state(db_path) == before
    bootmigrate.migrate(db_path, example_set)
    assert bootmigrate.dry_run(db_path, example_set).pending == ()


def test_dry_run_raises_what_migrate_would_raise(example_set, db_path):
    bootmigrate.migrate(db_path, example_set, target=2)
    with pytest.raises(bootmigrate.InvalidTarget, match="below the database's version 2"):
        bootmigrate.dry_run(db_path, example_set, target=1)
    append(example_set / "0001_create_notes.up.sql", "CREATE INDEX b ON notes (body);\n")
    with pytest.raises(bootmigrate.ModifiedMigration):
        bootmigrate.dry_run(db_path, example_set)
