"""Sources from real packaging: an installed wheel, a zip import, an editable install.

The slow tests build wheels and virtual environments; each artefact is built once per
session (fixtures below) and shared. The fast tests at the end use a package directory
put on sys.path.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

import bootmigrate
from bootmigrate import SourceNotFound
from dbfiles import REPO, make_set, read_db
from processes import cli_env, run_cli
from wheels import build_wheel, make_venv, run

EXAMPLE_MIGRATIONS = {
    "0001_create_items.up.sql": "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT);\n",
    "0001_create_items.down.sql": "DROP TABLE items;\n",
    "0002_item_tags.up.sql": (
        "CREATE TABLE item_tags (item_id INTEGER, tag TEXT);\n"
        "CREATE TRIGGER items_gone AFTER DELETE ON items\n"
        "BEGIN\n    DELETE FROM item_tags WHERE item_id = OLD.id;\nEND;\n"
    ),
    "README.md": "Not a migration; ignored.\n",
}


def write_example_project(root: Path) -> Path:
    """A tiny app that ships its migrations as package data, as the README tells apps to."""
    (root / "src" / "bm_example").mkdir(parents=True)
    (root / "pyproject.toml").write_text(
        textwrap.dedent(
            """\
            [build-system]
            requires = ["setuptools>=68"]
            build-backend = "setuptools.build_meta"

            [project]
            name = "bm-example"
            version = "1.0"

            [tool.setuptools.package-data]
            bm_example = ["migrations/*.sql"]
            """
        )
    )
    (root / "src" / "bm_example" / "__init__.py").write_text('"""An example app."""\n')
    make_set(root / "src" / "bm_example", EXAMPLE_MIGRATIONS)
    return root


@pytest.fixture(scope="session")
def example_wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("example")
    return build_wheel(write_example_project(root / "project"), root / "dist")


@pytest.fixture(scope="session")
def installed(
    tmp_path_factory: pytest.TempPathFactory, project_wheel: Path, example_wheel: Path
) -> Path:
    """A fresh venv with bootmigrate and the example app installed from their wheels."""
    return make_venv(tmp_path_factory.mktemp("venv") / "env", project_wheel, example_wheel)


# -- the wheels themselves ------------------------------------------------------------


@pytest.mark.slow
def test_example_wheel_carries_its_migrations(example_wheel: Path) -> None:
    names = set(zipfile.ZipFile(example_wheel).namelist())
    for name in EXAMPLE_MIGRATIONS:
        if name.endswith(".sql"):
            assert f"bm_example/migrations/{name}" in names


@pytest.mark.slow
def test_project_wheel_contents(project_wheel: Path) -> None:
    archive = zipfile.ZipFile(project_wheel)
    names = set(archive.namelist())
    assert "bootmigrate/py.typed" in names
    # Every module of the package, so a new subpackage cannot be left out of pyproject.toml.
    modules = sorted(
        p.relative_to(REPO / "src").as_posix() for p in (REPO / "src/bootmigrate").rglob("*.py")
    )
    assert [m for m in modules if m not in names] == []
    # Every top-level migrations/*.sql ships as sessionstore.migrations package data.
    shipped = sorted(p.name for p in (REPO / "migrations").glob("*.sql"))
    missing = [n for n in shipped if f"sessionstore/migrations/{n}" not in names]
    assert missing == []
    if (REPO / "migrations" / "bootmigrate.lock").exists():
        assert "sessionstore/migrations/bootmigrate.lock" in names
    (entry_points,) = [n for n in names if n.endswith(".dist-info/entry_points.txt")]
    assert "bootmigrate = bootmigrate._cli.main:main" in archive.read(entry_points).decode()


# -- (a) an installed wheel in a fresh virtual environment ---------------------------


@pytest.mark.slow
def test_installed_wheel_source(installed: Path, tmp_path: Path) -> None:
    db = tmp_path / "app.db"
    where = run(
        [installed, "-c", "import bootmigrate, bm_example; print(bootmigrate.__file__)"],
        cwd=tmp_path,
    )
    assert Path(where.strip()).is_relative_to(installed.parent.parent)  # not the checkout
    args = ["--db", str(db), "--source", "bm_example:migrations"]
    up = run_cli([*args, "up"], cwd=tmp_path, python=installed, script=True)
    assert up.returncode == 0, up.stderr
    assert "migrated from an empty database to version 2" in up.stdout
    result = run_cli([*args, "status", "--json"], cwd=tmp_path, python=installed, script=True)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert (data["current"], data["head"], data["pending"]) == (2, 2, [])
    assert data["source"] == "bm_example:migrations"
    assert "item_tags" in read_db(db).tables


@pytest.mark.slow
def test_installed_default_folder_is_migrations(installed: Path, tmp_path: Path) -> None:
    result = run_cli(
        ["--db", str(tmp_path / "a.db"), "--source", "bm_example:", "status", "--json"],
        cwd=tmp_path,
        python=installed,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["head"] == 2


# -- (b) a zip import ----------------------------------------------------------------


@pytest.mark.slow
def test_zip_import_source(example_wheel: Path, tmp_path: Path) -> None:
    # A wheel is a zip: put it on sys.path and import the package from inside it.
    script = textwrap.dedent(
        """\
        import sys, zipimport
        import bootmigrate, bm_example
        assert isinstance(bm_example.__spec__.loader, zipimport.zipimporter), bm_example.__spec__
        report = bootmigrate.migrate(sys.argv[1], "bm_example:migrations")
        print(report.to_version, bootmigrate.status(sys.argv[1], "bm_example:migrations").head)
        """
    )
    env = cli_env(PYTHONPATH=os.pathsep.join([str(example_wheel), str(REPO / "src")]))
    result = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "app.db")],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["2", "2"]
    assert read_db(tmp_path / "app.db").versions == (1, 2)


# -- (c) an editable install ---------------------------------------------------------


@pytest.mark.slow
def test_editable_install_source(tmp_path: Path, project_wheel: Path) -> None:
    project = write_example_project(tmp_path / "project")
    out = tmp_path / "dist"
    out.mkdir()
    # What pip does for `pip install -e`: the PEP 660 hook builds an editable wheel.
    run(
        [
            sys.executable,
            "-c",
            "import sys; from setuptools import build_meta; build_meta.build_editable(sys.argv[1])",
            out,
        ],
        cwd=project,
    )
    (editable,) = out.glob("*.whl")
    python = make_venv(tmp_path / "env", project_wheel, editable)
    args = ["--db", str(tmp_path / "app.db"), "--source", "bm_example:migrations"]
    assert run_cli([*args, "up"], cwd=tmp_path, python=python).returncode == 0
    # The installed package reads the checkout: a new file there is a new migration.
    make_set(
        project / "src" / "bm_example", {"0003_more.up.sql": "ALTER TABLE items ADD note TEXT;"}
    )
    result = run_cli([*args, "status", "--json"], cwd=tmp_path, python=python)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert (data["current"], data["head"], data["pending"]) == (2, 3, [3])


# -- (d) fast: a package directory on sys.path ----------------------------------------


@pytest.fixture
def package_on_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Package ``bm_dirpkg_<n>`` (unique per test: imports are cached) with migrations."""
    name = f"bm_dirpkg_{abs(hash(str(tmp_path))) % 10**8}"
    root = tmp_path / "site"
    make_set(root, {"__init__.py": ""}, subdir=name)
    make_set(root / name, EXAMPLE_MIGRATIONS)
    make_set(root / name, {"__init__.py": "", "0001_a.up.sql": "SELECT 1;"}, subdir="sub/inner")
    (root / name / "sub" / "__init__.py").write_text("")
    monkeypatch.syspath_prepend(str(root))
    return root / name


def test_package_source(package_on_path: Path, tmp_path: Path) -> None:
    name = package_on_path.name
    loaded = bootmigrate.load(f"{name}:migrations")
    assert loaded.versions == (1, 2)
    assert loaded.origin == f"{name}:migrations"
    assert bootmigrate.load(f"{name}:").versions == (1, 2)  # folder defaults to migrations
    assert bootmigrate.load(f"{name}.sub:inner").versions == (1,)  # dotted package
    assert bootmigrate.load(f"{name}:sub/inner").versions == (1,)  # nested folder
    assert bootmigrate.load(f"{name}.sub.inner:.").versions == (1,)  # the package itself
    report = bootmigrate.migrate(tmp_path / "app.db", f"{name}:migrations")
    assert report.source == f"{name}:migrations"
    assert read_db(tmp_path / "app.db").versions == (1, 2)


def test_package_source_missing_folder(package_on_path: Path) -> None:
    with pytest.raises(SourceNotFound, match="has no resource folder 'nope'"):
        bootmigrate.load(f"{package_on_path.name}:nope")


def test_package_source_directory_wins_only_without_colon(
    package_on_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A relative directory path is a directory, even if a package has the same name.
    monkeypatch.chdir(package_on_path)
    assert bootmigrate.load("migrations").origin == "migrations"
    assert bootmigrate.load(Path("migrations")).versions == (1, 2)


def test_zip_package_source_without_directory_entries(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Wheels list files only, no directory entries; Python 3.9's zipfile.Path says
    # is_file() for a missing entry, so reading an absent lock file must still give None.
    from bootmigrate._source.locate import resolve

    name = f"bm_zippkg_{abs(hash(str(tmp_path))) % 10**8}"
    archive = tmp_path / "app.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr(f"{name}/__init__.py", "")
        for filename, text in EXAMPLE_MIGRATIONS.items():
            zf.writestr(f"{name}/migrations/{filename}", text)
    monkeypatch.syspath_prepend(str(archive))
    source = resolve(f"{name}:migrations")
    assert source.directory is None
    assert source.read_text("bootmigrate.lock") is None
    assert source.read_text("0001_create_items.down.sql") == "DROP TABLE items;\n"
    assert bootmigrate.load(f"{name}:migrations").versions == (1, 2)
    with pytest.raises(SourceNotFound):
        bootmigrate.load(f"{name}:nope")
    bootmigrate.migrate(tmp_path / "app.db", f"{name}:migrations")
    assert read_db(tmp_path / "app.db").versions == (1, 2)
