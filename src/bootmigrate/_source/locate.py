"""Where migrations come from: a package resource folder or a directory on disk.

A package source is written ``"pkg:folder"`` (``pkg`` may be dotted, ``folder`` defaults
to ``migrations``, ``.`` is the package itself) and read through
``importlib.resources.files()``: the resource is never turned into a file path, so a
wheel, a zip import and an editable install all work the same way. An ordinary package
directory is read with :mod:`os` directly (what ``files()`` would return for it), since
the boot lists the folder on every start of the app.

This module is on the boot's import path: nothing heavy is imported at module level.
"""

from __future__ import annotations

import os

from .._errors import EncodingError, NoMigrations, SourceNotFound, UsageError
from .lockfile import LOCK_FILENAME

TYPE_CHECKING = False
if TYPE_CHECKING:
    import sys
    from collections.abc import Iterator
    from pathlib import Path
    from types import ModuleType

    from .._types import SourceLike
    from .model import MigrationSet

    if sys.version_info >= (3, 11):
        from importlib.resources.abc import Traversable
    else:
        from importlib.abc import Traversable


class Source:
    """A resolved migration source: something that lists files and reads their bytes."""

    __slots__ = ("_directory", "_root", "description", "package")

    def __init__(
        self,
        description: str,
        *,
        directory: str | None = None,
        root: Traversable | None = None,
        package: bool = False,
    ) -> None:
        #: How messages name the source: ``pkg:folder`` or the directory path.
        self.description = description
        #: True for a package resource folder (as opposed to a directory given by path).
        self.package = package
        # Exactly one of them: a folder read with os, or a Traversable (zip, namespace).
        self._directory = directory
        self._root = root

    @property
    def directory(self) -> Path | None:
        """The folder on disk for a directory source (commands that write files need
        one); None for a package, whose resources may live in a wheel or a zip."""
        if self._directory is None or self.package:
            return None
        from pathlib import Path

        return Path(self._directory)

    def location(self, name: str) -> str:
        """The file *name* of the source as its user knows it, for tracebacks of a Python
        migration: a path in a directory, ``pkg:folder/name`` in a package."""
        if self._directory is not None and not self.package:
            return os.path.join(self._directory, name)
        return f"{self.description}/{name}"

    def files(self) -> Iterator[tuple[str, bytes]]:
        """Yield ``(name, bytes)`` for every regular file directly in the source."""
        if self._root is None:
            assert self._directory is not None
            for name in self.names():
                with open(os.path.join(self._directory, name), "rb") as file:
                    yield name, file.read()
            return
        for entry in self._root.iterdir():
            if entry.is_file():
                yield entry.name, entry.read_bytes()

    def names(self) -> list[str]:
        """The names of the regular files directly in the source, without reading them."""
        if self._root is None:
            assert self._directory is not None
            with os.scandir(self._directory) as entries:  # no stat per file on Linux
                return [entry.name for entry in entries if entry.is_file()]
        return [entry.name for entry in self._root.iterdir() if entry.is_file()]

    def read_text(self, name: str) -> str | None:
        """The UTF-8 text of one file in the source, or None if it is absent."""
        if self._root is None:
            assert self._directory is not None
            try:
                with open(os.path.join(self._directory, name), "rb") as file:
                    data = file.read()
            except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
                return None
            return utf8(data, name)
        entry = self._root.joinpath(name)
        if not entry.is_file():
            return None
        try:
            data = entry.read_bytes()
        except (FileNotFoundError, KeyError):
            return None  # Python 3.9's zipfile.Path.is_file() is True for a missing entry
        return utf8(data, name)


def package_spec(spec: str) -> tuple[str, str] | None:
    """``(package, folder)`` when *spec* is written ``pkg:folder``, else None (a
    directory). *folder* is as written: ``""`` means ``migrations``."""
    package, colon, folder = spec.partition(":")
    if not colon or ":" in folder or "\\" in folder:
        return None
    if not package or not all(
        part.isidentifier() and part.isascii() for part in package.split(".")
    ):
        return None
    # "C:/Users/..." is a Windows path with a drive letter, not package "C".
    if len(package) == 1 and folder.startswith("/"):
        return None
    return package, folder


def resolve(source: str | os.PathLike[str]) -> Source:
    """Turn a source specification into a :class:`Source`.

    A ``str`` of the form ``pkg:folder`` names a package resource folder; any other
    ``str`` or a path-like object is a directory.
    """
    if isinstance(source, str):
        spec = package_spec(source)
        if spec is not None:
            return _package_source(spec[0], spec[1] or "migrations")
        directory = source
    elif isinstance(source, os.PathLike) and isinstance(os.fspath(source), str):
        directory = os.fspath(source)
    else:
        raise UsageError(
            f"a migration source is a 'pkg:folder' string or a directory path, not {source!r}"
        )
    if not os.path.isdir(directory):
        raise SourceNotFound(
            f"the migration directory {directory!r} does not exist or is not a directory",
            "pass an existing directory, or 'pkg:folder' for a package's resources",
        )
    return Source(directory, directory=directory)


def _package_source(package: str, folder: str) -> Source:
    import importlib

    description = f"{package}:{folder}"
    try:
        module = importlib.import_module(package)
    except ImportError as exc:
        raise SourceNotFound(
            f"cannot import package {package!r} for migration source {description!r} ({exc})",
            "install the package or fix the name",
        ) from exc
    parts = folder_parts(folder)
    plain = _plain_directory(module)
    if plain is not None:
        directory = os.path.join(plain, *parts)
        if os.path.isdir(directory):
            return Source(description, directory=directory, package=True)
        root: Traversable | None = None
    else:
        root = _resources_root(package)
        for part in parts:
            root = root.joinpath(part)
        if root.is_dir():
            return Source(description, root=root, package=True)
    raise SourceNotFound(
        f"package {package!r} has no resource folder {folder!r} (source {description!r})",
        "check the folder name and that the package data is included in the build",
    )


def package_directory(source: str) -> str | None:
    """The folder on disk that the package source *source* reads, when the package is
    an ordinary one imported from disk; None when it cannot be imported, lacks the
    folder, or lives in a zip or a namespace package."""
    import importlib

    spec = package_spec(source)
    if spec is None:
        return None
    try:
        module = importlib.import_module(spec[0])
    except ImportError:
        return None
    plain = _plain_directory(module)
    if plain is None:
        return None
    directory = os.path.join(plain, *folder_parts(spec[1] or "migrations"))
    return directory if os.path.isdir(directory) else None


def package_files(source: str) -> set[str] | None:
    """The names of the files in the installed package source *source* (empty when the
    package lacks the folder); None when the package cannot be imported."""
    import importlib

    spec = package_spec(source)
    if spec is None:
        return None
    try:
        importlib.import_module(spec[0])
    except ImportError:
        return None
    try:
        return set(resolve(source).names())
    except SourceNotFound:
        return set()


def folder_parts(folder: str) -> list[str]:
    """The path parts of a package source's *folder* (``"."`` and ``""`` are none)."""
    return [part for part in folder.strip("/").split("/") if part not in ("", ".")]


def _plain_directory(module: ModuleType) -> str | None:
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
    return str(locations[0])


def _resources_root(package: str) -> Traversable:
    from importlib import resources

    return resources.files(package)


def load(source: SourceLike) -> MigrationSet:
    """Read, validate and order the migrations of *source*.

    *source* is ``"pkg:folder"``, a directory, or an already loaded :class:`MigrationSet`
    (returned as it is). Raises a :class:`SourceError` naming the file at fault, and
    :class:`NoMigrations` for a source without a single migration file (a package whose
    build left its ``.sql`` files out looks exactly like that).
    """
    migrations = read_set(source)
    if (
        not migrations.migrations
        and not migrations.squashes
        and isinstance(source, (str, os.PathLike))
    ):
        raise NoMigrations(migrations.origin, package=resolve(source).package)
    return migrations


def read_set(source: SourceLike) -> MigrationSet:
    """:func:`load`, except that a source without migrations is an empty set (for the
    commands that write the first one)."""
    from .model import MigrationSet, build_set

    if isinstance(source, MigrationSet):
        return source
    resolved = resolve(source)
    files = dict(resolved.files())
    lock = files.get(LOCK_FILENAME)
    lock_text = utf8(lock, LOCK_FILENAME) if lock is not None else None
    directory = None if resolved.package else resolved.directory
    return build_set(
        files,
        resolved.description,
        lock_text,
        None if directory is None else str(directory),
        resolved.location,
    )


def utf8(data: bytes, name: str) -> str:
    """*data* decoded as UTF-8, or :class:`EncodingError` naming the file *name*."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise EncodingError(name, f"byte {exc.start}: {exc.reason}") from exc
