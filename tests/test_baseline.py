"""bootmigrate.Baseline: adopting a database made before bootmigrate, on a small app."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

import bootmigrate
from bootmigrate import Baseline, additive_repair

# An app whose old code kept its version in a table "app_version".
FILES = {
    "0001_notes.up.sql": "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL);\n",
    "0002_tags.up.sql": "ALTER TABLE notes ADD COLUMN tags TEXT DEFAULT '';\n"
    "CREATE INDEX notes_tags ON notes (tags);\n",
    "0003_pinned.up.sql": "ALTER TABLE notes ADD COLUMN pinned INTEGER NOT NULL DEFAULT 0;\n",
    "0004_archive.up.sql": "CREATE TABLE archive (id INTEGER PRIMARY KEY, note_id INTEGER);\n",
}


def _app_version(conn: sqlite3.Connection) -> int | None:
    exists = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'app_version'"
    ).fetchone()
    if not exists:
        return None
    return int(conn.execute("SELECT MAX(v) FROM app_version").fetchone()[0])


def _legacy(path: Path, version: int, *ddl: str) -> None:
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("CREATE TABLE app_version (v INTEGER PRIMARY KEY)")
    conn.execute("INSERT INTO app_version (v) VALUES (?)", (version,))
    for statement in ddl:
        conn.execute(statement)
    conn.execute("INSERT INTO notes (id, body) VALUES (1, 'keep me')")
    conn.commit()
    conn.close()


def _ledger(path: Path) -> list[tuple[int, str]]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute("SELECT version, checksum FROM bootmigrate_ledger").fetchall()
    finally:
        conn.close()


@pytest.fixture
def source(make_set_in) -> Path:
    path: Path = make_set_in(FILES)
    return path


def test_adopts_at_the_claimed_version_and_runs_the_rest(source: Path, tmp_path: Path) -> None:
    path = tmp_path / "app.db"
    _legacy(path, 2, "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL, tags TEXT)")
    calls = []

    def detect(conn: sqlite3.Connection) -> int | None:
        calls.append(conn.in_transaction)  # runs under the write lock
        return _app_version(conn)

    report = bootmigrate.migrate(path, source, baseline=Baseline(detect, highest=2))

    assert calls == [True]
    assert report.adoption == bootmigrate.Adoption(2, 2, (), (1, 2))
    assert (report.from_version, report.to_version) == (2, 4)
    assert [s.version for s in report.steps] == [3, 4]
    checksums = {m.version: m.checksum for m in bootmigrate.load(source)}
    assert dict(_ledger(path)) == checksums  # the files' checksums: nothing "modified"
    status = bootmigrate.status(path, source)
    assert status.up_to_date and not status.problems
    # With a ledger the baseline is not consulted again.
    again = bootmigrate.migrate(path, source, baseline=Baseline(detect, highest=2))
    assert again.state == "up-to-date" and calls == [True]
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT id, body, pinned FROM notes").fetchall() == [(1, "keep me", 0)]
    assert conn.execute("SELECT v FROM app_version").fetchall() == [(2,)]  # left as it was
    conn.close()


def test_a_new_database_is_not_adopted(source: Path, tmp_path: Path) -> None:
    path = tmp_path / "app.db"
    report = bootmigrate.migrate(path, source, baseline=Baseline(_app_version, highest=2))
    assert report.adoption is None and report.from_version is None and report.to_version == 4


def test_a_claimed_version_above_highest_is_refused_untouched(source: Path, tmp_path: Path) -> None:
    path = tmp_path / "app.db"
    _legacy(path, 3, "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL)")
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()}

    with pytest.raises(bootmigrate.LegacyVersionTooNew) as caught:
        bootmigrate.migrate(
            path, source, baseline=Baseline(_app_version, highest=2, label="app_version")
        )

    assert isinstance(caught.value, bootmigrate.DatabaseTooNew)
    assert caught.value.claimed == 3 and caught.value.head == 2
    assert "app_version is 3" in str(caught.value) and "up to version 2" in str(caught.value)
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()} == before


def test_a_failing_repair_rolls_everything_back(source: Path, tmp_path: Path) -> None:
    path = tmp_path / "app.db"
    _legacy(path, 1, "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL)")
    before = path.read_bytes()

    def repair(conn: sqlite3.Connection, claimed: int) -> tuple[int, list[str]]:
        conn.execute("ALTER TABLE notes ADD COLUMN tags TEXT")
        conn.execute("SELECT no_such_column FROM notes")
        return claimed, []

    with pytest.raises(bootmigrate.ApplyError, match=r"repairing the database.*unchanged"):
        bootmigrate.migrate(path, source, baseline=Baseline(_app_version, 2, repair))

    assert path.read_bytes() == before
    conn = sqlite3.connect(path)
    assert [r[1] for r in conn.execute("PRAGMA table_info(notes)")] == ["id", "body"]
    assert (
        conn.execute("SELECT name FROM sqlite_master WHERE name LIKE 'bootmigrate%'").fetchall()
        == []
    )
    conn.close()


def test_additive_repair_adds_what_an_old_build_skipped(source: Path, tmp_path: Path) -> None:
    path = tmp_path / "app.db"
    # Claims 2, but the build never added tags or its index.
    _legacy(path, 2, "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL)")
    baseline = Baseline(_app_version, 2, additive_repair(source, through=2))

    report = bootmigrate.migrate(path, source, baseline=baseline)

    assert report.adoption is not None
    assert report.adoption.repairs == (
        "added the missing column notes.tags",
        "created the missing index notes_tags",
    )
    conn = sqlite3.connect(path)
    columns = [(r[1], r[2], r[4]) for r in conn.execute("PRAGMA table_info(notes)")]
    indexes = conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
    ).fetchall()
    conn.close()
    assert columns == [
        ("id", "INTEGER", None),
        ("body", "TEXT", None),
        ("tags", "TEXT", "''"),
        ("pinned", "INTEGER", "0"),
    ]
    assert indexes == [("notes_tags",)]


def test_additive_repair_moves_up_to_what_the_schema_shows(source: Path, tmp_path: Path) -> None:
    path = tmp_path / "app.db"
    # Claims 1, but has 0002's column and 0003's column: it is at 3.
    _legacy(
        path,
        1,
        "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL, tags TEXT DEFAULT '', "
        "pinned INTEGER NOT NULL DEFAULT 0)",
    )
    baseline = Baseline(_app_version, 3, additive_repair(source, through=3))

    report = bootmigrate.migrate(path, source, baseline=baseline)

    assert report.adoption is not None
    assert (report.adoption.claimed, report.adoption.version) == (1, 3)
    assert report.adoption.repairs == ("created the missing index notes_tags",)
    assert [s.version for s in report.steps] == [4]


def test_additive_repair_refuses_a_column_no_version_made(source: Path, tmp_path: Path) -> None:
    path = tmp_path / "app.db"
    _legacy(path, 1, "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL, color TEXT)")
    before = path.read_bytes()

    with pytest.raises(bootmigrate.UnrecognizedDatabase, match=r"notes\.color"):
        bootmigrate.migrate(
            path, source, baseline=Baseline(_app_version, 2, additive_repair(source, through=2))
        )
    assert path.read_bytes() == before

    allowed = additive_repair(source, through=2, extra_columns={"notes": ["color"]})
    report = bootmigrate.migrate(path, source, baseline=Baseline(_app_version, 2, allowed))
    assert report.to_version == 4


def test_the_cli_adopts_with_a_named_baseline(tmp_path: Path) -> None:
    from dbfiles import REPO
    from legacy_store import build
    from processes import run_cli

    path = build(tmp_path / "daemon.db", "stamped-3")
    args: list[str | os.PathLike[str]] = [
        "--db",
        path,
        "--source",
        "sessionstore.migrations:.",
        "up",
    ]

    wrong = run_cli([*args, "--baseline", "sessionstore:MIGRATIONS"], cwd=REPO)
    assert wrong.returncode == 1 and "is not a bootmigrate.Baseline" in wrong.stderr
    done = run_cli([*args, "--baseline", "sessionstore:BASELINE"], cwd=REPO)

    assert done.returncode == 0, done.stderr
    assert "its own records say version 3" in done.stdout
    assert "migrated from version 3 to" in done.stdout


def test_additive_repair_accepts_a_column_a_later_version_dropped(
    make_set_in, tmp_path: Path
) -> None:
    source = make_set_in(
        {
            "0001_notes.up.sql": "CREATE TABLE notes (id INTEGER PRIMARY KEY, old TEXT);\n",
            "0002_drop_old.up.sql": "ALTER TABLE notes DROP COLUMN old;\n",
            "0003_body.up.sql": "ALTER TABLE notes ADD COLUMN body TEXT;\n",
        },
        subdir="dropping",
    )
    path = tmp_path / "app.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE app_version (v INTEGER PRIMARY KEY)")
    conn.execute("INSERT INTO app_version (v) VALUES (2)")
    # The old code's version 2 only stopped using the column.
    conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, old TEXT)")
    conn.execute("INSERT INTO notes (id, old) VALUES (1, 'still here')")
    conn.commit()
    conn.close()

    report = bootmigrate.migrate(
        path, source, baseline=Baseline(_app_version, 2, additive_repair(source, through=2))
    )

    assert report.adoption is not None and report.adoption.version == 2
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT id, old, body FROM notes").fetchall() == [(1, "still here", None)]
    conn.close()
