"""The lock file: version, name and checksum of every migration file, beside the files.

``bootmigrate lock`` writes it (``bootmigrate.lock``); it is committed and shipped with
the migrations. It serves two jobs:

- frozen history: ``bootmigrate lock --check`` (and the test kit) fail when a locked
  migration's content or name changed, or a version number was reused;
- a fast boot: a runner can compare the ledger with the lock's entries instead of
  reading and hashing every migration file when nothing is pending.

Pure: rendering and parsing text, comparing with a :class:`MigrationSet`.

Format (one entry per line, ``#`` lines are comments)::

    format 1
    0001 create_notes up 3f7a...64 hex digits
    0001 create_notes down 9b2c...
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from .._errors import SourceError
from .._source.model import MigrationSet

LOCK_FORMAT = 1
_HEADER = (
    "# bootmigrate lock file: the version, name and checksum of every migration file.\n"
    "# Written by `bootmigrate lock`; commit it. Do not edit it by hand.\n"
)


class LockFileError(SourceError):
    """The lock file is malformed, or the migrations no longer match it."""


@dataclass(frozen=True)
class LockEntry:
    """One locked file: version, name, ``up`` or ``down``, SHA-256 of its normalised text."""

    version: int
    name: str
    kind: Literal["up", "down"]
    checksum: str


def render(migrations: MigrationSet) -> str:
    """The lock file text for *migrations*."""
    lines = [_HEADER, f"format {LOCK_FORMAT}\n"]
    for migration in migrations:
        lines.append(f"{migration.version:04d} {migration.name} up {migration.up.checksum}\n")
        if migration.down is not None:
            lines.append(
                f"{migration.version:04d} {migration.name} down {migration.down.checksum}\n"
            )
    return "".join(lines)


def parse(text: str, filename: str = "bootmigrate.lock") -> tuple[LockEntry, ...]:
    """Parse lock file text; raise :class:`LockFileError` naming the line at fault."""
    entries: list[LockEntry] = []
    seen_format = False
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split()
        if not seen_format:
            if len(parts) != 2 or parts[0] != "format" or not parts[1].isdigit():
                raise LockFileError(
                    f"{filename!r} line {number}: expected 'format {LOCK_FORMAT}'; "
                    "write the lock file again with `bootmigrate lock`"
                )
            if int(parts[1]) != LOCK_FORMAT:
                raise LockFileError(
                    f"{filename!r} has format {parts[1]}, and this bootmigrate reads format "
                    f"{LOCK_FORMAT}; upgrade bootmigrate or write it again with `bootmigrate lock`"
                )
            seen_format = True
            continue
        if (
            len(parts) != 4
            or not parts[0].isdigit()
            or parts[2] not in ("up", "down")
            or len(parts[3]) != 64
        ):
            raise LockFileError(
                f"{filename!r} line {number}: expected 'VERSION NAME up|down SHA256', "
                f"found {line!r}; write the lock file again with `bootmigrate lock`"
            )
        kind: Literal["up", "down"] = "up" if parts[2] == "up" else "down"
        entries.append(LockEntry(int(parts[0]), parts[1], kind, parts[3]))
    if not seen_format:
        raise LockFileError(f"{filename!r} is empty; write it with `bootmigrate lock`")
    return tuple(entries)


def differences(entries: tuple[LockEntry, ...], migrations: MigrationSet) -> list[str]:
    """What changed since the lock was written, one sentence each; empty when nothing did.

    A locked migration whose content or name changed, whose file disappeared, or whose
    version now belongs to another name (a reused number) is a difference. Migrations
    newer than every locked one are not: they are simply not locked yet.
    """
    problems: list[str] = []
    current = {m.version: m for m in migrations}
    for entry in entries:
        migration = current.get(entry.version)
        if migration is None:
            problems.append(
                f"version {entry.version} ({entry.name}) is locked but its {entry.kind} file "
                "is gone; restore it (released migrations must not be removed)"
            )
            continue
        if migration.name != entry.name:
            problems.append(
                f"version {entry.version} was locked as {entry.name!r} and is now "
                f"{migration.name!r}: a released version number was reused or renamed; "
                "give the new migration the next free number"
            )
            continue
        script = migration.up if entry.kind == "up" else migration.down
        if script is None:
            problems.append(
                f"version {entry.version} ({entry.name}): the locked {entry.kind} file is gone; "
                "restore it"
            )
        elif script.checksum != entry.checksum:
            problems.append(
                f"{script.filename!r} changed after it was locked (sha256 {entry.checksum[:12]} "
                f"-> {script.checksum[:12]}); restore it and put the change in a new migration"
            )
    return problems
