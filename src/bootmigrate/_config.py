"""The project the CLI and the pytest plugin run in: its settings and its working copy.

Settings come from the command-line option, then ``BOOTMIGRATE_DB`` /
``BOOTMIGRATE_SOURCE`` / ``BOOTMIGRATE_PREPARE``, then ``[tool.bootmigrate]`` (``db``,
``source``, ``directory``, ``prepare``) of the nearest ``pyproject.toml``: the one in the
current directory or the first found going up from it, stopping at a folder that holds
``.git``, ``.hg`` or ``.svn`` (a repository's root) or at the filesystem root. Paths
there are relative to that file's folder; ``~`` is expanded in every path.

A package source (``"myapp:migrations"``) names what the app loads at boot, which after
a normal install is the installed copy. The commands and the test kit work on the
*working copy* instead, the folder being edited: ``directory`` when it is set, else the
package's own folder when it is inside the project (an editable install), else
``src/myapp/migrations`` or ``myapp/migrations`` under the project's folder. When the
installed copy is elsewhere, :func:`package_data_problem` says which of the working
copy's files it lacks (package data a build left out, or an install not redone).
"""

from __future__ import annotations

import difflib
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ._errors import SourceError, UsageError
from ._schema.snapshot import SNAPSHOT_FILENAME
from ._source import locate
from ._source.lockfile import LOCK_FILENAME

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised by the 3.9/3.10 runs of the matrix
    import tomli as tomllib

#: The keys of ``[tool.bootmigrate]`` and what each holds (all strings).
KEYS = {
    "db": "the database file",
    "source": "the migrations: 'pkg:folder' or a directory",
    "directory": "the working copy of a package source's migrations",
    "prepare": "MODULE:FUNCTION called with each connection a command opens",
    "connect": "MODULE:FUNCTION that opens the database, called as sqlite3.connect is",
}
ENV = {
    "db": "BOOTMIGRATE_DB",
    "source": "BOOTMIGRATE_SOURCE",
    "prepare": "BOOTMIGRATE_PREPARE",
    "connect": "BOOTMIGRATE_CONNECT",
}
#: A folder holding one of these is a repository's root: the search for pyproject.toml
#: stops there, so a checkout never picks up the settings of a folder around it.
VCS_MARKERS = (".git", ".hg", ".svn")
# Settings that are paths, made absolute against the pyproject's folder.
_PATH_KEYS = ("db", "directory")


@dataclass(frozen=True)
class Project:
    """Where a command runs: the folder of its ``pyproject.toml`` and its settings."""

    #: The folder of ``pyproject.toml``; the current directory when there is none.
    folder: Path
    #: The file the settings came from, or None.
    pyproject: Path | None = None
    #: ``[tool.bootmigrate]``, checked, with its paths made absolute.
    settings: dict[str, str] = field(default_factory=dict)


def find_pyproject(start: Path | None = None) -> Path | None:
    """The nearest ``pyproject.toml`` at or above *start* (default: the current
    directory), not above a repository's root; None when there is none."""
    folder = (start or Path.cwd()).absolute()
    for candidate in (folder, *folder.parents):
        path = candidate / "pyproject.toml"
        if path.is_file():
            return path
        if any((candidate / marker).exists() for marker in VCS_MARKERS):
            return None
    return None


def load_project(start: Path | None = None) -> Project:
    """The project around *start* (default: the current directory).

    Raises :class:`UsageError` for a ``pyproject.toml`` that cannot be read, an unknown
    key in ``[tool.bootmigrate]`` (naming it, a close known key and all known keys) or a
    value that is not a string.
    """
    path = find_pyproject(start)
    if path is None:
        return Project((start or Path.cwd()).absolute())
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: cannot read [tool.bootmigrate] ({exc})") from exc
    table = data.get("tool", {}).get("bootmigrate", {})
    if not isinstance(table, dict):
        raise UsageError(f"{path}: [tool.bootmigrate] must be a table")
    return Project(path.parent, path, _checked(path, table))


def _checked(path: Path, table: dict[str, Any]) -> dict[str, str]:
    unknown = sorted(set(table) - set(KEYS))
    if unknown:
        hints = []
        for key in unknown:
            close = difflib.get_close_matches(key, KEYS, n=1)
            hints.append(f"{key!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
        raise UsageError(
            f"{path}: unknown key(s) in [tool.bootmigrate]: {', '.join(hints)}",
            f"the known keys are {', '.join(sorted(KEYS))}",
        )
    settings: dict[str, str] = {}
    for key, value in table.items():
        if not isinstance(value, str):
            raise UsageError(
                f"{path}: [tool.bootmigrate] {key} must be a string ({KEYS[key]}), not {value!r}"
            )
        if key in _PATH_KEYS or (key == "source" and locate.package_spec(value) is None):
            value = str(path.parent / os.path.expanduser(value))
        settings[key] = value
    return settings


def importable(project: Project) -> None:
    """Let ``prepare``, ``connect`` and ``--baseline`` import the project's own modules,
    as ``python -m bootmigrate`` does (the console script does not put the current
    directory on ``sys.path``): from the pyproject's folder, else the current one."""
    folder = str(project.folder)
    if folder not in sys.path:
        sys.path.insert(0, folder)


def load_object(spec: str, project: Project, what: str) -> Any:
    """What ``MODULE:NAME`` names, imported from the project's folder or the installed
    packages (see :func:`importable`); *what* names it in messages (``--baseline``)."""
    import importlib

    module_name, _, attribute = spec.partition(":")
    if not module_name or not attribute:
        raise UsageError(f"{what} takes MODULE:NAME, not {spec!r}")
    importable(project)
    try:
        return getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError) as exc:
        raise UsageError(
            f"cannot load the {what} {spec!r}: {exc}",
            f"modules are imported from {project.folder} and the installed packages",
        ) from exc


def load_function(spec: str, project: Project, option: str) -> Callable[..., Any]:
    """The function ``MODULE:FUNCTION`` names (the ``prepare`` and ``connect`` settings);
    *option* names the setting in messages."""
    if not all(spec.partition(":")[::2]):
        raise UsageError(f"{option} takes MODULE:FUNCTION, not {spec!r}")
    function = load_object(spec, project, f"{option} function")
    if not callable(function):
        raise UsageError(f"the {option} target {spec!r} is not callable")
    return function  # type: ignore[no-any-return]


def resolve_setting(name: str, given: str | None, project: Project) -> str | None:
    """The value of *name* from the option, the environment or ``pyproject.toml``."""
    value = given or os.environ.get(ENV[name]) or None
    if value is None:
        return project.settings.get(name)
    if name == "db" or (name == "source" and locate.package_spec(value) is None):
        return os.path.expanduser(value)
    return value


@dataclass(frozen=True)
class ProjectSource:
    """A migration source as the commands use it: what they read, where they write."""

    #: The source the commands read: the package source itself when its installed copy
    #: is the working copy (or there is no working copy), else the working copy.
    read: str
    #: The working copy's folder (where ``new``, ``lock`` and ``schema --write``
    #: write), or None when it is unknown.
    directory: str | None = None
    #: The package source the working copy stands for, when the package is installed
    #: (``read`` is this source when the installed copy is the working copy).
    package: str | None = None

    @property
    def writable(self) -> str:
        """What the commands that write files are given: the folder when known."""
        return self.directory or self.read


def project_source(source: str, project: Project) -> ProjectSource:
    """*source* with its working copy found (see the module's docstring)."""
    spec = locate.package_spec(source)
    if spec is None:
        return ProjectSource(source, source)
    if project.pyproject is None:
        return ProjectSource(source)
    installed = locate.package_directory(source)
    working = _working_copy(source, spec, project, installed)
    if working is None:
        return ProjectSource(source)
    if installed is not None and _same(installed, working):
        return ProjectSource(source, working, source)
    if installed is None and locate.package_files(source) is None:
        return ProjectSource(working, working)  # not installed: nothing to compare
    return ProjectSource(working, working, source)


def _working_copy(
    source: str, spec: tuple[str, str], project: Project, installed: str | None
) -> str | None:
    configured = project.settings.get("directory")
    if configured is not None and source == project.settings.get("source"):
        if not os.path.isdir(configured):
            raise UsageError(
                f"{project.pyproject}: [tool.bootmigrate] directory {configured!r} "
                "is not a directory",
                "set it to the folder of the migrations, relative to pyproject.toml",
            )
        return configured
    if installed is not None and _inside(installed, project.folder):
        return installed
    package, folder = spec
    parts = locate.folder_parts(folder or "migrations")
    for base in (project.folder / "src", project.folder):
        candidate = base.joinpath(*package.split("."), *parts)
        if candidate.is_dir():
            return str(candidate)
    return None


def _same(a: str, b: str) -> bool:
    return os.path.realpath(a) == os.path.realpath(b)


def _inside(path: str, folder: Path) -> bool:
    real, root = os.path.realpath(path), os.path.realpath(folder)
    return os.path.commonpath([real, root]) == root


def package_data_problem(source: ProjectSource) -> SourceError | None:
    """What the installed copy of a package source lacks that its working copy has.

    Only the files the app's boot reads count: migration up and down files (SQL and Python),
    ``bootmigrate.lock`` and ``schema.sql``. None when nothing is missing, when the
    working copy is the installed copy, or when the package is not installed at all.
    """
    if source.package is None or source.directory is None or source.read == source.package:
        return None
    installed = locate.package_files(source.package)
    if installed is None:
        return None
    shipped = {
        name
        for name in os.listdir(source.directory)
        if name.endswith((".up.sql", ".down.sql", ".up.py", ".down.py"))
        or name in (LOCK_FILENAME, SNAPSHOT_FILENAME)
    }
    missing = sorted(shipped - installed)
    if not missing:
        return None
    package, folder = locate.package_spec(source.package) or (source.package, "")
    parts = "/".join(locate.folder_parts(folder or "migrations"))
    prefix = f"{parts}/" if parts else ""
    where = locate.package_directory(source.package)
    return SourceError(
        f"the installed package source {source.package!r}"
        + (f" ({where})" if where else "")
        + f" lacks {', '.join(missing)}, which its working copy {source.directory} has: "
        "the app would boot without them",
        "list them as package data in pyproject.toml, then reinstall the package "
        "(pip install . or pip install -e .):\n"
        "[tool.setuptools.package-data]\n"
        f'"{package}" = ["{prefix}*.sql", '
        + (f'"{prefix}*.py", ' if any(name.endswith(".py") for name in missing) else "")
        + f'"{prefix}{LOCK_FILENAME}"]',
    )
