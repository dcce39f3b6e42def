"""No-transaction down files run in downgrades, alone between committed batches, with the
same state reporting as a no-transaction up file; and the kit's round trip runs them.
File-level: real database files reopened through new connections."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

import bootmigrate
from bootmigrate.testing import MigrationKit
from dbfiles import make_set, read_db

NO_TX = "-- bootmigrate: no-transaction\n"
# A rebuild as golang-migrate's no-wrap files write it: the file's own transaction.
REBUILD_UP = NO_TX + (
    "BEGIN;\n"
    "CREATE TABLE notes_new (id INTEGER PRIMARY KEY, body TEXT NOT NULL DEFAULT '');\n"
    "INSERT INTO notes_new (id, body) SELECT id, body FROM notes;\n"
    "DROP TABLE notes;\n"
    "ALTER TABLE notes_new RENAME TO notes;\n"
    "COMMIT;\n"
)
REBUILD_DOWN = NO_TX + (
    "BEGIN;\n"
    "CREATE TABLE notes_old (id INTEGER PRIMARY KEY, body TEXT);\n"
    "INSERT INTO notes_old (id, body) SELECT id, body FROM notes;\n"
    "DROP TABLE notes;\n"
    "ALTER TABLE notes_old RENAME TO notes;\n"
    "COMMIT;\n"
)
FILES = {
    "0001_notes.up.sql": "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT);\n"
    "INSERT INTO notes (body) VALUES ('one'), ('two');\n",
    "0001_notes.down.sql": "DROP TABLE notes;\n",
    "0002_rebuild.up.sql": REBUILD_UP,
    "0002_rebuild.down.sql": REBUILD_DOWN,
    "0003_tags.up.sql": "CREATE TABLE tags (note_id INTEGER, tag TEXT);\n",
    "0003_tags.down.sql": "DROP TABLE tags;\n",
    "0004_vacuum.up.sql": NO_TX + "VACUUM;\n",
    "0004_vacuum.down.sql": NO_TX + "VACUUM;\n",
}


def schema_sql(db: Path, table: str) -> str:
    conn = sqlite3.connect(db)
    try:
        return str(
            conn.execute("SELECT sql FROM sqlite_master WHERE name = ?", (table,)).fetchone()[0]
        )
    finally:
        conn.close()


def test_a_downgrade_runs_no_transaction_down_files_alone(tmp_path: Path) -> None:
    source = make_set(tmp_path, FILES)
    db = tmp_path / "app.db"
    bootmigrate.migrate(db, source)
    report = bootmigrate.downgrade(db, source, 1)
    assert report.state == "downgraded"
    assert [(s.version, s.direction) for s in report.steps] == [
        (4, "down"),
        (3, "down"),
        (2, "down"),
    ]
    snapshot = read_db(db)
    assert snapshot.versions == (1,) and snapshot.user_version == 1
    assert "tags" not in snapshot.tables
    assert "DEFAULT" not in schema_sql(db, "notes")  # the rebuild was undone
    assert snapshot.rows["notes"] == ((1, "one"), (2, "two"))
    # No note of an unfinished step is left behind.
    assert [row[0] for row in snapshot.rows["bootmigrate_meta"]] == ["ledger_format"]
    # And up again, through the same files.
    assert bootmigrate.migrate(db, source).to_version == 4


def test_a_no_transaction_down_file_that_does_nothing_before_failing(tmp_path: Path) -> None:
    files = {**FILES, "0002_rebuild.down.sql": NO_TX + "SELECT no_such_function();\n"}
    source = make_set(tmp_path, files)
    db = tmp_path / "app.db"
    bootmigrate.migrate(db, source)
    with pytest.raises(bootmigrate.StatementError) as info:
        bootmigrate.downgrade(db, source, 1)
    message = str(info.value)
    assert "'0002_rebuild.down.sql' statement 1 (line 2) failed: no such function" in message
    assert "none of its statements took effect" in message
    # 4 and 3 were undone and committed before the step: the database is at version 2.
    assert "database is at version 2" in message
    snapshot = read_db(db)
    assert snapshot.versions == (1, 2)
    assert [row[0] for row in snapshot.rows["bootmigrate_meta"]] == ["ledger_format"]


PARTIAL_DOWN = NO_TX + "DELETE FROM notes WHERE id = 2;\nSELECT no_such_function();\n"


def test_a_partly_applied_down_file_says_so(tmp_path: Path) -> None:
    source = make_set(tmp_path, {**FILES, "0002_rebuild.down.sql": PARTIAL_DOWN})
    db = tmp_path / "app.db"
    bootmigrate.migrate(db, source)
    with pytest.raises(bootmigrate.StatementError) as info:
        bootmigrate.downgrade(db, source, 1)
    message = str(info.value)
    assert "what it ran took effect and could not be undone" in message
    assert "database is at version 2 with '0002_rebuild.down.sql' partly applied" in message
    snapshot = read_db(db)
    assert snapshot.versions == (1, 2) and snapshot.rows["notes"] == ((1, "one"),)
    # The note stays, so the next run knows the step was under way.
    assert "unfinished_step" in [row[0] for row in snapshot.rows["bootmigrate_meta"]]


def test_a_partly_applied_down_file_is_undone_from_the_backup(tmp_path: Path) -> None:
    source = make_set(tmp_path, {**FILES, "0002_rebuild.down.sql": PARTIAL_DOWN})
    db = tmp_path / "app.db"
    bootmigrate.migrate(db, source)
    before = read_db(db)
    with pytest.raises(bootmigrate.StatementError) as info:
        bootmigrate.downgrade(db, source, 1, backup=True)
    message = str(info.value)
    assert "the database was restored from the backup" in message
    assert "as it was before the run (version 4)" in message
    assert read_db(db) == before


def test_the_cli_downgrades_through_a_no_transaction_down_file(tmp_path: Path) -> None:
    from processes import run_cli

    source = make_set(tmp_path, FILES)
    db = tmp_path / "app.db"
    bootmigrate.migrate(db, source)
    done = run_cli(["--db", str(db), "--source", str(source), "down", "--to", "0", "--backup"])
    assert done.returncode == 0, done.stderr
    assert read_db(db).versions == ()
    assert len(list(tmp_path.glob("app.db.*.bootmigrate-backup"))) == 1


def test_the_kit_round_trips_no_transaction_down_files(tmp_path: Path) -> None:
    source = make_set(tmp_path, FILES)
    kit = MigrationKit(source)
    assert kit.versions_for("round_trip") == (1, 2, 3, 4)
    for version in kit.versions_for("round_trip"):
        kit.check_round_trip(version)


def test_status_says_a_step_began_and_was_not_recorded(tmp_path: Path) -> None:
    source = make_set(tmp_path, {**FILES, "0002_rebuild.down.sql": PARTIAL_DOWN})
    db = tmp_path / "app.db"
    bootmigrate.migrate(db, source)
    assert bootmigrate.status(db, source).problems == ()
    with pytest.raises(bootmigrate.StatementError):
        bootmigrate.downgrade(db, source, 1)
    (problem,) = bootmigrate.status(db, source).problems
    assert "the no-transaction step 2 (rebuild) began on an earlier run" in problem
