"""A database migrated by a newer release, opened by an older one (users downgrade)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

import bootmigrate
from dbfiles import file_state, make_set, read_db
from processes import run, run_cli

RELEASE_1 = {
    "0001_notes.up.sql": "CREATE TABLE note (id INTEGER PRIMARY KEY, body TEXT NOT NULL);\n",
    "0002_seed.up.sql": "INSERT INTO note (body) VALUES ('first'), ('second');\n",
    "0003_index.up.sql": "CREATE INDEX note_body ON note (body);\n",
}
RELEASE_2 = {
    **RELEASE_1,
    "0004_tags.up.sql": (
        "-- bootmigrate: backward-compatible\n"
        "-- Only adds a table: release 1 can keep using the database.\n"
        "CREATE TABLE tag (note_id INTEGER, name TEXT);\n"
    ),
    "0005_pinned.up.sql": (
        "-- bootmigrate: backward-compatible\nALTER TABLE note ADD COLUMN pinned INTEGER;\n"
    ),
    "0006_rename.up.sql": "ALTER TABLE note RENAME COLUMN body TO text;\n",
}


@pytest.fixture
def releases(tmp_path: Path) -> tuple[Path, Path]:
    return (
        make_set(tmp_path, RELEASE_1, subdir="release1"),
        make_set(tmp_path, RELEASE_2, subdir="release2"),
    )


def test_the_ledger_stores_which_migrations_are_backward_compatible(
    tmp_path: Path, releases: tuple[Path, Path]
) -> None:
    db = tmp_path / "app.db"
    bootmigrate.migrate(db, releases[1])
    snapshot = read_db(db)
    column = snapshot.ledger_columns.index("backward_compatible")
    assert {row[0]: row[column] for row in snapshot.ledger} == {
        1: 0,
        2: 0,
        3: 0,
        4: 1,
        5: 1,
        6: 0,
    }


@pytest.mark.process
def test_an_older_app_runs_on_a_newer_compatible_database(
    tmp_path: Path, releases: tuple[Path, Path]
) -> None:
    release_1, release_2 = releases
    db = tmp_path / "app.db"
    bootmigrate.migrate(db, release_1)
    bootmigrate.migrate(db, release_2, target=5)  # release 2 ran: only compatible steps
    before = file_state(db)
    snapshot = read_db(db)

    # Release 1, in its own process, as the app would boot.
    code, result = run("boot", [db, release_1])
    assert code == 0, result
    assert result == {"state": "newer-compatible", "from": 5, "to": 5, "steps": [], "stderr": ""}
    # ... and in this one: the report says which versions it does not know.
    report = bootmigrate.migrate(db, release_1)
    assert report.state == "newer-compatible" and report.unknown == (4, 5)
    assert "newer than this app" in report.summary()
    status = bootmigrate.status(db, release_1)
    assert status.newer_compatible and status.unknown == (4, 5) and not status.problems
    # Nothing changed: not the rows, not the ledger, not the file's bytes.
    assert read_db(db) == snapshot
    assert file_state(db) == before
    # Release 1's app works with the database it found.
    conn = sqlite3.connect(db)
    conn.execute("INSERT INTO note (body) VALUES ('written by release 1')")
    conn.commit()
    conn.close()
    # Upgrading again to release 2 applies just what is left.
    assert [s.version for s in bootmigrate.migrate(db, release_2).steps] == [6]


@pytest.mark.process
def test_an_older_app_refuses_a_newer_incompatible_database(
    tmp_path: Path, releases: tuple[Path, Path]
) -> None:
    release_1, release_2 = releases
    db = tmp_path / "app.db"
    bootmigrate.migrate(db, release_2)
    before = file_state(db)
    code, result = run("boot", [db, release_1])
    assert code == 1
    assert result["error"] == "DatabaseTooNew"
    with pytest.raises(bootmigrate.DatabaseTooNew) as info:
        bootmigrate.migrate(db, release_1)
    assert info.value.versions == (4, 5, 6) and info.value.head == 3
    message = str(info.value)
    assert message == (
        f"{db}: the database is newer than this app: it holds version(s) 4 (tags), "
        "5 (pinned), 6 (rename), and this app knows migrations up to 3; upgrade the app (or "
        "restore the database from a backup made for this release), or restore the deleted "
        f"migration file in {str(release_1)!r}"
    )
    assert result["message"] == message
    assert file_state(db) == before


def test_the_cli_of_an_older_release(tmp_path: Path, releases: tuple[Path, Path]) -> None:
    release_1, release_2 = releases
    db = tmp_path / "app.db"
    bootmigrate.migrate(db, release_2, target=5)
    done = run_cli(["--db", db, "--source", release_1, "up"])
    assert done.returncode == 0, done.stderr
    assert "newer than this app" in done.stdout and "4, 5" in done.stdout
    bootmigrate.migrate(db, release_2)
    refused = run_cli(["--db", db, "--source", release_1, "up"])
    assert refused.returncode == 1
    assert "upgrade the app" in refused.stderr and "Traceback" not in refused.stderr


def test_from_an_installed_package_the_advice_is_only_to_upgrade(
    tmp_path: Path, releases: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    # A package's migrations are not a working copy: "restore the deleted migration
    # file" would be advice the user cannot follow.
    release_2 = releases[1]
    package = tmp_path / "site" / "oldapp"
    make_set(package, RELEASE_1)
    (package / "__init__.py").write_text("")
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    db = tmp_path / "app.db"
    bootmigrate.migrate(db, release_2)
    with pytest.raises(bootmigrate.DatabaseTooNew) as info:
        bootmigrate.migrate(db, "oldapp:migrations")
    assert str(info.value) == (
        f"{db}: the database is newer than this app: it holds version(s) 4 (tags), "
        "5 (pinned), 6 (rename), and this app knows migrations up to 3; upgrade the app (or "
        "restore the database from a backup made for this release)"
    )
