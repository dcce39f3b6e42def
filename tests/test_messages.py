"""What the library says where issue 12 found it unclear ("version none", "at version
None", "up to date" short of the newest migration, "use a downgrade"): exact messages, on
real files, and through the CLI in a new process."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

import bootmigrate
from dbfiles import make_set
from processes import cli_env, run_cli

FILES = {
    "0001_notes.up.sql": "CREATE TABLE notes (id INTEGER PRIMARY KEY, title TEXT);\n",
    "0001_notes.down.sql": "DROP TABLE notes;\n",
    "0002_tags.up.sql": "CREATE TABLE tags (note_id INTEGER, tag TEXT);\n",
    "0002_tags.down.sql": "DROP TABLE tags;\n",
    "0003_seed.up.sql": "INSERT INTO notes (title) VALUES ('hello');\n",
}


def cli(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return run_cli([str(a) for a in args], cwd=cwd, env=cli_env())


def test_a_first_run_and_a_full_downgrade_say_no_migration_was_applied(tmp_path: Path) -> None:
    source = make_set(tmp_path, FILES)
    db = tmp_path / "app.db"
    first = bootmigrate.migrate(db, source, target=2)
    assert first.summary().splitlines()[0] == (
        f"{db}: migrated from an empty database to version 2 (2 migration(s))"
    )
    undone = bootmigrate.downgrade(db, source, 0)
    assert undone.summary().splitlines()[0] == (
        f"{db}: downgraded from version 2 to version 0 (no migration applied) (2 migration(s))"
    )
    backed_up = bootmigrate.migrate(db, source, target=1, backup=True)
    assert backed_up.summary().splitlines()[-1] == (
        f"{db}: backed up first, at version 0, to {backed_up.backup} "
        "(bootmigrate restore puts it back)"
    )


def test_verify_of_a_database_with_nothing_applied(tmp_path: Path) -> None:
    source = make_set(tmp_path, FILES)
    db = tmp_path / "app.db"
    assert bootmigrate.verify(db, source).summary() == (
        f"ok: 3 migration file(s) valid; {db} has no migration applied, 3 pending (ran "
        "without error on a copy of the database)"
    )
    result = cli("--db", db, "--source", source, "verify", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "None" not in result.stdout


def test_a_target_already_reached_is_not_called_up_to_date(tmp_path: Path) -> None:
    source = make_set(tmp_path, FILES)
    db = tmp_path / "app.db"
    bootmigrate.migrate(db, source, target=2)
    report = bootmigrate.migrate(db, source, target=2)
    assert (report.state, report.to_version, report.head) == ("up-to-date", 2, 3)
    assert report.summary() == f"{db}: already at version 2 (head is 3)"
    result = cli("--db", db, "--source", source, "up", "--to", "2", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"{report.summary()}\n"
    # At the newest version it is up to date.
    bootmigrate.migrate(db, source)
    assert bootmigrate.migrate(db, source, target=3).summary() == (f"{db}: up to date at version 3")


def test_a_target_behind_or_ahead_names_the_command_that_goes_there(tmp_path: Path) -> None:
    source = make_set(tmp_path, FILES)
    db = tmp_path / "app.db"
    bootmigrate.migrate(db, source, target=2)
    with pytest.raises(bootmigrate.InvalidTarget) as behind:
        bootmigrate.migrate(db, source, target=1)
    assert str(behind.value) == (
        "target version 1 is below the database's version 2; to go back, run "
        "`bootmigrate down --to 1` (bootmigrate.downgrade(db, source, 1) from Python)"
    )
    result = cli("--db", db, "--source", source, "up", "--to", "1", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr == f"bootmigrate: error: {behind.value}\n"
    with pytest.raises(bootmigrate.InvalidTarget) as ahead:
        bootmigrate.downgrade(db, source, 3)
    assert str(ahead.value) == (
        "target version 3 is above the database's version 2; to go forward, run "
        "`bootmigrate up --to 3` (bootmigrate.migrate(db, source, target=3) from Python)"
    )
