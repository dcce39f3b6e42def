"""Read-only checks a developer or CI runs: verify, the lock check, schema drift, a dry run.

The ``bootmigrate`` command and :mod:`bootmigrate.testing` both call these, so a check
is written once. None of them changes a file or a database: a path is opened read-only
and never created (the schema checks build their reference database in a temporary
directory). They are not on the app's boot path, and ``import bootmigrate`` does not
import this module: :mod:`bootmigrate` loads it on first use.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass

from . import _binding as binding
from ._apply.rehearsal import rehearse
from ._apply.runner import look, status
from ._db.connection import DEFAULT_TIMEOUT, describe
from ._errors import MigrationError, UsageError
from ._plan import Plan, plan
from ._report import Report, Status
from ._schema.model import schema_diff
from ._schema.read import canonical_schema
from ._schema.snapshot import schema_at
from ._source import lockfile as _lockfile
from ._source.locate import load
from ._source.lockfile import LOCK_FILENAME
from ._source.model import MigrationSet
from ._types import Connect, DatabaseLike, SourceLike

#: Called with the connection of the reference database before any migration runs
#: (register the SQL functions and collations the migrations use).
Prepare = Callable[[sqlite3.Connection], object]


@dataclass(frozen=True)
class Verification:
    """What :func:`verify` found: the problems, and the facts its ``ok`` line states."""

    #: The database as messages name it.
    database: str
    #: The migration source as messages name it.
    source: str
    #: How many migrations the source holds (every file was read and validated).
    migrations: int
    #: The database's version (None: nothing applied, or no file).
    current: int | None
    #: Versions not applied yet.
    pending: tuple[int, ...]
    #: True when the source has a lock file (its differences are among the problems).
    lock_checked: bool
    #: True when the schema was compared with the one its version should have, and matched.
    schema_checked: bool
    #: One sentence per problem; a schema difference ends in its diff lines.
    problems: tuple[str, ...]
    #: The pending migrations run on a scratch copy (:func:`bootmigrate.rehearse`), when
    #: something was pending and nothing else was wrong; a failure is among the problems.
    dry_run: Report | None = None

    @property
    def ok(self) -> bool:
        """True when nothing is wrong."""
        return not self.problems

    def summary(self) -> str:
        """The ``ok: ...`` line when nothing is wrong, else the problems one per line."""
        if self.problems:
            return "\n".join(self.problems)
        where = (
            "has no migration applied" if self.current is None else f"is at version {self.current}"
        )
        return (
            f"ok: {self.migrations} migration file(s) valid; {self.database} {where}, "
            f"{len(self.pending)} pending"
            + (
                " (ran without error on a copy of the database)"
                if self.dry_run is not None and self.dry_run.steps
                else ""
            )
            + ("; the lock file matches" if self.lock_checked else "")
            + ("; its schema is the one of its version" if self.schema_checked else "")
        )


@dataclass(frozen=True)
class LockCheck:
    """What :func:`check_lock` found: differences from the lock, locked and new versions."""

    #: The migration source as messages name it.
    source: str
    #: What changed since the lock was written, one sentence each (see :attr:`problems`).
    differences: tuple[str, ...]
    #: The versions the lock file holds.
    locked: tuple[int, ...]
    #: Migrations newer than the lock: not a problem, they are not released yet.
    unlocked: tuple[int, ...]
    #: Down files edited (or added) since the lock was written, one line each: not a
    #: problem, a down file may be fixed; ``bootmigrate lock`` records their checksums.
    down_changes: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """True when no locked migration changed."""
        return not self.differences

    @property
    def problems(self) -> tuple[str, ...]:
        """The differences, each naming the lock file (as ``verify`` reports them)."""
        return tuple(f"{LOCK_FILENAME}: {d}" for d in self.differences)

    def summary(self) -> str:
        """The ``ok: ...`` line when nothing changed, else the problems one per line."""
        if self.differences:
            return "\n".join(self.problems)
        line = f"ok: {LOCK_FILENAME} matches {len(self.locked)} locked migration(s)"
        if self.unlocked:
            line += (
                f"; not locked yet: {', '.join(map(str, self.unlocked))} "
                "(run `bootmigrate lock` when you release them)"
            )
        if self.down_changes:
            line += (
                "; down file(s) edited since the lock, which is allowed: "
                + ", ".join(change.partition(":")[0] for change in self.down_changes)
                + " (run `bootmigrate lock` to record them)"
            )
        return line


def verify(
    db: DatabaseLike,
    source: SourceLike,
    *,
    schema: bool = False,
    prepare: Prepare | None = None,
    connect: Connect | None = None,
) -> Verification:
    """Check the files and the database together; read-only (``bootmigrate verify``).

    Every migration file is read and validated (a broken file raises its
    :class:`SourceError`, a malformed lock file a :class:`SourceError` too); then the
    problems are collected, not raised: applied migrations that changed, versions the
    files do not have, files below the current version, and locked migrations that
    changed since ``bootmigrate lock``. With *schema*, and only when there is no other
    problem, the database's schema is compared with a new database migrated to its
    version (see :func:`schema_drift`; *prepare* is called with that database's
    connection). When migrations are pending and nothing else is wrong, they run on a
    scratch copy of the database (:func:`bootmigrate.rehearse`, *prepare* called with its
    connection): a statement that fails there is a problem naming the file, statement and
    line. A path is opened read-only and never created.
    *connect* opens *db* and every copy of it the app's own way (an encrypted
    database's key, a newer SQLite): see :data:`Connect`.
    """
    with binding.using(db, connect):
        migrations = load(source)
        current = status(db, migrations)
        lock = _lock_check(migrations)
        problems = list(current.problems) + (list(lock.problems) if lock is not None else [])
        # The schema a version should have means nothing while files and ledger disagree.
        if schema and not problems:
            problems += _drift_problems(db, migrations, current, prepare)
        rehearsal = None
        if current.pending and not problems:
            # Valid files can still fail on the data (a syntax error SQLite finds, a NOT NULL
            # column on a table with rows): run them on a copy, as `up --dry-run` does.
            try:
                rehearsal = rehearse(db, migrations, prepare=prepare)
            except MigrationError as exc:
                problems.append(str(exc))
        return Verification(
            database=current.database,
            source=current.source,
            migrations=len(migrations),
            current=current.current,
            pending=current.pending,
            lock_checked=lock is not None,
            schema_checked=schema and not problems,
            problems=tuple(problems),
            dry_run=rehearsal,
        )


def check_lock(source: SourceLike) -> LockCheck:
    """Compare the migrations with their lock file (``bootmigrate lock --check``).

    Differences are returned, not raised (see :attr:`LockCheck.ok`). A source without a
    lock file raises :class:`UsageError`; a malformed one a :class:`SourceError` naming
    the line.
    """
    migrations = load(source)
    lock = _lock_check(migrations)
    if lock is None:
        raise UsageError(
            f"{migrations.origin} has no {LOCK_FILENAME}; write it with `bootmigrate lock`"
        )
    return lock


def schema_drift(
    db: DatabaseLike,
    source: SourceLike,
    *,
    prepare: Prepare | None = None,
    connect: Connect | None = None,
) -> str:
    """How the database's schema differs from a new database migrated to its version.

    The result is a unified diff (``-`` what the version should have, ``+`` what the
    database has), ``""`` when they are equal: anything else was changed outside the
    migrations. *prepare* is called with the new database's connection before it is
    migrated. Raises the :class:`PlanError` that stops a migration when the files and
    the database disagree (the version's schema is then unknown), and
    :class:`DatabaseUnavailable` for a file that does not exist. Read-only.
    *connect* opens *db* and every copy of it the app's own way (an encrypted
    database's key, a newer SQLite): see :data:`Connect`.
    """
    with binding.using(db, connect):
        migrations = load(source)
        current = status(db, migrations)
        # Versions the files do not have, even backward-compatible ones: their schema is unknown.
        plan(migrations.migrations, current.applied, squashes=migrations.squashes).check(
            allow_compatible=False, database=current.database, working_copy=migrations.working_copy
        )
        return _diff(db, migrations, current.current or 0, prepare)


def dry_run(
    db: DatabaseLike,
    source: SourceLike,
    *,
    target: int | None = None,
    connect: Connect | None = None,
) -> Plan:
    """What :func:`bootmigrate.migrate` would apply, without applying it; read-only.

    ``Plan.pending`` holds the migrations that would run, in order (empty: nothing to
    do); ``Plan.current`` is the database's version. Raises what ``migrate`` would raise
    before running anything (:class:`InvalidTarget`, a :class:`PlanError`). A path is
    opened read-only and never created.
    *connect* opens *db* and every copy of it the app's own way (an encrypted
    database's key, a newer SQLite): see :data:`Connect`.
    """
    with binding.using(db, connect):
        migrations = load(source)
        would = look(db, migrations, target, DEFAULT_TIMEOUT)
        would.check(database=describe(db), working_copy=migrations.working_copy)
        return would


def _lock_check(migrations: MigrationSet) -> LockCheck | None:
    """The lock file compared with *migrations*; None when the source has no lock file."""
    if migrations.lock_text is None:
        return None
    entries = _lockfile.parse(migrations.lock_text, LOCK_FILENAME)
    locked = {entry.version for entry in entries}
    return LockCheck(
        source=migrations.origin,
        differences=tuple(_lockfile.differences(entries, migrations)),
        locked=tuple(sorted(locked)),
        unlocked=tuple(m.version for m in migrations if m.version not in locked),
        down_changes=tuple(_lockfile.down_changes(entries, migrations)),
    )


def _drift_problems(
    db: DatabaseLike, migrations: MigrationSet, current: Status, prepare: Prepare | None
) -> list[str]:
    """:func:`verify`'s schema problems: why there is no schema to compare, or the diff."""
    name = current.database
    if not current.exists:
        return [f"{name}: the database does not exist, so it has no schema to check"]
    if current.unknown:
        return [
            f"{name}: holds version(s) {', '.join(map(str, current.unknown))} that the "
            "migrations do not have, so the schema it should have is unknown; check it with "
            "the newer release"
        ]
    version = current.current or 0
    diff = _diff(db, migrations, version, prepare)
    if not diff:
        return []
    return [
        f"{name}: the schema differs from the one version {version} should have; someone "
        f"changed the database outside the migrations ('-' expected, '+' found):\n"
        + diff.rstrip("\n")
    ]


def _diff(db: DatabaseLike, migrations: MigrationSet, version: int, prepare: Prepare | None) -> str:
    return schema_diff(
        schema_at(migrations, version, prepare=prepare),
        canonical_schema(db),
        expected_label=f"version {version} (a new database migrated by the files)",
        actual_label=describe(db),
    )
