"""Package data that cannot be forgotten quietly.

A real app is built as a wheel and installed into a site folder of its own; its
checkout then holds a migration, the lock and schema.sql the wheel lacks (package data
that leaves out the lock, and a migration added after the build). ``verify`` and
``pytest --bootmigrate`` test the working copy and fail naming the files the installed
package lacks and the package-data lines that fix it; the fix, applied as the message
says, makes both pass.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from dbfiles import make_set
from processes import cli_env, run_cli
from wheels import build_wheel, run

FILES = {
    "0001_create_notes.up.sql": "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT);\n",
    "0001_create_notes.down.sql": "DROP TABLE notes;\n",
    "0002_add_tags.up.sql": "CREATE TABLE tags (id INTEGER PRIMARY KEY, name TEXT);\n",
    "0002_add_tags.down.sql": "DROP TABLE tags;\n",
}
THIRD = {
    "0003_add_flags.up.sql": "CREATE TABLE flags (id INTEGER PRIMARY KEY);\n",
    "0003_add_flags.down.sql": "DROP TABLE flags;\n",
}
PYPROJECT = """\
[build-system]
requires = ["setuptools>=61"]
build-backend = "setuptools.build_meta"

[project]
name = "myapp"
version = "1.0"

[tool.setuptools.package-data]
{package_data}

[tool.bootmigrate]
db = "app.db"
source = "myapp:migrations"
"""
README_SNIPPET = 'myapp = ["migrations/*.sql"]'  # the snippet that left the lock out


def install(project: Path, site: Path, out: Path) -> None:
    """Build *project*'s wheel and install it into the folder *site* (replacing it)."""
    wheel = build_wheel(project, out)
    run(
        [
            sys.executable,
            "-m",
            "pip",
            "--disable-pip-version-check",
            "install",
            "--quiet",
            "--no-deps",
            "--no-index",
            "--upgrade",
            "--target",
            site,
            wheel,
        ]
    )
    wheel.unlink()


def cli(project: Path, site: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_cli(list(args), cwd=project, env=cli_env(PYTHONPATH=str(site)), script=True)


def kit(project: Path, site: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "--bootmigrate", "-p", "no:cacheprovider", "-v"],
        cwd=project,
        env=cli_env(PYTHONPATH=str(site)),
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.mark.slow
@pytest.mark.process
def test_files_the_installed_package_lacks_fail_verify_and_the_kit(tmp_path):
    project, site = tmp_path / "myapp", tmp_path / "site"
    (project / "src" / "myapp").mkdir(parents=True)
    (project / ".git").mkdir()
    (project / "src" / "myapp" / "__init__.py").write_text("", encoding="utf-8")
    folder = make_set(project / "src" / "myapp", FILES)
    pyproject = project / "pyproject.toml"
    pyproject.write_text(PYPROJECT.format(package_data=README_SNIPPET), encoding="utf-8")
    for command in (["lock"], ["schema", "--write"]):  # in the working copy, by config
        assert cli(project, site, *command).returncode == 0
    install(project, site, tmp_path / "dist")
    installed = site / "myapp" / "migrations"
    assert sorted(p.name for p in installed.iterdir()) == [*sorted(FILES), "schema.sql"]

    # After the build, a new migration; the working copy's lock and snapshot follow it.
    make_set(project / "src" / "myapp", THIRD)
    for command in (["lock"], ["schema", "--write"]):
        done = cli(project, site, *command)
        assert done.returncode == 0, done.stderr
        assert str(folder) in done.stdout  # written into the checkout, not the site

    status = cli(project, site, "status")
    assert "head:     3" in status.stdout  # the working copy: 6 files, not the installed 4

    verify = cli(project, site, "verify")
    assert verify.returncode == 1
    lines = verify.stderr.splitlines()
    assert lines[0] == (
        f"bootmigrate: error: the installed package source 'myapp:migrations' ({installed}) "
        "lacks 0003_add_flags.down.sql, 0003_add_flags.up.sql, bootmigrate.lock, which its "
        f"working copy {folder} has: the app would boot without them; list them as package "
        "data in pyproject.toml, then reinstall the package (pip install . or pip install -e .):"
    )
    assert lines[1:] == [  # lines to paste
        "[tool.setuptools.package-data]",
        '"myapp" = ["migrations/*.sql", "migrations/bootmigrate.lock"]',
    ]

    tested = kit(project, site)
    assert tested.returncode == 1, tested.stdout
    assert "FAILED bootmigrate::package_data" in tested.stdout
    assert "lacks 0003_add_flags.down.sql, 0003_add_flags.up.sql, bootmigrate.lock" in tested.stdout
    assert "bootmigrate::convergence[0003_add_flags] PASSED" in tested.stdout
    failed = re.findall(r"^FAILED (\S+)", tested.stdout, flags=re.MULTILINE)
    assert failed == ["bootmigrate::package_data"]  # the working copy itself is fine

    # The fix, as the message gives it.
    fix = lines[2]
    pyproject.write_text(PYPROJECT.format(package_data=fix), encoding="utf-8")
    install(project, site, tmp_path / "dist")
    verify = cli(project, site, "verify")
    assert verify.returncode == 0, verify.stderr
    assert verify.stdout.startswith("ok: 3 migration file(s) valid; ")
    tested = kit(project, site)
    assert tested.returncode == 0, tested.stdout
    assert "bootmigrate::package_data PASSED" in tested.stdout


@pytest.mark.slow
@pytest.mark.process
def test_a_python_migration_the_installed_package_lacks_is_named_with_its_fix(tmp_path):
    # A Python migration is package data the boot needs too: one added since the last
    # install is named, and the lines to paste add migrations/*.py.
    project, site = tmp_path / "myapp", tmp_path / "site"
    (project / "src" / "myapp").mkdir(parents=True)
    (project / ".git").mkdir()
    (project / "src" / "myapp" / "__init__.py").write_text("", encoding="utf-8")
    folder = make_set(project / "src" / "myapp", FILES)
    pyproject = project / "pyproject.toml"
    snippet = 'myapp = ["migrations/*.sql", "migrations/bootmigrate.lock"]'
    pyproject.write_text(PYPROJECT.format(package_data=snippet), encoding="utf-8")
    assert cli(project, site, "lock").returncode == 0
    install(project, site, tmp_path / "dist")
    seed = "def up(conn):\n    conn.execute(\"INSERT INTO tags (name) VALUES ('a')\")\n"
    make_set(project / "src" / "myapp", {"0003_seed.up.py": seed})
    assert cli(project, site, "lock").returncode == 0
    installed = site / "myapp" / "migrations"

    verify = cli(project, site, "verify")
    assert verify.returncode == 1
    lines = verify.stderr.splitlines()
    assert lines[0] == (
        f"bootmigrate: error: the installed package source 'myapp:migrations' ({installed}) "
        f"lacks 0003_seed.up.py, which its working copy {folder} has: the app would boot "
        "without them; list them as package data in pyproject.toml, then reinstall the "
        "package (pip install . or pip install -e .):"
    )
    assert lines[1:] == [
        "[tool.setuptools.package-data]",
        '"myapp" = ["migrations/*.sql", "migrations/*.py", "migrations/bootmigrate.lock"]',
    ]
    pyproject.write_text(PYPROJECT.format(package_data=lines[2]), encoding="utf-8")
    install(project, site, tmp_path / "dist")
    assert "0003_seed.up.py" in {p.name for p in installed.iterdir()}
    verify = cli(project, site, "verify")
    assert verify.returncode == 0, verify.stderr
    up = cli(project, site, "up")
    assert up.returncode == 0, up.stderr
    assert "0003_seed" in up.stdout
