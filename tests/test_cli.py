"""The command line, run as a separate process against files, as a user would run it."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from dbfiles import file_state, make_set, numbered_set, read_db
from processes import cli_env, run_cli

SET = {
    "0001_notes.up.sql": "CREATE TABLE notes (id INTEGER PRIMARY KEY, title TEXT);\n",
    "0001_notes.down.sql": "DROP TABLE notes;\n",
    "0002_tags.up.sql": "CREATE TABLE tags (note_id INTEGER, tag TEXT);\n",
    "0002_tags.down.sql": "DROP TABLE tags;\n",
    "0003_seed.up.sql": "INSERT INTO notes (title) VALUES ('hello; world');\n",
}


def cli(*args: str | Path, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return run_cli([str(a) for a in args], cwd=cwd, env=cli_env(**env))


def status_json(db: Path, source: Path, cwd: Path) -> dict[str, object]:
    result = cli("--db", db, "--source", source, "status", "--json", cwd=cwd)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert isinstance(data, dict)
    return data


def assert_clean_error(result: subprocess.CompletedProcess[str], *fragments: str) -> None:
    """Exit 1, one error line on stderr (no traceback) holding every fragment."""
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("bootmigrate: error: ")
    assert result.stderr.count("\n") == 1, result.stderr
    for fragment in fragments:
        assert fragment in result.stderr


# -- the "Done when" scenarios ----------------------------------------------------


@pytest.mark.parametrize("script", [False, True], ids=["python -m bootmigrate", "bootmigrate"])
def test_fifty_migrations_with_triggers(tmp_path: Path, script: bool) -> None:
    source = make_set(tmp_path, numbered_set(50))
    db = tmp_path / "app.db"
    first = run_cli(["--db", str(db), "--source", str(source), "up"], cwd=tmp_path, script=script)
    assert first.returncode == 0, first.stderr
    assert "migrated from an empty database to version 50 (50 migration(s))" in first.stdout
    assert first.stderr == ""

    data = status_json(db, source, tmp_path)
    assert data["current"] == data["head"] == 50
    assert data["pending"] == []
    snap = read_db(db)
    assert sum(1 for kind, *_ in snap.schema if kind == "trigger") == 10
    assert snap.rows["t50"] == ((1, "row; of 50", 50),)
    assert snap.user_version == 50

    before = file_state(db)
    second = run_cli(["--db", str(db), "--source", str(source), "up"], cwd=tmp_path, script=script)
    assert second.returncode == 0
    assert second.stdout.strip() == f"{db}: up to date at version 50"
    assert file_state(db) == before


def test_syntax_error_on_line_4_of_the_third_pending_migration(tmp_path: Path) -> None:
    source = make_set(tmp_path, SET)
    db = tmp_path / "app.db"
    assert cli("--db", db, "--source", source, "up", cwd=tmp_path).returncode == 0
    make_set(
        tmp_path,
        {
            "0004_a.up.sql": "CREATE TABLE a (x);\n",
            "0005_b.up.sql": "INSERT INTO a VALUES (5);\n",
            "0006_bad.up.sql": "-- 1\nCREATE TABLE c (x);\n-- 3\nCREATE TABEL d (x);\n",
        },
    )
    before, before_bytes = read_db(db), db.read_bytes()
    result = cli("--db", db, "--source", source, "up", cwd=tmp_path)
    assert_clean_error(result, "'0006_bad.up.sql'", "(line 4)", "syntax error")
    assert result.stdout == ""
    assert read_db(db) == before
    assert db.read_bytes() == before_bytes


def test_edited_applied_migration_then_the_same_file_with_crlf(tmp_path: Path) -> None:
    source = make_set(tmp_path, SET)
    db = tmp_path / "app.db"
    assert cli("--db", db, "--source", source, "up", cwd=tmp_path).returncode == 0
    before = read_db(db)

    make_set(tmp_path, {"0002_tags.up.sql": "CREATE TABLE tags (note_id INTEGER, tag TEXT, n);\n"})
    result = cli("--db", db, "--source", source, "up", cwd=tmp_path)
    assert_clean_error(result, "version 2", "changed after they ran")
    assert read_db(db) == before
    data = status_json(db, source, tmp_path)
    assert data["modified"] == [2]
    assert cli("--db", db, "--source", source, "verify", cwd=tmp_path).returncode == 1

    make_set(tmp_path, {"0002_tags.up.sql": SET["0002_tags.up.sql"].replace("\n", "\r\n")})
    result = cli("--db", db, "--source", source, "up", cwd=tmp_path)
    assert result.returncode == 0
    assert result.stderr == ""
    assert "up to date at version 3" in result.stdout
    assert read_db(db) == before


def test_database_migrated_by_a_longer_set(tmp_path: Path) -> None:
    longer = make_set(tmp_path, {**SET, **numbered_set(2, start=4)}, subdir="release2")
    shorter = make_set(tmp_path, SET, subdir="release1")
    db = tmp_path / "app.db"
    assert cli("--db", db, "--source", longer, "up", cwd=tmp_path).returncode == 0
    before = read_db(db)
    result = cli("--db", db, "--source", shorter, "up", cwd=tmp_path)
    assert_clean_error(
        result,
        f"{db}: the database is newer than this app",
        "version(s) 4 (table_4), 5 (table_5)",
    )
    assert read_db(db) == before
    data = status_json(db, shorter, tmp_path)
    assert data["unknown"] == [4, 5]
    assert (data["current"], data["head"]) == (5, 3)


# -- commands ------------------------------------------------------------------------


def test_status_json_shape(tmp_path: Path) -> None:
    source = make_set(tmp_path, SET)
    db = tmp_path / "app.db"
    fresh = status_json(db, source, tmp_path)
    assert not db.exists()  # status does not create the file
    assert fresh["current"] is None
    assert fresh["head"] == 3
    assert fresh["pending"] == [1, 2, 3]
    assert fresh["applied"] == fresh["unknown"] == fresh["modified"] == []

    assert cli("--db", db, "--source", source, "up", "--to", "2", cwd=tmp_path).returncode == 0
    data = status_json(db, source, tmp_path)
    assert {"current", "head", "pending", "applied", "unknown", "modified"} <= set(data)
    assert (data["current"], data["head"], data["pending"]) == (2, 3, [3])
    applied = data["applied"]
    assert isinstance(applied, list)
    assert [(a["version"], a["name"]) for a in applied] == [(1, "notes"), (2, "tags")]
    ledger = read_db(db).ledger
    for entry, row in zip(applied, ledger):
        assert {"version", "name", "checksum", "applied_at"} <= set(entry)
        assert (entry["checksum"], entry["applied_at"]) == (row[2], row[3])


def test_status_text(tmp_path: Path) -> None:
    source = make_set(tmp_path, SET)
    result = cli("--db", tmp_path / "x.db", "--source", source, "status", cwd=tmp_path)
    assert result.returncode == 0
    assert "(does not exist yet)" in result.stdout
    assert "pending:  1, 2, 3" in result.stdout


def test_up_dry_run_prints_plan_and_sql_and_changes_nothing(tmp_path: Path) -> None:
    source = make_set(tmp_path, SET)
    db = tmp_path / "app.db"
    assert cli("--db", db, "--source", source, "up", "--to", "1", cwd=tmp_path).returncode == 0
    before = file_state(db)
    result = cli("--db", db, "--source", source, "up", "--dry-run", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "would migrate from version 1 to 3 (2 migration(s)); dry run on a copy" in result.stdout
    assert "-- 0002_tags.up.sql\nCREATE TABLE tags (note_id INTEGER, tag TEXT);" in result.stdout
    assert "INSERT INTO notes (title) VALUES ('hello; world');" in result.stdout
    assert "0001_notes" not in result.stdout
    assert file_state(db) == before

    missing = tmp_path / "new.db"
    result = cli("--db", missing, "--source", source, "up", "--dry-run", cwd=tmp_path)
    assert result.returncode == 0
    assert (
        "would migrate from an empty database to version 3 (3 migration(s)); dry run on a copy"
        in (result.stdout)
    )
    assert not missing.exists()


def test_up_to_and_down_to(tmp_path: Path) -> None:
    source = make_set(tmp_path, SET)
    db = tmp_path / "app.db"
    result = cli("--db", db, "--source", source, "up", "--to", "2", cwd=tmp_path)
    assert result.returncode == 0
    assert read_db(db).versions == (1, 2)
    assert cli("--db", db, "--source", source, "up", cwd=tmp_path).returncode == 0

    # 0003 has no down file: going below it is refused by name
    result = cli("--db", db, "--source", source, "down", "--to", "1", cwd=tmp_path)
    assert_clean_error(result, "without a down file: 3 (seed)")
    assert read_db(db).versions == (1, 2, 3)

    (source / "0003_seed.down.sql").write_text("DELETE FROM notes;\n")
    result = cli("--db", db, "--source", source, "down", "--to", "1", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "downgraded from version 3 to 1 (2 migration(s))" in result.stdout
    snap = read_db(db)
    assert (snap.versions, snap.user_version) == ((1,), 1)
    assert snap.rows["notes"] == ()
    assert "tags" not in snap.tables


def test_down_needs_to(tmp_path: Path) -> None:
    source = make_set(tmp_path, SET)
    result = cli("--db", tmp_path / "a.db", "--source", source, "down", cwd=tmp_path)
    assert result.returncode == 2
    assert "--to" in result.stderr


def test_new_writes_the_next_pair(tmp_path: Path) -> None:
    source = make_set(tmp_path, SET)
    result = cli("--source", source, "new", "add_due_date", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    up, down = source / "0004_add_due_date.up.sql", source / "0004_add_due_date.down.sql"
    assert result.stdout.split() == ["created", str(up), "created", str(down)]
    assert up.read_text().startswith("-- 0004_add_due_date")
    assert down.exists()
    # A placeholder up file holds no statement yet: the set refuses it until written.
    result = cli("--db", tmp_path / "a.db", "--source", source, "up", cwd=tmp_path)
    assert_clean_error(result, "'0004_add_due_date.up.sql' contains no SQL statement")
    # Nor the placeholder down file: a downgrade through it would undo nothing.
    up.write_text("ALTER TABLE notes ADD COLUMN due TEXT;\n")
    result = cli("--db", tmp_path / "a.db", "--source", source, "up", cwd=tmp_path)
    assert_clean_error(result, "'0004_add_due_date.down.sql' contains no SQL statement")
    down.unlink()  # irreversible, on purpose
    assert cli("--db", tmp_path / "a.db", "--source", source, "up", cwd=tmp_path).returncode == 0


def test_new_in_an_empty_directory_and_after_wide_numbers(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    assert cli("--source", empty, "new", "first", cwd=tmp_path).returncode == 0
    assert sorted(p.name for p in empty.iterdir()) == ["0001_first.down.sql", "0001_first.up.sql"]
    wide = make_set(tmp_path, {"20240101_start.up.sql": "SELECT 1;"}, subdir="wide")
    assert cli("--source", wide, "new", "next", cwd=tmp_path).returncode == 0
    assert (wide / "20240102_next.up.sql").exists()


@pytest.mark.parametrize("name", ["AddColumn", "add-column", "add column", "ünïcode"])
def test_new_refuses_a_bad_name(tmp_path: Path, name: str) -> None:
    source = make_set(tmp_path, SET)
    before = sorted(source.iterdir())
    result = cli("--source", source, "new", name, cwd=tmp_path)
    assert result.returncode == 2
    assert "lower-case letters, digits and '_'" in result.stderr
    assert sorted(source.iterdir()) == before


def test_new_refuses_a_package_source(tmp_path: Path) -> None:
    make_set(tmp_path, {"__init__.py": "", "0001_a.up.sql": "SELECT 1;"}, subdir="pkg_for_new/m")
    (tmp_path / "pkg_for_new" / "__init__.py").write_text("")
    result = cli("--source", "pkg_for_new:m", "new", "x", cwd=tmp_path, PYTHONPATH=str(tmp_path))
    assert_clean_error(result, "needs a directory source", "'pkg_for_new:m'")
    assert sorted(p.name for p in (tmp_path / "pkg_for_new" / "m").iterdir()) == [
        "0001_a.up.sql",
        "__init__.py",
    ]


def test_verify(tmp_path: Path) -> None:
    source = make_set(tmp_path, SET)
    db = tmp_path / "app.db"
    assert cli("--db", db, "--source", source, "up", cwd=tmp_path).returncode == 0
    result = cli("--db", db, "--source", source, "verify", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "ok: 3 migration file(s) valid" in result.stdout

    longer_db = tmp_path / "longer.db"
    longer = make_set(tmp_path, {**SET, **numbered_set(1, start=4)}, subdir="longer")
    assert cli("--db", longer_db, "--source", longer, "up", cwd=tmp_path).returncode == 0
    result = cli("--db", longer_db, "--source", source, "verify", cwd=tmp_path)
    assert_clean_error(result, "newer than this app", "version(s) 4")

    make_set(tmp_path, {"0004-oops.up.sql": "SELECT 1;"})
    result = cli("--db", db, "--source", source, "verify", cwd=tmp_path)
    assert_clean_error(result, "'0004-oops.up.sql'", "rename it to '0004_oops.up.sql'")


# -- settings ------------------------------------------------------------------------


def test_settings_from_the_environment(tmp_path: Path) -> None:
    source = make_set(tmp_path, SET)
    db = tmp_path / "env.db"
    result = cli("up", cwd=tmp_path, BOOTMIGRATE_DB=str(db), BOOTMIGRATE_SOURCE=str(source))
    assert result.returncode == 0, result.stderr
    assert read_db(db).versions == (1, 2, 3)


def test_options_win_over_the_environment(tmp_path: Path) -> None:
    source = make_set(tmp_path, SET)
    db = tmp_path / "option.db"
    result = cli(
        "--db", db, "up", cwd=tmp_path, BOOTMIGRATE_DB=str(tmp_path / "env.db"),
        BOOTMIGRATE_SOURCE=str(source),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert db.exists()
    assert not (tmp_path / "env.db").exists()


def test_settings_from_pyproject_in_the_current_directory(tmp_path: Path) -> None:
    project = tmp_path / "project"
    make_set(project, SET, subdir="db/migrations")
    (project / "var").mkdir()
    (project / "pyproject.toml").write_text(
        '[project]\nname = "app"\n\n[tool.bootmigrate]\n'
        'db = "var/app.db"\nsource = "db/migrations"\n'
    )
    result = cli("up", cwd=project)
    assert result.returncode == 0, result.stderr
    assert read_db(project / "var" / "app.db").versions == (1, 2, 3)
    data = json.loads(cli("status", "--json", cwd=project).stdout)
    assert data["current"] == 3
    # the environment wins over pyproject.toml
    env_db = tmp_path / "elsewhere.db"
    assert cli("up", cwd=project, BOOTMIGRATE_DB=str(env_db)).returncode == 0
    assert env_db.exists()


def test_broken_pyproject_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.bootmigrate\n")
    result = cli("status", cwd=tmp_path)
    # A usage error (exit 2): the settings of the command line are broken.
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.splitlines()[-1].startswith(
        f"bootmigrate: error: {tmp_path / 'pyproject.toml'}: cannot read [tool.bootmigrate] ("
    )


# -- exit status 2 and tracebacks ---------------------------------------------------


def test_missing_db_is_a_usage_error(tmp_path: Path) -> None:
    source = make_set(tmp_path, SET)
    result = cli("--source", source, "up", cwd=tmp_path)
    assert result.returncode == 2
    assert "usage: bootmigrate" in result.stderr
    assert "no db given: pass --db, set BOOTMIGRATE_DB" in result.stderr
    assert "Traceback" not in result.stderr


def test_missing_source_is_a_usage_error(tmp_path: Path) -> None:
    result = cli("--db", tmp_path / "a.db", "status", cwd=tmp_path)
    assert result.returncode == 2
    assert "no source given" in result.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["frobnicate"],  # unknown command
        [],  # no command
        ["up", "--to", "three"],  # not a number
        ["status", "--no-such-option"],
    ],
)
def test_argument_errors_exit_2(tmp_path: Path, args: list[str]) -> None:
    result = cli(*args, cwd=tmp_path)
    assert result.returncode == 2
    assert "usage: bootmigrate" in result.stderr
    assert "Traceback" not in result.stderr


def test_traceback_on_request(tmp_path: Path) -> None:
    source = make_set(tmp_path, {"0001_bad.up.sql": "CREATE TABLE (;\n"})
    db = tmp_path / "a.db"
    plain = cli("--db", db, "--source", source, "up", cwd=tmp_path)
    assert_clean_error(plain, "'0001_bad.up.sql' statement 1 (line 1)")
    traced = cli("--db", db, "--source", source, "up", "--traceback", cwd=tmp_path)
    assert traced.returncode == 1
    assert "Traceback (most recent call last)" in traced.stderr
    # The traceback names the exception as users import it (issue 9: public __module__).
    assert "bootmigrate.StatementError" in traced.stderr
    assert "sqlite3.OperationalError" in traced.stderr  # chained with `from`


def test_source_errors_exit_1_with_the_file(tmp_path: Path) -> None:
    source = make_set(tmp_path, {"0001_a.up.sql": "BEGIN;\nCREATE TABLE a (x);\nCOMMIT;\n"})
    result = cli("--db", tmp_path / "a.db", "--source", source, "status", cwd=tmp_path)
    assert_clean_error(result, "'0001_a.up.sql' line 1: BEGIN is transaction control")
    assert not (tmp_path / "a.db").exists()


def test_version(tmp_path: Path) -> None:
    import bootmigrate

    result = cli("--version", cwd=tmp_path)
    assert result.returncode == 0
    assert result.stdout.strip() == f"bootmigrate {bootmigrate.__version__}"


def test_verbose_logs_each_step_to_stderr(tmp_path: Path) -> None:
    source = make_set(tmp_path, SET)
    result = cli("--db", tmp_path / "a.db", "--source", source, "up", "-v", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    logged = [line.split(" in ")[0] for line in result.stderr.splitlines()]
    assert logged == [
        "bootmigrate: applied 0001_notes.up.sql",
        "bootmigrate: applied 0002_tags.up.sql",
        "bootmigrate: applied 0003_seed.up.sql",
    ]
    assert "migrated from an empty database to version 3" in result.stdout
