"""The pytest plugin, run with pytester on the example projects in tests/examples/."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).parent / "examples"

pytest_plugins = ["pytester"]


@pytest.fixture(autouse=True)
def _no_environment_source(monkeypatch):
    monkeypatch.delenv("BOOTMIGRATE_SOURCE", raising=False)


def project(pytester: pytest.Pytester, name: str) -> Path:
    shutil.copytree(EXAMPLES / name, pytester.path, dirs_exist_ok=True)
    return pytester.path


def test_without_the_flag_the_plugin_adds_only_fixtures(pytester):
    project(pytester, "passing")
    result = pytester.runpytest()
    result.assert_outcomes(passed=2)
    assert "bootmigrate::" not in result.stdout.str()


def test_the_passing_project_passes_one_test_per_check_and_version(pytester):
    project(pytester, "passing")
    result = pytester.runpytest("--bootmigrate", "-v")
    result.assert_outcomes(passed=14)
    result.stdout.fnmatch_lines(
        [
            "bootmigrate::convergence[[]0000_empty[]] PASSED*",
            "bootmigrate::convergence[[]0001_create_notes[]] PASSED*",
            "bootmigrate::convergence[[]0003_tags[]] PASSED*",
            "bootmigrate::round_trip[[]0002_add_pinned[]] PASSED*",
            "bootmigrate::populated[[]0003_tags[]] PASSED*",
            "bootmigrate::snapshot PASSED*",
            "bootmigrate::lock PASSED*",
            "tests/test_app.py::test_the_head_has_tags PASSED*",
        ]
    )


def test_marker_selects_only_the_kit(pytester):
    project(pytester, "passing")
    result = pytester.runpytest("--bootmigrate", "-m", "bootmigrate")
    result.assert_outcomes(passed=12, deselected=2)


def test_a_fresh_upgraded_divergence_fails_naming_the_origin(pytester):
    project(pytester, "divergence")
    result = pytester.runpytest("--bootmigrate")
    result.assert_outcomes(passed=8, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*_ bootmigrate: origin[[]1.4 upgraded[]] _*",
            "convergence from origin '1.4 upgraded': the database it built, upgraded to 2, "
            "does not have the schema of a new database at 2*",
            "+  column total_tokens INTEGER",
            "FAILED bootmigrate::origin[[]1.4 upgraded[]]*",
        ]
    )
    # the message is the kit's, not a traceback into the plugin
    assert "runtest" not in result.stdout.str()


def test_a_down_that_does_not_undo_its_up_fails_naming_the_version(pytester):
    project(pytester, "bad_down")
    result = pytester.runpytest("--bootmigrate")
    result.assert_outcomes(passed=8, failed=1)
    result.stdout.fnmatch_lines(
        [
            "round trip of 0002_add_pinned: 0002_add_pinned.down.sql does not undo "
            "0002_add_pinned.up.sql*",
            "+  column pinned INTEGER NOT NULL DEFAULT 0",
            "FAILED bootmigrate::round_trip[[]0002_add_pinned[]]*",
        ]
    )


def test_a_migration_that_breaks_on_rows_fails_naming_the_version(pytester):
    project(pytester, "populated")
    result = pytester.runpytest("--bootmigrate")
    # No fixture file: the kit's synthetic rows are what 0002 fails on, so a database at
    # version 1 cannot be upgraded, nor one at 2 built with rows, nor 0002 run on rows.
    result.assert_outcomes(passed=5, failed=3)
    result.stdout.fnmatch_lines(
        [
            "convergence from version 0001_create_notes: upgrading a database from version 1 "
            "to 2 failed: '0002_add_author.up.sql' statement 1 (line 1) failed: Cannot add a "
            "NOT NULL column*",
            "populated tables, 0002_add_author: the migration fails on tables that hold rows*"
            "'0002_add_author.up.sql' statement 1 (line 1) failed: Cannot add a NOT NULL column*",
        ]
    )
    result.stdout.fnmatch_lines(
        [
            "FAILED bootmigrate::convergence[[]0001_create_notes[]]*",
            "FAILED bootmigrate::convergence[[]0002_add_author[]]*",
            "FAILED bootmigrate::populated[[]0002_add_author[]]*",
        ]
    )


def test_a_false_compatibility_claim_fails_naming_the_statement(pytester):
    project(pytester, "false_claim")
    result = pytester.runpytest("--bootmigrate", "-v")
    # Only the two migrations that declare the claim get the check; 0002's is true.
    result.assert_outcomes(passed=10, failed=1)
    result.stdout.fnmatch_lines(["*bootmigrate::compatible[[]0002_add_tags[]] PASSED*"])
    result.stdout.fnmatch_lines(
        [
            "compatibility claim of 0003_rename_body: 0003_rename_body.up.sql is declared "
            "'-- bootmigrate: backward-compatible', but it does more than add, so the release "
            "at version 2 cannot rely on the database it leaves:",
            "- table notes: column body was renamed or moved (statement 2, line 4: "
            "ALTER TABLE notes RENAME COLUMN body TO text;)",
            "Remove the backward-compatible directive, or make the migration only add (new "
            "tables, indexes, views, triggers, nullable or defaulted columns).",
            "FAILED bootmigrate::compatible[[]0003_rename_body[]]*",
        ]
    )
    assert "compatible[0001" not in result.stdout.str()


def test_an_edited_locked_migration_fails_the_lock_test(pytester):
    project(pytester, "edited_lock")
    result = pytester.runpytest("--bootmigrate")
    result.assert_outcomes(passed=8, failed=1)
    result.stdout.fnmatch_lines(
        [
            "frozen history: bootmigrate.lock does not match the migrations:",
            "- '0001_create_notes.up.sql' changed after it was locked*",
            "FAILED bootmigrate::lock*",
        ]
    )


def test_a_stale_snapshot_fails_with_the_diff(pytester):
    path = project(pytester, "passing")
    (path / "migrations" / "0004_color.up.sql").write_text(
        "ALTER TABLE notes ADD COLUMN color TEXT;\n", encoding="utf-8"
    )
    result = pytester.runpytest("--bootmigrate", "-k", "snapshot")
    result.assert_outcomes(failed=1, deselected=15)
    result.stdout.fnmatch_lines(["*differs from the committed schema.sql*", "+  column color TEXT"])


def test_the_source_option_overrides_pyproject(pytester):
    project(pytester, "passing")
    (pytester.path / "pyproject.toml").write_text(
        '[tool.pytest.ini_options]\naddopts = "-p no:cacheprovider"\n', encoding="utf-8"
    )
    result = pytester.runpytest(
        "--bootmigrate", "--bootmigrate-source", "migrations", "-m", "bootmigrate"
    )
    result.assert_outcomes(passed=12, deselected=2)


def test_no_source_is_a_usage_error(pytester):
    pytester.makepyprojecttoml("[tool.pytest.ini_options]\n")
    result = pytester.runpytest("--bootmigrate")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*bootmigrate: no migration source; add source = *"])


def test_a_broken_migration_file_is_a_collection_error_naming_it(pytester):
    path = project(pytester, "populated")
    (path / "migrations" / "0003_bad.up.sql").write_text("BEGIN;\nSELECT 1;\n", encoding="utf-8")
    result = pytester.runpytest("--bootmigrate")
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines(
        [
            "*ERROR collecting bootmigrate*",
            "bootmigrate: the migrations of '*migrations': '0003_bad.up.sql' line 1: BEGIN is "
            "transaction control*",
        ]
    )
    assert "Traceback" not in result.stdout.str()


def test_loading_the_plugin_imports_no_test_kit():
    # The entry point loads the plugin in every pytest run of every project that has
    # bootmigrate installed; the kit is imported only when it is used.
    code = (
        "import sys, bootmigrate.testing.plugin\n"
        "print(sorted(m for m in sys.modules if m.startswith('bootmigrate')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    loaded = result.stdout
    assert "'bootmigrate.testing.plugin'" in loaded
    assert "'bootmigrate.testing._kit'" not in loaded
    assert "'bootmigrate.testing._hooks'" not in loaded


def test_a_package_source_is_tested_in_its_working_copy(pytester):
    # source = "myapp:migrations" as the app loads it; myapp is not installed, and the
    # kit finds the working copy under src/ (the CLI finds the same one).
    root = project(pytester, "passing")
    (root / "src" / "myapp").mkdir(parents=True)
    (root / "src" / "myapp" / "__init__.py").write_text("", encoding="utf-8")
    shutil.move(root / "migrations", root / "src" / "myapp" / "migrations")
    pyproject = root / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text(encoding="utf-8").replace(
            'source = "migrations"', 'source = "myapp:migrations"'
        ),
        encoding="utf-8",
    )
    result = pytester.runpytest("--bootmigrate", "-m", "bootmigrate")
    result.assert_outcomes(passed=12, deselected=2)


def test_an_unknown_key_in_the_configuration_is_a_usage_error(pytester):
    root = project(pytester, "passing")
    pyproject = root / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text(encoding="utf-8").replace("source =", "sorce ="), encoding="utf-8"
    )
    result = pytester.runpytest("--bootmigrate")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            f"ERROR: bootmigrate: {pyproject}: unknown key(s) in [tool.bootmigrate]: 'sorce' "
            "(did you mean 'source'?); the known keys are connect, db, directory, prepare, source"
        ]
    )


def test_a_squashed_baseline_is_checked_and_then_convergence_starts_at_it(pytester):
    import bootmigrate

    folder = project(pytester, "passing") / "migrations"
    bootmigrate.squash(folder, 2)
    bootmigrate.write_lock(folder)
    result = pytester.runpytest("--bootmigrate", "-v", "-m", "bootmigrate")
    result.assert_outcomes(passed=13)
    result.stdout.fnmatch_lines(["bootmigrate::baseline[[]0002_squashed[]] PASSED*"])
    # The files up to 2 deleted: the kit starts at the baseline, and checks what remains.
    for name in ("0001_create_notes", "0002_add_pinned"):
        for path in folder.glob(f"{name}.*.sql"):
            path.unlink()
    bootmigrate.write_lock(folder)
    # The app's rows hook looked for rows of 0001's fixture, which is gone with the file.
    (pytester.path / "conftest.py").write_text("")
    result = pytester.runpytest("--bootmigrate", "-v", "-m", "bootmigrate")
    result.assert_outcomes(passed=7)
    result.stdout.fnmatch_lines(
        [
            "bootmigrate::convergence[[]0000_empty[]] PASSED*",
            "bootmigrate::convergence[[]0002_squashed[]] PASSED*",
            "bootmigrate::convergence[[]0003_tags[]] PASSED*",
            "bootmigrate::round_trip[[]0003_tags[]] PASSED*",
            "bootmigrate::populated[[]0003_tags[]] PASSED*",
            "bootmigrate::snapshot PASSED*",
            "bootmigrate::lock PASSED*",
        ]
    )


def test_the_plain_kit_takes_the_projects_connect_setting(pytester):
    pytest.importorskip("pysqlite3.dbapi2", reason="pip install 'bootmigrate[pysqlite3]'")
    root = project(pytester, "passing")
    (root / "conftest.py").unlink()  # no hook: the plain kit
    (root / "appdb.py").write_text(
        "import pysqlite3.dbapi2 as dbapi2\n"
        "def connect(database, **options):\n"
        "    conn = dbapi2.connect(database, **options)\n"
        "    with open('opened.log', 'a') as log:\n"
        "        log.write(type(conn).__module__ + '\\n')\n"
        "    return conn\n",
        encoding="utf-8",
    )
    pyproject = root / "pyproject.toml"
    text = pyproject.read_text(encoding="utf-8")
    pyproject.write_text(
        text.replace("[tool.bootmigrate]\n", "[tool.bootmigrate]\nconnect = 'appdb:connect'\n"),
        encoding="utf-8",
    )
    result = pytester.runpytest_subprocess("--bootmigrate", "-m", "bootmigrate")
    result.assert_outcomes(passed=12, deselected=2)
    opened = (root / "opened.log").read_text(encoding="utf-8").splitlines()
    assert len(opened) > 5 and set(opened) == {"pysqlite3.dbapi2"}

    pyproject.write_text(
        text.replace("[tool.bootmigrate]\n", "[tool.bootmigrate]\nconnect = 'appdb:nothing'\n"),
        encoding="utf-8",
    )
    result = pytester.runpytest_subprocess("--bootmigrate")
    assert result.ret == pytest.ExitCode.INTERRUPTED  # the kit's collection fails
    result.stdout.fnmatch_lines(
        [
            "E   *UsageError: bootmigrate: cannot load the connect function "
            "'appdb:nothing': module 'appdb' has no attribute 'nothing'; *"
        ]
    )
