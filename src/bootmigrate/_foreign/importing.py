"""``bootmigrate import``: another tool's migrations folder -> a bootmigrate source directory.

Everything is read and converted (:mod:`.layouts`) and the result is checked the way
:func:`bootmigrate.load` will check it before the first file is written, so a refused
import writes nothing. Files are created, never overwritten, in a destination that holds
no migration files.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from .._errors import SourceError, SourceNotFound, UsageError
from .._source.filenames import parse_filename
from .._source.lockfile import LOCK_FILENAME
from .._source.model import build_set
from . import check_tool
from .layouts import PATTERNS, Conversion, convert


@dataclass(frozen=True)
class ImportReport:
    """What :func:`import_migrations` wrote, and every change it made on the way."""

    #: The tool the migrations were written for.
    tool: str
    #: The tool's migrations folder that was read.
    source: Path
    #: The bootmigrate source directory that was written.
    destination: Path
    #: The versions imported, ascending (each the number the tool records).
    versions: tuple[int, ...]
    #: The files written, up then down of each version, in version order.
    written: tuple[Path, ...]
    #: One line per file written (``NEW <- ORIGINAL: what changed``), per file left out
    #: (a comment-only down file: its migration is irreversible) and per file ignored.
    changes: tuple[str, ...]
    #: The versions without a down file: a downgrade cannot cross them.
    irreversible: tuple[int, ...]

    def summary(self) -> str:
        """A line saying what was imported, then each change, indented."""
        span = (
            f"version {self.versions[0]}"
            if len(self.versions) == 1
            else f"versions {self.versions[0]} to {self.versions[-1]}"
        )
        head = (
            f"imported {len(self.versions)} {self.tool} migration(s) ({span}) from "
            f"{self.source} into {self.destination}: {len(self.written)} file(s) written, "
            f"{len(self.irreversible)} migration(s) without a down file"
        )
        return "\n".join([head, *(f"  {line}" for line in self.changes)])


def import_migrations(
    tool: str, source: str | os.PathLike[str], destination: str | os.PathLike[str]
) -> ImportReport:
    """Convert *tool*'s migrations in the folder *source* into a bootmigrate source
    directory *destination* (created if missing; it must hold no migration files).

    *tool* is ``"golang-migrate"``, ``"goose"``, ``"dbmate"``, ``"sqlx"`` or ``"diesel"``.
    Versions are kept as the numbers the tool records, names are made ``[a-z0-9_]``,
    goose's and dbmate's sections are split into up and down files, and ``-- bootmigrate:
    no-transaction`` is added to exactly the files the tool ran outside a transaction;
    no other SQL text changes. A down file with only comments is left out (the
    migration becomes irreversible). The report lists every change.

    Raises :class:`UsageError` for an unknown *tool* or a *destination* that holds
    migration files or cannot be written, :class:`SourceNotFound` for a missing
    *source*, and :class:`SourceError` (naming the file) for what cannot be converted
    faithfully; then nothing is written.
    """
    tool = check_tool(tool)
    folder = Path(os.fspath(source))
    target = Path(os.fspath(destination))
    if not folder.is_dir():
        raise SourceNotFound(
            f"{folder}: " + ("not a directory" if folder.exists() else "no such directory"),
            f"pass the folder that holds the {tool} migrations",
        )
    conversion = convert(tool, _read(folder, tool == "diesel"))
    if not conversion.files:
        raise SourceError(
            f"{folder} holds no {tool} migration ({PATTERNS[tool]})",
            f"pass the folder that holds the {tool} migrations",
        )
    _check_loads(conversion, target)
    _check_destination(target)
    written = _write(conversion, target)
    return ImportReport(
        tool,
        folder,
        target,
        conversion.versions,
        written,
        conversion.lines,
        conversion.irreversible,
    )


def _read(folder: Path, subfolders: bool) -> dict[str, bytes]:
    """``{relative path: bytes}`` of the folder's files, and of its subfolders' files
    (diesel keeps each migration in one). Hidden files and folders are skipped, as every
    one of the tools skips them."""
    files = {}
    try:
        for entry in sorted(os.scandir(folder), key=lambda e: e.name):
            if entry.name.startswith("."):
                continue
            if entry.is_file():
                files[entry.name] = Path(entry.path).read_bytes()
            elif entry.is_dir() and subfolders:
                for inner in sorted(os.scandir(entry.path), key=lambda e: e.name):
                    if not inner.name.startswith(".") and inner.is_file():
                        files[f"{entry.name}/{inner.name}"] = Path(inner.path).read_bytes()
    except OSError as exc:
        raise SourceError(
            f"{folder}: cannot read the migrations ({exc.strerror}: {exc.filename})",
            "check the folder's permissions",
        ) from exc
    return files


def _check_loads(conversion: Conversion, target: Path) -> None:
    """Refuse a conversion that :func:`bootmigrate.load` would refuse, naming the
    tool's file, before anything is written."""
    origins = {f.filename: f.origin for f in conversion.files}
    try:
        build_set({f.filename: f.text.encode("utf-8") for f in conversion.files}, str(target))
    except SourceError as exc:
        filename = getattr(exc, "filename", None)
        origin = origins.get(filename or "", "the imported set")
        raise SourceError(
            f"{origin}: bootmigrate would refuse it once imported: {exc.problem}", exc.tail
        ) from exc


def _is_migration_file(name: str) -> bool:
    if name == LOCK_FILENAME:
        return True
    try:
        return parse_filename(name) is not None
    except SourceError:
        return True  # looks like one, misnamed: still a migration file


def _check_destination(target: Path) -> None:
    if target.exists() and not target.is_dir():
        raise UsageError(
            f"the destination {target} is a file", "pass a new or empty directory to import into"
        )
    if not target.is_dir():
        return
    present = sorted(name for name in os.listdir(target) if _is_migration_file(name))
    if present:
        shown = ", ".join(present[:3]) + (
            f" and {len(present) - 3} more" if len(present) > 3 else ""
        )
        raise UsageError(
            f"the destination {target} already holds migration files ({shown}); importing "
            "into it would mix two sets",
            "pass a new or empty directory to import into",
        )


def _write(conversion: Conversion, target: Path) -> tuple[Path, ...]:
    written = []
    try:
        target.mkdir(parents=True, exist_ok=True)
        for output in conversion.files:
            path = target / output.filename
            # "x": never overwrite (another process may be writing the same directory).
            with open(path, "xb") as handle:
                handle.write(output.text.encode("utf-8"))
            written.append(path)
    except OSError as exc:
        raise UsageError(
            f"cannot write {exc.filename or target} ({exc.strerror}); "
            + (f"{len(written)} file(s) were written before" if written else "nothing was written"),
            "check that the destination can be written (and remove what was written), then "
            "import again",
        ) from exc
    return tuple(written)
