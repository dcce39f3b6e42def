"""The project configuration and the command line's conventions.

``[tool.bootmigrate]`` found upward, its keys checked, paths relative to it; the working
copy of a package source (what ``new``, ``lock``, ``schema --write``, ``status`` and
``verify`` use); ``--prepare``/``--baseline`` modules from the project's folder;
``status --exit-code``; JSON errors; a closed pipe; ``--help`` examples; the wording of
the ``up``/``verify`` lines. Every database is reopened through a new connection.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import bootmigrate
from bootmigrate._cli import main as cli_main
from dbfiles import make_set, read_db
from processes import cli_env, run_cli

FILES = {
    "0001_create_notes.up.sql": "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT);\n",
    "0001_create_notes.down.sql": "DROP TABLE notes;\n",
    "0002_add_tags.up.sql": "CREATE TABLE tags (id INTEGER PRIMARY KEY, name TEXT NOT NULL);\n",
    "0002_add_tags.down.sql": "DROP TABLE tags;\n",
}
THIRD = {
    "0003_add_flags.up.sql": "CREATE TABLE flags (id INTEGER PRIMARY KEY);\n",
    "0003_add_flags.down.sql": "DROP TABLE flags;\n",
}


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("BOOTMIGRATE_DB", "BOOTMIGRATE_SOURCE", "BOOTMIGRATE_PREPARE"):
        monkeypatch.delenv(name, raising=False)


def write_project(root: Path, settings: str, *, files: dict[str, str] = FILES) -> Path:
    """A src-layout project ``myapp`` with its migrations in src/myapp/migrations."""
    root.mkdir(parents=True, exist_ok=True)
    (root / ".git").mkdir(exist_ok=True)  # a checkout: the upward search stops here
    (root / "pyproject.toml").write_text(
        '[project]\nname = "myapp"\nversion = "1.0"\n\n'
        '[tool.setuptools.package-data]\nmyapp = ["migrations/*.sql"]\n\n'
        f"[tool.bootmigrate]\n{settings}",
        encoding="utf-8",
    )
    (root / "src" / "myapp").mkdir(parents=True, exist_ok=True)
    (root / "src" / "myapp" / "__init__.py").write_text("", encoding="utf-8")
    make_set(root / "src" / "myapp", files)
    return root


def run(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    cwd: Path,
    *args: str,
) -> tuple[int, str, str]:
    """``bootmigrate ARGS`` in this process, from *cwd*."""
    monkeypatch.chdir(cwd)
    code = cli_main.main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


# -- pyproject.toml: found upward, checked --------------------------------------------


def test_settings_are_found_upward_and_relative_to_pyproject(tmp_path, monkeypatch, capsys):
    root = write_project(tmp_path / "proj", 'db = "var/app.db"\nsource = "src/myapp/migrations"\n')
    (root / "var").mkdir()
    code, out, err = run(monkeypatch, capsys, root / "src" / "myapp", "up")
    assert code == 0, err
    db = root / "var" / "app.db"
    assert out.startswith(f"{db}: migrated from an empty database to version 2 (2 migration(s))")
    assert read_db(db).versions == (1, 2)


def test_the_search_stops_at_a_repository_root(tmp_path, monkeypatch, capsys):
    outer = tmp_path / "outer"
    outer.mkdir()
    (outer / "pyproject.toml").write_text('[tool.bootmigrate]\ndb = "x.db"\n', encoding="utf-8")
    checkout = outer / "checkout"
    (checkout / ".git").mkdir(parents=True)
    (checkout / "sub").mkdir()
    code, _, err = run(monkeypatch, capsys, checkout / "sub", "status")
    assert code == 2
    assert err.endswith(
        "bootmigrate: error: no db given: pass --db, set BOOTMIGRATE_DB, or add db = ... "
        "under [tool.bootmigrate] in pyproject.toml\n"
    )


def test_an_unknown_key_is_an_error_naming_it(tmp_path, monkeypatch, capsys):
    root = write_project(tmp_path / "proj", 'sourse = "myapp:migrations"\nflavour = "x"\n')
    code, out, err = run(monkeypatch, capsys, root / "src", "--db", "app.db", "status")
    assert (code, out) == (2, "")
    assert err.endswith(
        f"bootmigrate: error: {root / 'pyproject.toml'}: unknown key(s) in "
        "[tool.bootmigrate]: 'flavour', 'sourse' (did you mean 'source'?); "
        "the known keys are connect, db, directory, prepare, source\n"
    )


def test_a_value_of_the_wrong_type_is_an_error_naming_the_key(tmp_path, monkeypatch, capsys):
    root = write_project(tmp_path / "proj", "db = 3\n")
    code, _, err = run(monkeypatch, capsys, root, "status")
    assert code == 2
    assert err.endswith(
        f"bootmigrate: error: {root / 'pyproject.toml'}: [tool.bootmigrate] db must be a "
        "string (the database file), not 3\n"
    )


def test_a_tilde_is_expanded_in_db_paths(tmp_path, monkeypatch, capsys):
    home = tmp_path / "home"
    (home / "data").mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    root = write_project(
        tmp_path / "proj", 'db = "~/data/app.db"\nsource = "src/myapp/migrations"\n'
    )
    code, _, err = run(monkeypatch, capsys, root, "up")
    assert code == 0, err
    assert read_db(home / "data" / "app.db").versions == (1, 2)
    code, _, err = run(monkeypatch, capsys, root, "--db", "~/data/other.db", "up", "--to", "1")
    assert code == 0, err
    assert read_db(home / "data" / "other.db").versions == (1,)
    assert not (root / "~").exists()


@pytest.mark.parametrize(
    "command", [["up"], ["up", "--dry-run"], ["status"], ["verify"], ["down", "--to", "0"]]
)
def test_a_missing_directory_of_the_database_is_an_error_first(
    tmp_path, monkeypatch, capsys, command
):
    source = make_set(tmp_path, FILES)
    code, out, err = run(
        monkeypatch, capsys, tmp_path, "--db", "nowhere/app.db", "--source", str(source), *command
    )
    assert (code, out) == (1, "")
    assert err == (
        "bootmigrate: error: nowhere/app.db: cannot open the database (the directory "
        f"{str(tmp_path / 'nowhere')!r} does not exist; create it first)\n"
    )
    assert not (tmp_path / "nowhere").exists()


# -- the working copy of a package source ---------------------------------------------


def test_commands_that_write_use_the_working_copy_of_a_package_source(
    tmp_path, monkeypatch, capsys
):
    # myapp is not importable here (not installed): its working copy is found under src/.
    root = write_project(tmp_path / "proj", 'db = "app.db"\nsource = "myapp:migrations"\n')
    folder = root / "src" / "myapp" / "migrations"
    code, out, err = run(monkeypatch, capsys, root, "lock", "--check")
    assert code == 1
    assert err == (
        f"bootmigrate: error: {folder} has no bootmigrate.lock; write it with `bootmigrate lock`\n"
    )
    code, out, err = run(monkeypatch, capsys, root, "lock")  # the advice works
    assert code == 0, err
    assert out == f"wrote {folder / 'bootmigrate.lock'}: 2 migration(s) locked, up to version 2\n"
    code, out, err = run(monkeypatch, capsys, root, "new", "add_flags")
    assert code == 0, err
    assert out == (
        f"created {folder / '0003_add_flags.up.sql'}\n"
        f"created {folder / '0003_add_flags.down.sql'}\n"
    )
    for name, text in THIRD.items():  # the new files hold their statements
        (folder / name).write_text(text, encoding="utf-8")
    code, out, err = run(monkeypatch, capsys, root, "lock", "--check")
    assert code == 0, err
    assert "not locked yet: 3 (run `bootmigrate lock` when you release them)" in out
    code, out, err = run(monkeypatch, capsys, root / "src", "schema", "--write")
    assert (code, err) == (0, "")
    assert (folder / "schema.sql").is_file()


def test_a_configured_directory_is_the_working_copy(tmp_path, monkeypatch, capsys):
    root = write_project(
        tmp_path / "proj",
        'db = "app.db"\nsource = "myapp:migrations"\ndirectory = "db/migrations"\n',
    )
    elsewhere = make_set(root / "db", FILES)
    code, _, err = run(monkeypatch, capsys, root, "new", "add_flags")
    assert code == 0, err
    assert (elsewhere / "0003_add_flags.up.sql").is_file()
    assert not (root / "src" / "myapp" / "migrations" / "0003_add_flags.up.sql").exists()


def test_a_configured_directory_that_does_not_exist(tmp_path, monkeypatch, capsys):
    root = write_project(
        tmp_path / "proj", 'db = "app.db"\nsource = "myapp:migrations"\ndirectory = "nope"\n'
    )
    code, _, err = run(monkeypatch, capsys, root, "status")
    assert code == 1
    assert err == (
        f"bootmigrate: error: {root / 'pyproject.toml'}: [tool.bootmigrate] directory "
        f"{str(root / 'nope')!r} is not a directory; set it to the folder of the "
        "migrations, relative to pyproject.toml\n"
    )


# -- status --exit-code, JSON errors ----------------------------------------------------


def test_status_exit_codes(tmp_path, monkeypatch, capsys):
    source = make_set(tmp_path, FILES)
    db = tmp_path / "app.db"
    common = ["--db", str(db), "--source", str(source), "status", "--exit-code"]
    assert run(monkeypatch, capsys, tmp_path, *common)[0] == 3  # pending (a new file)
    assert run(monkeypatch, capsys, tmp_path, *common[:4], "up", "--to", "1")[0] == 0
    code, out, _ = run(monkeypatch, capsys, tmp_path, *common)
    assert code == 3 and "pending:  2" in out
    assert run(monkeypatch, capsys, tmp_path, *common[:4], "up")[0] == 0
    assert run(monkeypatch, capsys, tmp_path, *common)[0] == 0  # up to date
    assert run(monkeypatch, capsys, tmp_path, *common[:5])[0] == 0  # no --exit-code
    (source / "0002_add_tags.up.sql").write_text(
        "CREATE TABLE tags (id INTEGER PRIMARY KEY, label TEXT);\n", encoding="utf-8"
    )
    code, out, _ = run(monkeypatch, capsys, tmp_path, *common)
    assert code == 4 and "problem:  " in out  # an applied migration was modified
    assert run(monkeypatch, capsys, tmp_path, *common[:5])[0] == 0
    code, _, err = run(monkeypatch, capsys, tmp_path, "--db", str(db), "--source", "x", *common[4:])
    assert code == 1 and "does not exist or is not a directory" in err  # an error
    assert run(monkeypatch, capsys, tmp_path, "--source", str(source), *common[4:])[0] == 2


def test_json_errors_are_one_object_on_stdout(tmp_path, monkeypatch, capsys):
    db = str(tmp_path / "app.db")
    code, out, err = run(
        monkeypatch, capsys, tmp_path, "--db", db, "--source", "missing", "status", "--json"
    )
    assert (code, err) == (1, "")
    assert json.loads(out) == {
        "error": {
            "type": "SourceNotFound",
            "message": "the migration directory 'missing' does not exist or is not a "
            "directory; pass an existing directory, or 'pkg:folder' for a package's resources",
        }
    }
    code, out, err = run(monkeypatch, capsys, tmp_path, "--db", "no/app.db", "schema", "--json")
    assert (code, err) == (1, "")
    assert json.loads(out)["error"]["type"] == "DatabaseUnavailable"
    code, out, err = run(monkeypatch, capsys, tmp_path, "--source", "x", "status", "--json")
    assert (code, err) == (2, "")
    assert json.loads(out) == {
        "error": {
            "type": "UsageError",
            "message": "no db given: pass --db, set BOOTMIGRATE_DB, or add db = ... under "
            "[tool.bootmigrate] in pyproject.toml",
        }
    }
    with pytest.raises(SystemExit) as exited:  # argparse's own errors too
        cli_main.main(["status", "--json", "--no-such-option"])
    captured = capsys.readouterr()
    assert (exited.value.code, captured.err) == (2, "")
    assert json.loads(captured.out) == {
        "error": {"type": "UsageError", "message": "unrecognized arguments: --no-such-option"}
    }


def test_every_command_has_help_with_an_example(capsys):
    for command in cli_main._COMMANDS:
        with pytest.raises(SystemExit) as exited:
            cli_main.main([command, "--help"])
        assert exited.value.code == 0
        out = capsys.readouterr().out
        assert f"usage: bootmigrate {command}" in out
        assert "\nexamples:\n  bootmigrate " in out, command
    with pytest.raises(SystemExit):
        cli_main.main(["status", "--help"])
    out = capsys.readouterr().out
    assert "  3  status --exit-code: migrations are pending\n" in out
    assert "  4  status --exit-code: a problem" in out


# -- wording ---------------------------------------------------------------------------


def test_the_lines_of_up_and_verify(tmp_path, monkeypatch, capsys):
    source = make_set(tmp_path, {**FILES, **THIRD})
    db = tmp_path / "app.db"
    common = ["--db", str(db), "--source", str(source)]
    code, out, _ = run(monkeypatch, capsys, tmp_path, *common, "verify")
    assert (code, out) == (
        0,
        f"ok: 3 migration file(s) valid; {db} has no migration applied, 3 pending (ran "
        "without error on a copy of the database)\n",
    )
    code, out, _ = run(monkeypatch, capsys, tmp_path, *common, "up", "--to", "2")
    assert out.startswith(f"{db}: migrated from an empty database to version 2 (2 migration(s))\n")
    code, out, err = run(monkeypatch, capsys, tmp_path, *common, "up", "--to", "2")
    assert (code, out, err) == (0, f"{db}: already at version 2 (head is 3)\n", "")
    code, out, err = run(monkeypatch, capsys, tmp_path, *common, "up", "--to", "1")
    assert (code, out) == (1, "")
    assert err == (
        "bootmigrate: error: target version 1 is below the database's version 2; to go "
        "back, run `bootmigrate down --to 1` (bootmigrate.downgrade(db, source, 1) from "
        "Python)\n"
    )
    code, out, err = run(monkeypatch, capsys, tmp_path, *common, "down", "--to", "3")
    assert err == (
        "bootmigrate: error: target version 3 is above the database's version 2; to go "
        "forward, run `bootmigrate up --to 3` (bootmigrate.migrate(db, source, target=3) "
        "from Python)\n"
    )
    code, out, _ = run(monkeypatch, capsys, tmp_path, *common, "verify")
    assert out == (
        f"ok: 3 migration file(s) valid; {db} is at version 2, 1 pending (ran without error "
        "on a copy of the database)\n"
    )
    code, out, _ = run(monkeypatch, capsys, tmp_path, *common, "down", "--to", "0")
    assert out.startswith(
        f"{db}: downgraded from version 2 to version 0 (no migration applied) (2 migration(s))\n"
    )
    assert read_db(db).versions == ()


# -- processes: the console script, a closed pipe -------------------------------------

PREPARE_HOOKS = """\
import bootmigrate

def prepare(conn):
    conn.create_function("shout", 1, lambda text: text.upper(), deterministic=True)

BASELINE = bootmigrate.Baseline(detect=lambda conn: None, highest=1)
"""


@pytest.mark.process
def test_prepare_and_baseline_modules_come_from_the_project_folder(tmp_path):
    root = write_project(
        tmp_path / "proj",
        'db = "app.db"\nsource = "src/myapp/migrations"\n',
        files={
            **FILES,
            "0003_seed.up.sql": "INSERT INTO notes (body) VALUES (shout('hi'));\n",
            "0003_seed.down.sql": "DELETE FROM notes;\n",
        },
    )
    (root / "app_hooks.py").write_text(PREPARE_HOOKS, encoding="utf-8")
    # The installed console script, run from a subfolder: neither puts the project's
    # folder on sys.path by itself.
    done = run_cli(
        ["--prepare", "app_hooks:prepare", "up", "--baseline", "app_hooks:BASELINE"],
        cwd=root / "src",
        script=True,
    )
    assert done.returncode == 0, done.stderr
    assert read_db(root / "app.db").rows["notes"] == ((1, "HI"),)
    done = run_cli(["--prepare", "no_such_hooks:prepare", "up"], cwd=root / "src", script=True)
    assert done.returncode == 1
    assert done.stderr == (
        "bootmigrate: error: cannot load the --prepare function 'no_such_hooks:prepare': "
        f"No module named 'no_such_hooks'; modules are imported from {root} and the "
        "installed packages\n"
    )


@pytest.mark.process
def test_a_closed_pipe_ends_quietly(tmp_path):
    source = make_set(tmp_path, FILES)
    db = tmp_path / "app.db"
    assert run_cli(["--db", db, "--source", source, "up"]).returncode == 0
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before the command writes: `| head -0`
    try:
        done = subprocess.run(
            [sys.executable, "-m", "bootmigrate", "--db", db, "schema"],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            env=cli_env(),
            check=False,
        )
    finally:
        os.close(write_end)
    assert (done.returncode, done.stderr) == (1, "")
    # And through a shell pipeline with head, as a user types it.
    done = subprocess.run(
        f"{Path(sys.executable).parent / 'bootmigrate'} --db {db} --source {source} status "
        "| head -1",
        shell=True,
        capture_output=True,
        text=True,
        env=cli_env(),
        check=False,
    )
    assert (done.stdout, done.stderr) == (f"database: {db}\n", "")


def test_a_library_error_keeps_its_class_in_json(tmp_path, monkeypatch, capsys):
    source = make_set(tmp_path, FILES)
    (source / "0002_add_tags.up.sql").write_text("", encoding="utf-8")
    code, out, _ = run(
        monkeypatch, capsys, tmp_path, "--db", "app.db", "--source", str(source), "status", "--json"
    )
    assert code == 1
    error = json.loads(out)["error"]
    assert error["type"] == bootmigrate.EmptyMigration.__name__
    assert "0002_add_tags.up.sql" in error["message"]


@pytest.mark.process
def test_an_editable_install_reads_the_package_and_writes_its_folder(tmp_path):
    # myapp imported from the checkout itself (as an editable install does): the
    # commands read the package source as the app does and write into its folder.
    root = write_project(tmp_path / "proj", 'db = "app.db"\nsource = "myapp:migrations"\n')
    folder = root / "src" / "myapp" / "migrations"
    env = cli_env(PYTHONPATH=str(root / "src"))
    done = run_cli(["new", "add_flags"], cwd=root, env=env, script=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"created {folder / '0003_add_flags.up.sql'}\n")
    for name, text in THIRD.items():
        (folder / name).write_text(text, encoding="utf-8")
    done = run_cli(["status", "--json"], cwd=root, env=env, script=True)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["source"] == "myapp:migrations"
    assert json.loads(done.stdout)["pending"] == [1, 2, 3]
    done = run_cli(["verify"], cwd=root, env=env, script=True)
    assert done.returncode == 0, done.stderr  # nothing to compare: one copy
