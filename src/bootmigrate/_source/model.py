"""Migrations as data: scripts, migrations, a set of them, and how files become a set.

:func:`build_set` is pure: it takes file names and their bytes and either returns a
validated :class:`MigrationSet` or raises the :class:`SourceError` that names the file.
Reading the bytes from a package or a directory is :mod:`bootmigrate._sources`' job.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property

from .._errors import (
    BaselineError,
    DuplicateMigration,
    EmptyMigration,
    NameMismatch,
    OrphanDownFile,
    TransactionControlError,
)
from . import text as _sqltext
from .filenames import FileName, label, language_of, parse_filename
from .text import Statement

TYPE_CHECKING = False
if TYPE_CHECKING:
    import sqlite3
    from collections.abc import Callable
    from types import CodeType


@dataclass(frozen=True)
class Script:
    """One migration file, SQL or Python: its name, its normalised text, checksum,
    directives and (SQL) statements."""

    #: The file's name (``0003_add_users.up.sql``).
    filename: str
    #: Its text, normalised: a UTF-8 byte-order mark removed, CRLF and CR turned into LF.
    text: str
    #: SHA-256 (hex) of :attr:`text`: the same on Windows and Linux checkouts.
    checksum: str
    #: The ``-- bootmigrate:`` directives it declares (``no-transaction``,
    #: ``backward-compatible``); ``# bootmigrate:`` in a Python file.
    directives: frozenset[str]
    #: Where the file is, as its user knows it (a path, or ``pkg:folder/name``): the
    #: file name a Python migration's traceback shows. ``""``: :attr:`filename`.
    location: str = field(default="", compare=False, repr=False)

    @classmethod
    def from_text(cls, filename: str, text: str, location: str = "") -> Script:
        """Build a script from (already decoded) text, normalising it first. A Python
        migration (``.up.py``) is compiled and checked here (:class:`InvalidPythonMigration`)."""
        return cls._normalized(filename, _sqltext.normalize(text), location)

    @classmethod
    def _normalized(cls, filename: str, text: str, location: str = "") -> Script:
        if language_of(filename) == "sql":
            return cls(
                filename, text, _sqltext.sha256(text), _sqltext.directives(text, filename), location
            )
        from . import python

        code = python.compile_text(text, filename, location or filename)
        script = cls(
            filename, text, _sqltext.sha256(text), python.directives(text, filename), location
        )
        python.function(code, filename)  # the top level runs once: a file that fails, now
        script.__dict__["_code"] = code  # what the cached property would compile again
        return script

    @property
    def language(self) -> str:
        """``"sql"``, or ``"python"`` for an ``.up.py`` / ``.down.py`` file."""
        return language_of(self.filename)

    @cached_property
    def _code(self) -> CodeType:
        """A Python migration's compiled text (its file named by :attr:`location`)."""
        from . import python

        return python.compile_text(self.text, self.filename, self.location or self.filename)

    def function(self) -> Callable[[sqlite3.Connection], object]:
        """A Python migration's ``up`` (or ``down``) function, from its top level run in a
        fresh namespace: each run gets its own, so no state is carried between runs."""
        from . import python

        return python.function(self._code, self.filename)

    @cached_property
    def statements(self) -> tuple[Statement, ...]:
        """The statements (:class:`~bootmigrate.Statement`), split on first use.

        Running a script does not need them (the runner walks the text as it runs it): a
        20 MB data migration would otherwise hold a second copy of its text in 200,000
        objects.
        """
        if self.language == "python":
            return ()
        return tuple(_sqltext.split(self.text))

    @property
    def no_transaction(self) -> bool:
        """True when the script declares ``-- bootmigrate: no-transaction``."""
        return "no-transaction" in self.directives

    @cached_property
    def transaction_body(self) -> tuple[int, int] | None:
        """For a ``no-transaction`` script that is one explicit transaction (``BEGIN``,
        statements, ``COMMIT``, perhaps inside ``PRAGMA foreign_keys``), where its body
        begins and ends in :attr:`text`; None otherwise."""
        if not self.no_transaction or self.language == "python":
            return None
        return _sqltext.explicit_transaction(self.text)

    @property
    def transactional(self) -> bool:
        """True when the script runs inside the run's transaction: every script but a
        ``no-transaction`` one, which runs alone, unless it is one explicit transaction:
        then its body runs inside the run's, atomic with its ledger row (and needs no
        commit of its own)."""
        return not self.no_transaction or self.transaction_body is not None


@dataclass(frozen=True)
class Migration:
    """One version: its up script, optional down script and optional test fixture."""

    #: The version, the number its file names start with.
    version: int
    #: The name after the number (``add_users``).
    name: str
    #: ``NNNN_name.up.sql``.
    up: Script
    #: ``NNNN_name.down.sql``; None makes the migration irreversible.
    down: Script | None = None
    #: ``NNNN_name.fixture.sql``: rows the test kit adds after this migration.
    fixture: Script | None = None

    @property
    def checksum(self) -> str:
        """The up script's checksum: what the ledger records and later compares."""
        return self.up.checksum

    @property
    def reversible(self) -> bool:
        """True when the migration has a down file."""
        return self.down is not None

    @property
    def transactional(self) -> bool:
        """True when the up script runs inside the run's transaction (see
        :attr:`Script.transactional`)."""
        return self.up.transactional

    @property
    def backward_compatible(self) -> bool:
        """True when the up script declares ``-- bootmigrate: backward-compatible``."""
        return "backward-compatible" in self.up.directives

    @property
    def label(self) -> str:
        """``0003_add_users``: how messages and reports name the migration."""
        return label(self.version, self.name)


@dataclass(frozen=True)
class Squashed:
    """One migration a baseline squashed: what a database's ledger records for it."""

    #: Its version.
    version: int
    #: Its name.
    name: str
    #: SHA-256 of its up file's normalised text, as the ledger records it.
    checksum: str
    #: Whether its up file declared ``-- bootmigrate: backward-compatible``.
    backward_compatible: bool = False

    @property
    def label(self) -> str:
        """``0003_add_users``."""
        return label(self.version, self.name)


#: How a baseline lists a migration it squashed, one leading comment line each:
#: ``-- squashes 0003 add_tags <sha256> [backward-compatible]``.
SQUASHES_PREFIX = "-- squashes "


@dataclass(frozen=True)
class Squash:
    """A squashed history, ``NNNN_name.baseline.sql``: the schema and rows of a new
    database migrated to :attr:`version`, which a new database runs instead of the
    migrations it lists (:attr:`squashed`)."""

    #: The version a database reaches by running it.
    version: int
    #: The name after the number (``squashed``).
    name: str
    #: The SQL file.
    script: Script
    #: The migrations it stands for, ascending; the last one is :attr:`version`.
    squashed: tuple[Squashed, ...]

    @property
    def checksum(self) -> str:
        """The baseline file's checksum (what the lock file records)."""
        return self.script.checksum

    @property
    def label(self) -> str:
        """``0010_squashed``."""
        return label(self.version, self.name)


def parse_squashed(text: str, filename: str, version: int) -> tuple[Squashed, ...]:
    """The ``-- squashes`` lines of a baseline's text; :class:`BaselineError` when they
    are malformed, out of order, or do not end at the baseline's *version*."""
    entries: list[Squashed] = []
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.startswith(SQUASHES_PREFIX):
            if line.startswith("--") or not line.strip():
                continue
            break  # the first statement: the list is on the leading comment lines
        parts = line[len(SQUASHES_PREFIX) :].split()
        flags = parts[3:]
        if (
            len(parts) < 3
            or not (parts[0].isascii() and parts[0].isdigit() and len(parts[0]) <= 19)
            or len(parts[2]) != 64
            or flags not in ([], ["backward-compatible"])
        ):
            raise BaselineError(
                filename,
                f"line {number}: expected '{SQUASHES_PREFIX}VERSION NAME SHA256', found {line!r}",
                "write the baseline again with `bootmigrate squash`",
            )
        entry = Squashed(int(parts[0]), parts[1], parts[2], bool(flags))
        if entries and entry.version <= entries[-1].version:
            raise BaselineError(
                filename,
                f"line {number}: version {entry.version} is listed after {entries[-1].version}",
                "write the baseline again with `bootmigrate squash`",
            )
        entries.append(entry)
    if not entries or entries[-1].version != version:
        raise BaselineError(
            filename,
            f"it must list the migrations it squashes, up to version {version}, on "
            f"'{SQUASHES_PREFIX}VERSION NAME SHA256' lines at the top",
            "write it with `bootmigrate squash`",
        )
    return tuple(entries)


@dataclass(frozen=True)
class MigrationSet:
    """An ordered, validated set of migrations and where they came from."""

    #: Where the migrations came from (``pkg:folder`` or a directory).
    origin: str
    #: The migrations, ascending by version.
    migrations: tuple[Migration, ...]
    #: The raw text of the source's lock file (``bootmigrate.lock``), if it has one.
    lock_text: str | None = field(default=None, repr=False, compare=False)
    #: The directory the files were read from when the source is a directory given by
    #: path (a working copy), not a package's resources; messages then say what a
    #: developer can do in it.
    working_copy: str | None = field(default=None, repr=False, compare=False)
    #: The squashed baselines (``NNNN_name.baseline.sql``), ascending by version.
    squashes: tuple[Squash, ...] = ()

    def __iter__(self) -> Iterator[Migration]:
        return iter(self.migrations)

    def __len__(self) -> int:
        return len(self.migrations)

    @property
    def head(self) -> int | None:
        """The highest version (of a migration or a baseline), or None for an empty set."""
        versions = [self.migrations[-1].version] if self.migrations else []
        versions += [self.squashes[-1].version] if self.squashes else []
        return max(versions) if versions else None

    @property
    def versions(self) -> tuple[int, ...]:
        """All versions, ascending."""
        return tuple(m.version for m in self.migrations)

    def get(self, version: int) -> Migration | None:
        """The migration of *version*, or None."""
        for migration in self.migrations:
            if migration.version == version:
                return migration
        return None

    @property
    def floor(self) -> int:
        """The lowest version a database may be at and still be upgraded by these files:
        0 (any) while every migration is shipped; once migrations squashed into a
        baseline are deleted, the newest of them (a database below it would need them)."""
        present = set(self.versions)
        return max(
            (
                s.version
                for squash in self.squashes
                for s in squash.squashed
                if s.version not in present
            ),
            default=0,
        )

    def without_baseline(self, version: int) -> MigrationSet | None:
        """The set that builds *version* without the baseline of that version: the
        migration files, and the newest lower baseline only where files it squashed are
        gone. None when nothing can (a file at or below *version* is gone and no lower
        baseline stands for it). What ``bootmigrate squash`` builds a baseline from, and
        what the test kit compares one with."""
        from dataclasses import replace

        present = set(self.versions)
        gone = max(
            (
                s.version
                for squash in self.squashes
                for s in squash.squashed
                if s.version <= version and s.version not in present
            ),
            default=0,
        )
        if not gone:
            return replace(self, squashes=())
        lower = [s for s in self.squashes if gone <= s.version < version]
        return replace(self, squashes=(lower[-1],)) if lower else None

    def script_for(self, version: int, name: str) -> Script | None:
        """The file a step of a report ran: the up file of the migration *version* named
        *name*, or the baseline of that version and name; None when there is neither."""
        migration = self.get(version)
        if migration is not None and migration.name == name:
            return migration.up
        for squash in self.squashes:
            if (squash.version, squash.name) == (version, name):
                return squash.script
        return None


def build_set(
    files: Mapping[str, bytes],
    origin: str,
    lock_text: str | None = None,
    working_copy: str | None = None,
    location: Callable[[str], str] | None = None,
) -> MigrationSet:
    """Validate migration files given as ``{file name: bytes}`` and assemble the set.

    Names that are not migration files are ignored. Errors are raised in file-name order,
    so the same broken set always reports the same file first. *location* gives the name
    a Python migration's traceback shows for a file (default: the file name).
    """
    where = location or str
    parsed: dict[int, dict[str, list[FileName]]] = {}
    squash_names: list[FileName] = []
    for filename in sorted(files):
        parts = parse_filename(filename)
        if parts is None:
            continue
        if parts.kind == "baseline":
            squash_names.append(parts)
            continue
        parsed.setdefault(parts.version, {}).setdefault(parts.kind, []).append(parts)

    migrations = []
    for version in sorted(parsed):
        kinds = parsed[version]
        for kind_files in kinds.values():
            if len(kind_files) > 1:
                raise DuplicateMigration(version, [f.filename for f in kind_files])
        up_name = kinds.get("up", [None])[0]
        down_name = kinds.get("down", [None])[0]
        fixture_name = kinds.get("fixture", [None])[0]
        if up_name is None:
            orphan = down_name or fixture_name
            assert orphan is not None
            raise OrphanDownFile(orphan.filename)
        for other in (down_name, fixture_name):
            if other is not None and other.name != up_name.name:
                raise NameMismatch(version, up_name.filename, other.filename)
        up = _script(up_name.filename, files[up_name.filename], where, required=True)
        # An empty down file (a forgotten placeholder from `bootmigrate new`) would undo
        # nothing yet delete the ledger row: remove it to make the step irreversible.
        down = (
            _script(down_name.filename, files[down_name.filename], where, required=True)
            if down_name
            else None
        )
        fixture = (
            _script(fixture_name.filename, files[fixture_name.filename], where)
            if fixture_name
            else None
        )
        migrations.append(Migration(version, up_name.name, up, down, fixture))
    squashes = _squashes(squash_names, files, {m.version: m for m in migrations}, where)
    return MigrationSet(origin, tuple(migrations), lock_text, working_copy, squashes)


def _squashes(
    names: list[FileName],
    files: Mapping[str, bytes],
    migrations: Mapping[int, Migration],
    where: Callable[[str], str],
) -> tuple[Squash, ...]:
    """The baselines, checked: one per version, each listing what it squashed, and what it
    lists agrees with the migration files still present and with the baselines below it."""
    by_version: dict[int, list[FileName]] = {}
    for parts in names:
        by_version.setdefault(parts.version, []).append(parts)
    squashes: list[Squash] = []
    for version in sorted(by_version):
        found = by_version[version]
        if len(found) > 1:
            raise DuplicateMigration(version, [f.filename for f in found])
        parts = found[0]
        script = _script(parts.filename, files[parts.filename], where, required=True)
        if script.no_transaction:
            raise BaselineError(
                parts.filename,
                "a baseline runs inside the run's transaction and cannot be no-transaction",
                "remove the directive",
            )
        squashed = parse_squashed(script.text, parts.filename, version)
        for entry in squashed:
            migration = migrations.get(entry.version)
            if migration is not None and (
                migration.name != entry.name or migration.checksum != entry.checksum
            ):
                raise BaselineError(
                    parts.filename,
                    f"it squashes {entry.label} (sha256 {entry.checksum[:12]}), but "
                    f"{migration.up.filename!r} is now sha256 {migration.checksum[:12]}: the "
                    "migration changed after the squash",
                    f"restore the migration, or write the baseline again with "
                    f"`bootmigrate squash --to {version} --force`",
                )
        if squashes:
            below = {s.version: s for s in squashes[-1].squashed}
            mismatch = [e.label for e in squashed if e.version in below and below[e.version] != e]
            missing = sorted(set(below) - {e.version for e in squashed})
            if mismatch or missing:
                raise BaselineError(
                    parts.filename,
                    f"it does not list the migrations {squashes[-1].script.filename!r} "
                    f"squashed as that file does ({', '.join(mismatch or map(str, missing))})",
                    f"write it again with `bootmigrate squash --to {version} --force`",
                )
        squashes.append(Squash(version, parts.name, script, squashed))
    return tuple(squashes)


def _script(
    filename: str, data: bytes, location: Callable[[str], str], *, required: bool = False
) -> Script:
    """Decode and parse one file; refuse transaction control in a transactional script,
    and (*required*) a file without a statement. A Python file is compiled and its
    function found (:meth:`Script._normalized`)."""
    script = Script._normalized(filename, _sqltext.decode(data, filename), location(filename))
    if script.language == "python":
        return script
    text = script.text
    if required and not _sqltext.has_statement(text):
        raise EmptyMigration(filename)
    if not script.no_transaction:
        control = _sqltext.find_transaction_control(_sqltext.iter_split(text), text)
        if control is not None:
            raise TransactionControlError(
                filename, control.line, _sqltext.first_keyword(control.sql)
            )
    return script
