"""bootmigrate.diagnose(): a report of a user's database that holds none of their data.

Secrets are planted in rows (text and blob), a column default, a CHECK, a view, a trigger,
the folder the database lives in and a failing migration's SQL; none may appear in the
JSON. File-level: real database files, the report read through a new connection.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

import bootmigrate
from dbfiles import file_state, make_set

SECRET = "hunter2-SECRET"
FILES = {
    "0001_notes.up.sql": (
        "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL,\n"
        f"  token TEXT DEFAULT 'tok-{SECRET}', score REAL,\n"
        f"  kind TEXT CHECK (kind <> 'kind-{SECRET}'), data BLOB);\n"
        f"CREATE VIEW shown AS SELECT body FROM notes WHERE body <> 'view-{SECRET}';\n"
        "CREATE TABLE audit (id INTEGER PRIMARY KEY, what TEXT);\n"
        "CREATE TRIGGER noted AFTER INSERT ON notes BEGIN\n"
        f"  INSERT INTO audit (what) VALUES ('trigger-{SECRET}');\nEND;\n"
    ),
}


@pytest.fixture
def secret_db(tmp_path: Path) -> tuple[Path, Path]:
    folder = tmp_path / f"home-{SECRET}" / "data"
    folder.mkdir(parents=True)
    source = make_set(tmp_path / f"src-{SECRET}", FILES)
    db = folder / "app.db"
    bootmigrate.migrate(db, source)
    conn = sqlite3.connect(db)
    try:
        conn.execute(
            "INSERT INTO notes (body, score, kind, data) VALUES (?, 1.5, 'a', ?)",
            (f"row-{SECRET}", f"blob-{SECRET}".encode()),
        )
        conn.execute("INSERT INTO notes (body, token) VALUES ('plain', NULL)")
        conn.commit()
    finally:
        conn.close()
    return db, source


def test_the_report_holds_no_row_value_literal_or_path(secret_db: tuple[Path, Path]) -> None:
    db, source = secret_db
    (source / "0002_fail.up.sql").write_text(
        f"INSERT INTO notes (body) VALUES ('sql-{SECRET}');\n"
        f"SELECT no_such_function('sql-{SECRET}');\n"
    )
    with pytest.raises(bootmigrate.StatementError) as info:
        bootmigrate.migrate(db, source)
    assert SECRET in str(info.value)  # the error's own message does quote the SQL
    before = file_state(db)
    report = bootmigrate.diagnose(db, source, error=info.value)
    assert file_state(db) == before  # nothing written
    text = json.dumps(report)
    assert SECRET not in text
    assert "hunter2" not in text
    assert str(db.parent) not in text and str(source) not in text


def test_the_report_has_the_documented_keys(secret_db: tuple[Path, Path]) -> None:
    db, source = secret_db
    report = bootmigrate.diagnose(db, source)
    assert list(report) == [
        "report_format",
        "database",
        "versions",
        "sqlite_compile_options",
        "file",
        "ledger",
        "schema",
        "tables",
        "findings",
        "error",
    ]
    assert report["report_format"] == 1
    assert report["database"] == "app.db"
    assert report["versions"]["sqlite"] == sqlite3.sqlite_version
    assert report["file"]["page_size"] > 0 and report["file"]["encoding"] == "UTF-8"
    assert report["file"]["user_version"] == 1
    assert [(r["version"], r["name"]) for r in report["ledger"]] == [(1, "notes")]
    assert report["tables"]["notes"]["rows"] == 2
    assert report["tables"]["notes"]["columns"]["data"] == {
        "null": 1,
        "integer": 0,
        "real": 0,
        "text": 0,
        "blob": 1,
    }
    assert report["tables"]["notes"]["columns"]["token"]["text"] == 1
    assert report["tables"]["audit"]["rows"] == 2  # the trigger's rows, counted
    assert any("DEFAULT '?'" in line for line in report["schema"]), report["schema"]
    assert report["findings"] == []
    assert report["error"] is None


def test_a_failed_run_is_named_by_class_file_statement_and_line(
    secret_db: tuple[Path, Path],
) -> None:
    db, source = secret_db
    (source / "0002_fail.up.sql").write_text("CREATE TABLE t (x);\nSELECT no_such_function(1);\n")
    with pytest.raises(bootmigrate.StatementError) as info:
        bootmigrate.migrate(db, source)
    report = bootmigrate.diagnose(db, source, error=info.value)
    assert report["error"] == {
        "class": "StatementError",
        "file": "0002_fail.up.sql",
        "statement": 2,
        "line": 2,
    }
    assert report["findings"] == [{"code": "pending", "severity": "info"}]


def test_a_missing_database_is_reported_without_creating_it(tmp_path: Path) -> None:
    source = make_set(tmp_path, FILES)
    db = tmp_path / "nowhere.db"
    report = bootmigrate.diagnose(db, source)
    assert not db.exists()
    assert report["file"] is None and report["tables"] == {}
    assert report["findings"] == [{"code": "missing", "severity": "error"}]


def test_a_hot_journal_is_read_from_a_copy(tmp_path: Path) -> None:
    source = make_set(tmp_path, FILES)
    db = tmp_path / "app.db"
    bootmigrate.migrate(db, source)
    journal = Path(str(db) + "-journal")
    # A journal whose first byte is not zero, as a write killed half-way leaves one.
    journal.write_bytes(b"\xd9\xd5\x05\xf9\x20\xa1\x63\xd7" + bytes(504))
    before = (file_state(db), journal.read_bytes())
    report = bootmigrate.diagnose(db, source)
    assert (file_state(db), journal.read_bytes()) == before
    assert {"code": "hot-journal", "severity": "error"} in report["findings"]


@pytest.mark.process
def test_the_cli_prints_the_report(secret_db: tuple[Path, Path]) -> None:
    db, source = secret_db
    done = subprocess.run(
        [sys.executable, "-m", "bootmigrate", "--db", str(db), "--source", str(source), "diagnose"],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "PYTHONIOENCODING": "utf-8"},
    )
    assert (done.returncode, done.stderr) == (0, "")
    report = json.loads(done.stdout)
    assert report["database"] == "app.db" and report["tables"]["notes"]["rows"] == 2
    assert SECRET not in done.stdout
