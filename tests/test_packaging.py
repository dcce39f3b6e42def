"""Sources from real packaging: an installed wheel, a zip import, an editable install.

The slow tests build wheels and virtual environments; each artefact is built once per
session (fixtures below) and shared. The fast tests at the end use a package directory
put on sys.path.
"""

from __future__ import annotations

import configparser
import email.message
import email.parser
import json
import os
import re
import subprocess
import sys
import tarfile
import textwrap
import zipfile
from pathlib import Path

import pytest

import bootmigrate
from bootmigrate import SourceNotFound
from dbfiles import REPO, make_set, read_db
from processes import cli_env, run_cli
from wheels import APP_PROJECT, build_sdist, build_wheel, make_venv, run

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


def readme_package_data(package: str) -> str:
    """The README's setuptools package-data snippet, for *package* instead of ``myapp``."""
    readme = (REPO / "README.md").read_text()
    found = re.search(r"```toml\n(\[tool\.setuptools\.package-data\]\n.*?)```", readme, re.S)
    assert found is not None, "the README has no package-data snippet"
    snippet = found.group(1)
    assert snippet.count("myapp = ") == 1, snippet
    return snippet.replace("myapp = ", f"{package} = ")


def write_example_project(root: Path) -> Path:
    """A tiny app that ships its migrations, lock and snapshot as the README says to."""
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

            """
        )
        + readme_package_data("bm_example")
    )
    (root / "src" / "bm_example" / "__init__.py").write_text('"""An example app."""\n')
    migrations = make_set(root / "src" / "bm_example", EXAMPLE_MIGRATIONS)
    bootmigrate.write_lock(migrations)
    bootmigrate.write_schema_snapshot(migrations)
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


# -- the distributions themselves ------------------------------------------------------
# What a package index would show and install: bootmigrate's wheel holds bootmigrate only,
# the reference app's wheel holds the app with its migrations, lock and snapshot, and the
# sdist builds bootmigrate's wheel and carries no tests (MANIFEST.in says why).


def _metadata(archive: zipfile.ZipFile) -> email.message.Message:
    (name,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
    return email.parser.Parser().parsestr(archive.read(name).decode())


def _console_scripts(archive: zipfile.ZipFile) -> dict[str, str]:
    (name,) = [n for n in archive.namelist() if n.endswith(".dist-info/entry_points.txt")]
    entry_points = configparser.ConfigParser()
    entry_points.read_string(archive.read(name).decode())
    return dict(entry_points["console_scripts"])


def _modules(package: str) -> list[str]:
    """Every module of src/<package>, as a wheel names it."""
    return sorted(
        p.relative_to(REPO / "src").as_posix() for p in (REPO / "src" / package).rglob("*.py")
    )


def _tested_pythons() -> list[str]:
    """The Pythons `make test-matrix` runs by default (PYTHONS in the Makefile)."""
    found = re.search(r"^PYTHONS \?= (.+)$", (REPO / "Makefile").read_text(), re.MULTILINE)
    assert found is not None, "no PYTHONS ?= line in the Makefile"
    return found.group(1).split()


@pytest.mark.slow
def test_project_wheel_contents(project_wheel: Path) -> None:
    archive = zipfile.ZipFile(project_wheel)
    names = set(archive.namelist())
    dist_info = f"bootmigrate-{bootmigrate.__version__}.dist-info"
    # bootmigrate and its metadata, nothing else: no sessionstore, no migrations.
    assert {n.split("/")[0] for n in names} == {"bootmigrate", dist_info}
    assert "bootmigrate/py.typed" in names
    # Every module of the package, so a new subpackage cannot be left out of pyproject.toml.
    assert [m for m in _modules("bootmigrate") if m not in names] == []
    assert archive.read(f"{dist_info}/licenses/LICENSE") == (REPO / "LICENSE").read_bytes()
    metadata = _metadata(archive)
    assert metadata["License-Expression"] == "MIT"
    assert metadata.get_all("License-File") == ["LICENSE"]
    classifiers = metadata.get_all("Classifier", [])
    assert "Operating System :: OS Independent" in classifiers
    assert [c for c in classifiers if c.startswith("Development Status :: ")] != []
    # The versions the package claims are the versions the matrix tests, oldest first.
    prefix = "Programming Language :: Python :: 3."
    claimed = [c.rsplit(" ", 1)[1] for c in classifiers if c.startswith(prefix)]
    pythons = _tested_pythons()
    assert claimed == pythons == ["3.9", "3.10", "3.11", "3.12", "3.13"]
    assert metadata["Requires-Python"] == f">={pythons[0]}"
    assert _console_scripts(archive) == {"bootmigrate": "bootmigrate._cli.main:main"}


@pytest.mark.slow
def test_app_wheel_contents(app_wheel: Path) -> None:
    archive = zipfile.ZipFile(app_wheel)
    names = set(archive.namelist())
    version = app_wheel.name.split("-")[1]
    assert {n.split("/")[0] for n in names} == {"sessionstore", f"sessionstore-{version}.dist-info"}
    assert "sessionstore/py.typed" in names
    assert [m for m in _modules("sessionstore") if m not in names] == []
    # The top-level migrations/ ships as the package sessionstore.migrations: every .sql
    # file (migrations, fixtures, schema.sql), the lock, the package's __init__.py.
    folder = REPO / "migrations"
    assert (folder / "schema.sql").is_file() and (folder / "bootmigrate.lock").is_file()
    expected = [p.name for p in folder.glob("*.sql")] + ["bootmigrate.lock", "__init__.py"]
    missing = [n for n in expected if f"sessionstore/migrations/{n}" not in names]
    assert missing == []
    shipped = "sessionstore/migrations/bootmigrate.lock"
    assert archive.read(shipped) == (folder / "bootmigrate.lock").read_bytes()
    requires = _metadata(archive).get_all("Requires-Dist", [])
    assert [r for r in requires if re.match(r"bootmigrate\b", r)] == ["bootmigrate>=0.1.0"]
    assert _console_scripts(archive) == {"sessionstore": "sessionstore.__main__:main"}


@pytest.fixture(scope="session")
def project_sdist(tmp_path_factory: pytest.TempPathFactory, project_copy: Path) -> Path:
    return build_sdist(project_copy, tmp_path_factory.mktemp("sdist"))


@pytest.mark.slow
def test_project_sdist_contents(project_sdist: Path) -> None:
    top = f"bootmigrate-{bootmigrate.__version__}/"
    with tarfile.open(project_sdist) as archive:
        members = archive.getnames()
    assert all(n == top.rstrip("/") or n.startswith(top) for n in members)
    names = {n[len(top) :] for n in members if n.startswith(top)}
    # What builds the wheel, and no tests, app, migrations or other folders of the repo.
    files = {"LICENSE", "MANIFEST.in", "PKG-INFO", "README.md", "pyproject.toml", "setup.cfg"}
    assert {n.split("/")[0] for n in names} == {*files, "src"}
    assert {n.split("/")[1] for n in names if n.startswith("src/")} == {
        "bootmigrate",
        "bootmigrate.egg-info",
    }
    assert [m for m in _modules("bootmigrate") if f"src/{m}" not in names] == []
    assert "src/bootmigrate/py.typed" in names


@pytest.mark.slow
def test_project_sdist_builds_the_wheel(
    project_sdist: Path, project_wheel: Path, tmp_path: Path
) -> None:
    # What pip does with an sdist: unpack it and build the wheel from what it holds alone.
    with tarfile.open(project_sdist) as archive:
        # 3.12+ warns without a filter; 3.9 before 3.9.17 has no filters.
        if hasattr(tarfile, "data_filter"):
            archive.extractall(tmp_path / "unpacked", filter="data")
        else:
            archive.extractall(tmp_path / "unpacked")
    (unpacked,) = (tmp_path / "unpacked").iterdir()
    rebuilt = build_wheel(unpacked, tmp_path / "dist")
    assert sorted(zipfile.ZipFile(rebuilt).namelist()) == sorted(
        zipfile.ZipFile(project_wheel).namelist()
    )


@pytest.mark.slow
def test_app_has_no_sdist(project_copy: Path, tmp_path: Path) -> None:
    # Its code lives outside reference-app/, so an sdist of that folder would be empty:
    # the build refuses and says what to build instead.
    app = project_copy / APP_PROJECT
    result = subprocess.run(
        [sys.executable, "-m", "build", "--sdist", "--no-isolation", "--outdir", tmp_path, app],
        capture_output=True,
        text=True,
        env=cli_env(),
        check=False,
    )
    assert result.returncode != 0
    assert (
        "sessionstore has no sdist: its code (../src/sessionstore) and migrations "
        "(../migrations) are outside reference-app/, and an sdist holds only that folder. "
        "Build the wheel instead: python -m build --wheel reference-app"
    ) in result.stdout + result.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
def test_example_wheel_carries_its_migrations(example_wheel: Path) -> None:
    # Built with the README's package-data snippet: the migrations, the lock and the
    # snapshot ship; the README.md beside them does not.
    names = {
        n.removeprefix("bm_example/migrations/")
        for n in zipfile.ZipFile(example_wheel).namelist()
        if n.startswith("bm_example/migrations/")
    }
    expected = [n for n in EXAMPLE_MIGRATIONS if n.endswith(".sql")]
    assert names == {*expected, "bootmigrate.lock", "schema.sql"}


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


# -- the README as a package index shows it (it is the wheel's long description) -------


def _readme_prose() -> str:
    """README.md without its fenced code blocks."""
    return re.sub(r"^```.*?^```", "", (REPO / "README.md").read_text(), flags=re.M | re.S)


def test_readme_links_work_on_a_package_index() -> None:
    # A package index renders the README on its own page: a relative link (to a file of
    # the repository) points at nothing there, and PyPI gives headings no anchors, so
    # only absolute links work. Name sections and files in plain text instead.
    targets = re.findall(r"\]\(([^)]*)\)", _readme_prose())
    assert [t for t in targets if not t.startswith("https://")] == []


def test_readme_names_only_files_of_the_repository() -> None:
    # A path in backquotes with a file extension: a file of the repository (or, as the
    # section "How bootmigrate is built" names them, of src/bootmigrate). var/ holds the
    # databases that `make run` creates, build/ what `make docs` writes.
    paths = re.findall(r"`([\w.-]+(?:/[\w.-]+)+\.[a-z]+)`", _readme_prose())
    assert paths  # the pattern still finds the README's paths
    missing = [
        p
        for p in paths
        if not p.startswith(("var/", "build/"))
        and not (REPO / p).is_file()
        and not (REPO / "src" / "bootmigrate" / p).is_file()
    ]
    assert missing == []
