"""Where migrations come from: a package resource folder or a directory on disk.

A package source is written ``"pkg:folder"`` (``pkg`` may be dotted, ``folder`` defaults
to ``migrations``, ``.`` is the package itself) and read through
``importlib.resources.files()``: the resource is never turned into a file path, so a
wheel, a zip import and an editable install all work the same way.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Union

from .._errors import EncodingError, SourceNotFound, UsageError
from .._source.model import MigrationSet, build_set

if TYPE_CHECKING:
    import sys

    if sys.version_info >= (3, 11):
        from importlib.resources.abc import Traversable
    else:
        from importlib.abc import Traversable

#: What a migration source may be given as.
SourceLike = Union[str, "os.PathLike[str]", MigrationSet]

#: The name of the lock file of checksums that may sit beside the migrations.
LOCK_FILENAME = "bootmigrate.lock"

_PACKAGE_SPEC = re.compile(
    r"(?P<package>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*):(?P<folder>[^:\\]*)"
)


class Source:
    """A resolved migration source: something that lists files and reads their bytes."""

    def __init__(self, root: Traversable | Path, description: str, directory: Path | None) -> None:
        self._root = root
        #: How messages name the source: ``pkg:folder`` or the directory path.
        self.description = description
        #: The directory on disk, for commands that write files (``new``, ``lock``);
        #: None for a package.
        self.directory = directory

    def files(self) -> Iterator[tuple[str, bytes]]:
        """Yield ``(name, bytes)`` for every regular file directly in the source."""
        for entry in self._root.iterdir():
            if entry.is_file():
                yield entry.name, entry.read_bytes()

    def names(self) -> list[str]:
        """The names of the regular files directly in the source, without reading them."""
        if isinstance(self._root, Path):
            with os.scandir(self._root) as entries:  # no stat per file, unlike Path.is_file
                return [entry.name for entry in entries if entry.is_file()]
        return [entry.name for entry in self._root.iterdir() if entry.is_file()]

    def read_text(self, name: str) -> str | None:
        """The text of one file in the source, or None if it is absent."""
        entry = self._root.joinpath(name)
        if not entry.is_file():
            return None
        try:
            data = entry.read_bytes()
        except (FileNotFoundError, KeyError):
            return None  # Python 3.9's zipfile.Path.is_file() is True for a missing entry
        return _utf8(data, name)


def resolve(source: str | os.PathLike[str]) -> Source:
    """Turn a source specification into a :class:`Source`.

    A ``str`` of the form ``pkg:folder`` names a package resource folder; any other
    ``str`` or a path-like object is a directory.
    """
    if isinstance(source, str):
        match = _PACKAGE_SPEC.fullmatch(source)
        # "C:/Users/..." is a Windows path with a drive letter, not package "C".
        if match and not (len(match["package"]) == 1 and match["folder"].startswith("/")):
            return _package_source(match["package"], match["folder"] or "migrations")
    elif not isinstance(source, os.PathLike):
        raise UsageError(
            f"a migration source is a 'pkg:folder' string or a directory path, not {source!r}"
        )
    directory = Path(source)
    if not directory.is_dir():
        raise SourceNotFound(
            f"the migration directory {str(directory)!r} does not exist or is not a "
            "directory; pass an existing directory, or 'pkg:folder' for a package's resources"
        )
    return Source(directory, str(directory), directory)


def _package_source(package: str, folder: str) -> Source:
    import importlib

    description = f"{package}:{folder}"
    try:
        module = importlib.import_module(package)
    except ImportError as exc:
        raise SourceNotFound(
            f"cannot import package {package!r} for migration source {description!r} "
            f"({exc}); install the package or fix the name"
        ) from exc
    root: Traversable | Path = _plain_directory(module) or _resources_root(package)
    if folder not in ("", "."):
        for part in folder.strip("/").split("/"):
            root = root.joinpath(part)
    if not root.is_dir():
        raise SourceNotFound(
            f"package {package!r} has no resource folder {folder!r} (source {description!r}); "
            "check the folder name and that the package data is included in the build"
        )
    return Source(root, description, None)


def _plain_directory(module: ModuleType) -> Path | None:
    """The package's own directory, when it is an ordinary one imported from disk.

    That is the directory ``importlib.resources.files()`` returns for such a package,
    found without importing :mod:`importlib.resources`, which costs milliseconds on every
    boot. Zip imports, namespace packages and other loaders go through it.
    """
    from importlib.machinery import SourceFileLoader, SourcelessFileLoader

    spec = module.__spec__
    if spec is None or not isinstance(spec.loader, (SourceFileLoader, SourcelessFileLoader)):
        return None
    locations = list(spec.submodule_search_locations or ())
    if len(locations) != 1 or not os.path.isdir(locations[0]):
        return None
    return Path(locations[0])


def _resources_root(package: str) -> Traversable:
    from importlib import resources

    return resources.files(package)


def load(source: SourceLike) -> MigrationSet:
    """Read, validate and order the migrations of *source*.

    *source* is ``"pkg:folder"``, a directory, or an already loaded :class:`MigrationSet`
    (returned as it is). Raises a :class:`SourceError` naming the file at fault.
    """
    if isinstance(source, MigrationSet):
        return source
    resolved = resolve(source)
    files = dict(resolved.files())
    lock = files.get(LOCK_FILENAME)
    lock_text = _utf8(lock, LOCK_FILENAME) if lock is not None else None
    return build_set(files, resolved.description, lock_text)


def _utf8(data: bytes, name: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise EncodingError(name, f"byte {exc.start}: {exc.reason}") from exc
