"""The README's "On the user's machine" example, run as an app's boot in its own process.

The example is the code an app copies: after a failed migration it must stop without
opening the database, show the error's message whole, name the newest backup, and print
a bug report that says enough to reproduce the failure and holds none of the user's rows.
"""

from __future__ import annotations

import json
import platform
import re
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

import bootmigrate

README = Path(__file__).resolve().parents[1] / "README.md"
PRIVATE_NOTE = "the user's private note"


def _example() -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index("## On the user's machine\n")
    section = text[start : text.index("\n## ", start + 1)]
    block = re.search(r"```python\n(.*?)```", section, re.S)
    assert block is not None, "the section has no python example"
    return block.group(1)


@pytest.fixture
def app(tmp_path: Path) -> Path:
    """``myapp`` with one migration, and a boot script that runs the README's example."""
    migrations = tmp_path / "myapp" / "migrations"
    migrations.mkdir(parents=True)
    (tmp_path / "myapp" / "__init__.py").write_text("")
    (migrations / "__init__.py").write_text("")
    (migrations / "0001_notes.up.sql").write_text(
        "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL);\n"
    )
    (tmp_path / "boot.py").write_text(
        _example()
        + "\nconn = open_database(Path(sys.argv[1]))\n"
        + "print('opened at', conn.execute('PRAGMA user_version').fetchone()[0])\n"
    )
    return tmp_path


def _boot(app: Path, db: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(app / "boot.py"), str(db)],
        cwd=app,
        env={"PYTHONPATH": str(app), "PATH": ""},
        capture_output=True,
        text=True,
        timeout=60,
    )


def _bug_report(stderr: str) -> dict[str, object]:
    head, _, report = stderr.partition("Please report this, with:\n")
    assert head, stderr
    parsed: dict[str, object] = json.loads(report)
    return parsed


def test_a_failed_migration_stops_the_app_shows_the_message_and_names_the_backup(
    app: Path,
) -> None:
    db = app / "notes.db"
    first = _boot(app, db)
    assert (first.returncode, first.stdout, first.stderr) == (0, "opened at 1\n", "")
    with sqlite3.connect(db) as conn:
        conn.execute("INSERT INTO notes (body) VALUES (?)", (PRIVATE_NOTE,))
    conn.close()
    (app / "myapp" / "migrations" / "0002_tags.up.sql").write_text(
        "ALTER TABLE notes ADD COLUMN tag TEXT;\nUPDATE notes SET tag = no_such_function(body);\n"
    )
    # The message the app must show whole: the same failure, in this process, on a copy.
    shutil.copyfile(db, app / "copy.db")
    with pytest.raises(bootmigrate.StatementError) as expected:
        bootmigrate.migrate(app / "copy.db", app / "myapp" / "migrations")

    done = _boot(app, db)

    assert done.returncode == 1
    assert done.stdout == ""  # never opened on a schema it does not know
    lines = done.stderr.splitlines()
    assert lines[0] == f"MyApp cannot open its data: {expected.value}"
    assert "no_such_function" in lines[0] and "unchanged" in lines[0]
    backup_line = re.fullmatch(f"The newest backup of {re.escape(str(db))} is (.+)", lines[1])
    assert backup_line is not None, lines[1]
    backup = Path(backup_line.group(1))
    assert backup.parent == db.parent
    assert re.fullmatch(r"notes\.db\.\d{8}T\d{12}Z-v1\.bootmigrate-backup", backup.name)
    for copy in (db, backup):  # the database as it was, and its backup: version 1, the row
        with sqlite3.connect(copy) as conn:
            assert conn.execute("PRAGMA user_version").fetchone() == (1,)
            assert conn.execute("SELECT body FROM notes").fetchall() == [(PRIVATE_NOTE,)]
            assert [c[1] for c in conn.execute("PRAGMA table_info(notes)")] == ["id", "body"]
        conn.close()

    report = _bug_report(done.stderr)
    assert report["error"] == f"StatementError: {expected.value}"
    status = report["status"]
    assert isinstance(status, dict)
    assert (status["current"], status["head"], status["pending"]) == (1, 2, [2])
    assert [a["name"] for a in status["applied"]] == ["notes"]
    assert report["python"] == platform.python_version()
    assert report["sqlite"] == sqlite3.sqlite_version
    assert report["bootmigrate"] == bootmigrate.__version__
    assert PRIVATE_NOTE not in done.stderr


def test_the_bug_report_says_why_there_is_no_status(app: Path) -> None:
    db = app / "notes.db"
    db.write_bytes(b"not a database, " * 512)

    done = _boot(app, db)

    assert (done.returncode, done.stdout) == (1, "")
    first, second = done.stderr.splitlines()[:2]
    assert first.startswith("MyApp cannot open its data: ") and "not a SQLite database" in first
    assert second == "Please report this, with:"  # no backup: none was ever taken
    report = _bug_report(done.stderr)
    assert str(report["error"]).startswith("NotADatabase: ")
    status = report["status"]
    assert isinstance(status, dict) and list(status) == ["problem"]
    assert "not a SQLite database" in str(status["problem"])
    assert db.read_bytes() == b"not a database, " * 512
