"""The lock file: version, name and checksum of every migration file, beside the files.

``bootmigrate lock`` writes it (``bootmigrate.lock``); it is committed and shipped with
the migrations. It serves two jobs:

- frozen history: ``bootmigrate lock --check`` (and the test kit) fail when a locked
  migration's content or name changed, or a version number was reused;
- a fast boot: the runner compares the ledger with the lock's entries instead of
  reading and hashing every migration file when nothing is pending.

Pure: rendering and parsing text, comparing with a :class:`MigrationSet`. Three readers
of one format, kept equal: :func:`render` writes it, :func:`parse` reads any lock (and
says which line is wrong), :func:`read_fast` reads only the exact text :func:`render`
writes, in a handful of C-speed string operations, for the boot; for any text it returns
either None or exactly what :func:`parse` returns (a property test holds it to that).

Format (one entry per line, ``#`` lines are comments)::

    format 1
    0001 create_notes up 3f7a...64 hex digits
    0001 create_notes down 9b2c...
    0010 squashed baseline 5d1e...     (a squashed baseline, NNNN_name.baseline.sql)
    0001 create_notes squashed 3f7a... (a squashed migration whose file is gone: the
                                        ledger row a database has for it)
"""

from __future__ import annotations

from .._errors import LockFileError
from .._value import Value
from .filenames import compose_filenames, format_version

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Literal

    from .model import MigrationSet, Script

    Kind = Literal["up", "down", "baseline", "squashed"]

_KINDS = ("up", "down", "baseline", "squashed")

#: The name of the lock file beside the migrations.
LOCK_FILENAME = "bootmigrate.lock"
#: The format :func:`render` writes and the readers accept.
LOCK_FORMAT = 1
_HEADER = (
    "# bootmigrate lock file: the version, name and checksum of every migration file.\n"
    "# Written by `bootmigrate lock`; commit it. Do not edit it by hand.\n"
)
_FORMAT_LINE = f"format {LOCK_FORMAT}\n"


class LockEntry(Value):
    """One locked file: version, name, ``up`` or ``down``, SHA-256 of its normalised text."""

    __slots__ = ("checksum", "kind", "name", "version")
    version: int
    name: str
    kind: Kind
    checksum: str

    def __init__(self, version: int, name: str, kind: Kind, checksum: str) -> None:
        self._init(version, name, kind, checksum)


def _line(script: Script, version: int, name: str, kind: str) -> str:
    # The version as the file's name spells it (00001_a.up.sql: 00001), so the boot can
    # compose the names of the files present from the lock alone.
    digits = script.filename.partition("_")[0]
    if not (_digits(digits) and int(digits) == version):
        digits = format_version(version)  # a Script made in memory, without a file name
    return f"{digits} {name} {kind} {script.checksum}\n"


def render(migrations: MigrationSet, floor: list[str] | None = None) -> str:
    """The lock file text for *migrations*, in version order; *floor*: their
    :func:`floor_notes`, when the caller has them already."""
    entries: list[tuple[int, int, str]] = []
    for migration in migrations:
        entries.append(
            (migration.version, 0, _line(migration.up, migration.version, migration.name, "up"))
        )
        if migration.down is not None:
            entries.append(
                (
                    migration.version,
                    1,
                    _line(migration.down, migration.version, migration.name, "down"),
                )
            )
    present = set(migrations.versions)
    squashed = {s.version: s for squash in migrations.squashes for s in squash.squashed}
    for version, entry in squashed.items():
        if version not in present:
            # The file is gone; the ledger rows of databases still say it ran.
            line = f"{format_version(version)} {entry.name} squashed {entry.checksum}\n"
            entries.append((version, 0, line))
    for squash in migrations.squashes:
        entries.append(
            (squash.version, 2, _line(squash.script, squash.version, squash.name, "baseline"))
        )
    notes = floor_notes(migrations) if floor is None else floor
    header = [_HEADER, *(f"# {note}\n" for note in notes), _FORMAT_LINE]
    return "".join([*header, *(line for *_, line in sorted(entries))])


def floor_notes(migrations: MigrationSet) -> list[str]:
    """The SQLite the migrations need, one sentence each (``needs SQLite 3.35.0 or newer:
    ALTER TABLE ... DROP COLUMN in 0003_x.up.sql line 3``): comment lines of the lock's
    header.

    Comments, so the format does not change: every reader (:func:`parse`,
    :func:`read_fast`, and those of older bootmigrate releases) skips them, and a lock
    written before them reads as before. They are for the people who ship the app (a
    change that raises the floor shows in the lock's diff); ``migrate()`` checks the
    pending migrations themselves (:mod:`bootmigrate._apply.floor`).
    """
    from . import features

    scripts = [squash.script for squash in migrations.squashes]
    scripts += [migration.up for migration in migrations]
    needed = [need for s in scripts for need in features.needs(s.filename, s.text)]
    lines = []
    newest = features.floor(needed)
    if newest is not None:
        version = features.format_version(newest.feature.version or (0, 0, 0))
        lines.append(
            f"needs SQLite {version} or newer: {newest.feature.name} in {newest.filename} "
            f"line {newest.line}"
        )
    options: dict[tuple[str, ...], features.Need] = {}
    for need in needed:
        if need.feature.options and need.feature.options not in options:
            options[need.feature.options] = need
    for need in options.values():
        lines.append(
            f"needs {need.feature.needs()}: {need.feature.name} in {need.filename} line {need.line}"
        )
    if lines and any(script.language == "python" for script in scripts):
        lines.append("(Python migrations are not read for what SQLite they need.)")
    return lines


def parse(text: str, filename: str = LOCK_FILENAME) -> tuple[LockEntry, ...]:
    """Parse lock file text; raise :class:`LockFileError` naming the line at fault."""
    entries: list[LockEntry] = []
    seen_format = False
    for number, raw in enumerate(_without_bom(text).splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split()
        if not seen_format:
            if len(parts) != 2 or parts[0] != "format" or not _digits(parts[1]):
                raise LockFileError(
                    f"{filename!r} line {number}: expected 'format {LOCK_FORMAT}'",
                    "write the lock file again with `bootmigrate lock`",
                )
            if int(parts[1]) != LOCK_FORMAT:
                raise LockFileError(
                    f"{filename!r} has format {parts[1]}, and this bootmigrate reads format "
                    f"{LOCK_FORMAT}",
                    "upgrade bootmigrate or write it again with `bootmigrate lock`",
                )
            seen_format = True
            continue
        if (
            len(parts) != 4
            or not _digits(parts[0])
            or parts[2] not in _KINDS
            or len(parts[3]) != 64
        ):
            raise LockFileError(
                f"{filename!r} line {number}: expected 'VERSION NAME up|down|baseline|squashed "
                "SHA256', "
                f"found {line!r}",
                "write the lock file again with `bootmigrate lock`",
            )
        entries.append(LockEntry(int(parts[0]), parts[1], parts[2], parts[3]))  # type: ignore[arg-type]
    if not seen_format:
        raise LockFileError(f"{filename!r} is empty", "write it with `bootmigrate lock`")
    return tuple(entries)


def _digits(text: str) -> bool:
    # ASCII only: str.isdigit() is also true for "²" and "٣". At most 19 digits: a version
    # is at most 2**63 - 1, and int() of thousands of digits is refused on Python 3.11+.
    return text.isascii() and text.isdigit() and len(text.lstrip("0")) <= _MAX_DIGITS


_MAX_DIGITS = 19


def _without_bom(text: str) -> str:
    # An editor on Windows may save the lock with a UTF-8 byte-order mark.
    return text[1:] if text.startswith("\ufeff") else text


class FastLock(Value):
    """What :func:`read_fast` gives the boot: the lock's entries as columns of text."""

    __slots__ = ("checksums", "kinds", "names", "versions")
    #: The version of each entry as the lock spells it (``0007``).
    versions: list[str]
    names: list[str]
    kinds: list[str]
    checksums: list[str]

    def __init__(
        self, versions: list[str], names: list[str], kinds: list[str], checksums: list[str]
    ) -> None:
        self._init(versions, names, kinds, checksums)

    def ledger_rows(self) -> list[tuple[str, str, str]]:
        """The ``up`` (and ``squashed``) entries as the boot's ledger query returns rows:
        (version, name, sum), the version spelled as the query spells it (at least four
        digits)."""
        versions = self.versions
        if any(len(v) > 4 and v[0] == "0" for v in versions):  # 00001_a.up.sql
            versions = [format_version(int(v)) for v in versions]
        if set(self.kinds) == {"up"}:
            return list(zip(versions, self.names, self.checksums))
        return [
            (version, name, checksum)
            for version, name, kind, checksum in zip(
                versions, self.names, self.kinds, self.checksums
            )
            if kind in ("up", "squashed")
        ]

    def filenames(self) -> set[str]:
        """The file name of every entry that has a file (``0007_name.up.sql``)."""
        if "squashed" not in self.kinds:
            return compose_filenames(self.versions, self.names, self.kinds)
        kept = [i for i, kind in enumerate(self.kinds) if kind != "squashed"]
        return compose_filenames(
            [self.versions[i] for i in kept],
            [self.names[i] for i in kept],
            [self.kinds[i] for i in kept],
        )


def read_fast(text: str) -> FastLock | None:
    """The entries of a lock exactly as :func:`render` writes it; None for any other text.

    No per-line Python work: the text is cut into words once and checked with a few
    counts and set operations, so a lock of a thousand migrations costs a fraction of a
    millisecond. CRLF line endings (a Windows checkout) are accepted, as by
    :func:`parse`. Whatever this returns, :func:`parse` returns the same entries.
    """
    text = _without_bom(text)
    if "\r" in text:
        text = text.replace("\r\n", "\n")
    head, found, body = text.partition(_FORMAT_LINE)
    if not found or (head and not head.endswith("\n")):
        return None
    if any(line.strip() and not line.strip().startswith("#") for line in head.splitlines()):
        return None
    words = body.split(" ")
    # "V N K C\nV N K C\n" split on spaces: V, N, K, "C\nV", N, K, ..., "C\n"
    if len(words) < 4 or len(words) % 3 != 1 or not body.endswith("\n"):
        return None
    middle = words[3:-1:3]
    versions = [words[0], *(w[65:] for w in middle)]
    checksums = [*(w[:64] for w in middle), words[-1][:-1]]
    names, kinds = words[1::3], words[2::3]
    if len(versions) != len(names) or len(kinds) != len(names):
        return None
    digits = "".join(versions)
    words_only = "".join(names) + "".join(checksums)
    # The text is exactly the entries, one per line as "V N K C\n", when: each line's
    # break is where the split put it (one per entry, right after a 64-character
    # checksum), no word is empty (no doubled space), and no name or checksum holds
    # other whitespace (Unicode's included) where parse() would see another word or line.
    if (
        body.count("\n") != len(names)
        or not (digits.isascii() and digits.isdigit())
        or max(map(len, versions)) > _MAX_DIGITS
        or "" in versions
        or "" in names
        or not set(kinds) <= set(_KINDS)
        or set(map(len, checksums)) != {64}
        or words_only.split() != [words_only]
    ):
        return None
    return FastLock(versions, names, kinds, checksums)


def down_changes(entries: tuple[LockEntry, ...], migrations: MigrationSet) -> list[str]:
    """The down files of locked migrations that were edited or added since the lock was
    written, one line each (``0003_x.down.sql: down file changed, checksum updated``).

    Not differences: a down file runs only on a downgrade, and the ledger records only
    the up file's checksum, so no database's history depends on it; a wrong down file is
    fixed in place, and ``bootmigrate lock`` records its new checksum. (A locked down
    file that is gone is a difference: see :func:`differences`.)
    """
    locked_downs = {entry.version: entry for entry in entries if entry.kind == "down"}
    locked_ups = {entry.version: entry for entry in entries if entry.kind == "up"}
    changes = []
    for migration in migrations:
        down, up_entry = migration.down, locked_ups.get(migration.version)
        if down is None or up_entry is None or up_entry.name != migration.name:
            continue  # not locked, or renamed: differences() reports the migration
        entry = locked_downs.get(migration.version)
        if entry is None:
            changes.append(f"{down.filename}: down file added, checksum recorded")
        elif entry.checksum != down.checksum:
            changes.append(f"{down.filename}: down file changed, checksum updated")
    return changes


def differences(entries: tuple[LockEntry, ...], migrations: MigrationSet) -> list[str]:
    """What changed since the lock was written, one sentence each; empty when nothing did.

    A locked migration whose up file's content or name changed, whose file disappeared,
    or whose version now belongs to another name (a reused number) is a difference, and
    so is a migration that is not locked but below the newest locked one: a user's
    database at that newest version would never run it (:class:`OutOfOrderMigration` at
    boot). Migrations newer than every locked one are not: they are simply not locked
    yet. An edited down file is not either (see :func:`down_changes`).
    """
    problems: list[str] = []
    current = {m.version: m for m in migrations}
    newest = max((entry.version for entry in entries), default=None)
    locked = {entry.version for entry in entries}
    squashed = {s.version: s for squash in migrations.squashes for s in squash.squashed}
    baselines = {squash.version: squash for squash in migrations.squashes}
    for unlocked in migrations:
        if newest is not None and unlocked.version < newest and unlocked.version not in locked:
            problems.append(
                f"{unlocked.up.filename!r} is not locked but its version is below the "
                f"locked version {newest}: databases already at {newest} would never run it; "
                f"give it a number above {newest}"
            )
    for entry in entries:
        if entry.kind == "baseline":
            squash = baselines.get(entry.version)
            if squash is None or squash.name != entry.name:
                problems.append(
                    f"the baseline of version {entry.version} ({entry.name}) is locked but its "
                    "file is gone; restore it"
                )
            elif squash.checksum != entry.checksum:
                problems.append(
                    f"{squash.script.filename!r} changed after it was locked (sha256 "
                    f"{entry.checksum[:12]} -> {squash.checksum[:12]}); restore it (if it was "
                    "written again on purpose with `bootmigrate squash --force`, delete "
                    f"{LOCK_FILENAME} and lock again)"
                )
            continue
        migration = current.get(entry.version)
        gone = squashed.get(entry.version)
        if migration is None and gone is not None:
            # Squashed into a baseline and deleted: fine while the baseline lists the
            # migration as it was locked (the ledger rows of databases say so).
            if entry.kind == "down" or (gone.name, gone.checksum) == (entry.name, entry.checksum):
                continue
            problems.append(
                f"version {entry.version} was locked as {entry.name!r} sha256 "
                f"{entry.checksum[:12]}, and the baseline that squashed it lists "
                f"{gone.name!r} sha256 {gone.checksum[:12]}; restore the baseline"
            )
            continue
        if entry.kind == "squashed":
            if migration is not None and (migration.name, migration.checksum) == (
                entry.name,
                entry.checksum,
            ):
                continue  # its file is back: the same migration
            problems.append(
                f"version {entry.version} ({entry.name}) is locked as squashed into a baseline, "
                "but no baseline lists it; restore the baseline"
            )
            continue
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
        elif script.checksum != entry.checksum and entry.kind == "up":
            problems.append(
                f"{script.filename!r} changed after it was locked (sha256 {entry.checksum[:12]} "
                f"-> {script.checksum[:12]}); restore it and put the change in a new migration"
            )
    return problems
