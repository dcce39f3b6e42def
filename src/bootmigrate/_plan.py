"""The planner: a pure function of (available migrations, ledger rows).

Nothing here touches a file or a database, so every case of files-versus-database is
tested with plain data (see tests/test_plan.py). The ledger's rows
(:class:`~bootmigrate.AppliedMigration`) are defined with the ledger that writes them;
this module only reads their fields.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ._errors import (
    DatabaseTooNew,
    DatabaseTooOld,
    InvalidTarget,
    IrreversibleMigration,
    ModifiedMigration,
    OutOfOrderMigration,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ._db.ledger import AppliedMigration
    from ._source.model import Migration, Squash


@dataclass(frozen=True)
class Modification:
    """An applied migration whose file now differs (checksum or name)."""

    #: The ledger's row, as the migration was applied.
    applied: AppliedMigration
    #: The file as it is now.
    migration: Migration


@dataclass(frozen=True)
class Plan:
    """What the database has, what the files offer, and what an upgrade would do."""

    #: The database's version (None: no migration applied).
    current: int | None
    #: The newest migration's version (None: the source has none).
    head: int | None
    #: The ledger's rows, in version order.
    applied: tuple[AppliedMigration, ...]
    #: Migrations to apply, in order, up to the target.
    pending: tuple[Migration, ...]
    #: Applied versions that have no file: the database is newer than the app.
    unknown: tuple[AppliedMigration, ...]
    #: Applied migrations whose file has changed since.
    modified: tuple[Modification, ...]
    #: Unapplied migrations below the current version.
    out_of_order: tuple[Migration, ...]
    #: The squashed baseline a new database runs first, instead of the migrations it
    #: squashed (:attr:`pending` then holds only the migrations after it).
    baseline: Squash | None = None
    #: Versions the upgrade needs whose files are gone (squashed into a baseline and
    #: deleted): the database is too old for these files (:class:`DatabaseTooOld`).
    squashed_away: tuple[int, ...] = ()
    #: The baseline that squashed the newest of :attr:`squashed_away`.
    squashed_into: Squash | None = None

    @property
    def unknown_versions(self) -> tuple[int, ...]:
        """The versions of :attr:`unknown`."""
        return tuple(a.version for a in self.unknown)

    @property
    def newer_compatible(self) -> bool:
        """True when every unknown version was declared backward-compatible."""
        return bool(self.unknown) and all(a.backward_compatible for a in self.unknown)

    def check(
        self,
        *,
        allow_compatible: bool = True,
        database: str | None = None,
        working_copy: str | None = None,
    ) -> None:
        """Raise the :class:`PlanError` that stops a run, if any; change nothing.

        *database* names the database in the message; *working_copy* is the directory
        of a source read from a working copy (see :attr:`MigrationSet.working_copy`).
        """
        if self.modified:
            raise ModifiedMigration(
                [
                    (
                        m.applied.version,
                        m.applied.name,
                        m.applied.checksum,
                        m.migration.name,
                        m.migration.checksum,
                    )
                    for m in self.modified
                ]
            )
        if self.unknown and not (allow_compatible and self.newer_compatible):
            raise DatabaseTooNew(
                [a.version for a in self.unknown],
                self.head,
                names=[a.name for a in self.unknown],
                database=database,
                working_copy=working_copy,
            )
        if self.out_of_order:
            assert self.current is not None
            raise OutOfOrderMigration([m.version for m in self.out_of_order], self.current)
        if self.squashed_away:
            assert self.squashed_into is not None
            raise DatabaseTooOld(
                database,
                self.current,
                max(self.squashed_away),
                self.squashed_into.script.filename,
                self.squashed_away,
            )


def plan(
    migrations: Sequence[Migration],
    applied: Sequence[AppliedMigration],
    target: int | None = None,
    *,
    squashes: Sequence[Squash] = (),
    new_database: bool = False,
) -> Plan:
    """Compare the migrations with the ledger and work out what an upgrade to *target* does.

    *target* None means the head. A target below the current version is an
    :class:`InvalidTarget` (that is a downgrade); a target that is not a known version
    is one too.

    *squashes* are the source's baselines (:attr:`MigrationSet.squashes`). A
    *new_database* (no ledger row, no table) starts from the newest one at or below the
    target (:attr:`Plan.baseline`) instead of running the migrations it squashed; any
    other database upgrades through the files, and when files it needs were squashed
    and deleted, :attr:`Plan.squashed_away` says which (:meth:`Plan.check` refuses it).
    """
    by_version = {m.version: m for m in migrations}
    applied = tuple(sorted(applied, key=lambda a: a.version))
    applied_versions = {a.version for a in applied}
    current = applied[-1].version if applied else None
    # Versions a baseline squashed whose files are gone are still known versions.
    squashed = {s.version: squash for squash in squashes for s in squash.squashed}
    known = set(by_version) | set(squashed)
    head = max(known) if known else None

    unknown = tuple(a for a in applied if a.version not in known)
    modified = tuple(
        Modification(a, by_version[a.version])
        for a in applied
        if a.version in by_version
        and (a.checksum != by_version[a.version].checksum or a.name != by_version[a.version].name)
    ) + tuple(
        # A squashed migration whose file is gone: the baseline's list says what it was.
        Modification(a, _as_migration(squashed[a.version], a.version))
        for a in applied
        if a.version not in by_version
        and a.version in squashed
        and (a.name, a.checksum) != _listed(squashed[a.version], a.version)
    )
    out_of_order = tuple(
        m
        for m in migrations
        if current is not None and m.version < current and m.version not in applied_versions
    )
    if target is not None:
        if target not in known:
            raise InvalidTarget(
                f"target version {target} is not one of the migrations "
                f"({_describe_versions(sorted(by_version))}); pick an existing version"
            )
        if current is not None and target < current:
            raise InvalidTarget(
                f"target version {target} is below the database's version {current}; "
                f"to go back, run `bootmigrate down --to {target}` "
                f"(bootmigrate.downgrade(db, source, {target}) from Python)"
            )
    limit = head if target is None else target
    baseline = None
    if current is None and new_database and limit is not None:
        baseline = max(
            (s for s in squashes if s.version <= limit), key=lambda s: s.version, default=None
        )
    start = baseline.version if baseline is not None else current
    pending = tuple(
        m
        for m in sorted(migrations, key=lambda m: m.version)
        if limit is not None
        and m.version <= limit
        and m.version not in applied_versions
        and (start is None or m.version > start)
    )
    squashed_away = tuple(
        sorted(
            version
            for version in squashed
            if version not in by_version
            and version not in applied_versions
            and limit is not None
            and version <= limit
            and (start is None or version > start)
        )
    )
    return Plan(
        current,
        head,
        applied,
        pending,
        unknown,
        modified,
        out_of_order,
        baseline,
        squashed_away,
        squashed[squashed_away[-1]] if squashed_away else None,
    )


def _listed(squash: Squash, version: int) -> tuple[str, str]:
    """(name, checksum) of the migration *version* as the baseline *squash* lists it."""
    entry = next(s for s in squash.squashed if s.version == version)
    return entry.name, entry.checksum


def _as_migration(squash: Squash, version: int) -> Migration:
    """The migration *version* as the baseline *squash* lists it (its file is gone), for
    a :class:`Modification`: its name and checksum, and the baseline's file name."""
    from ._source.model import Migration, Script

    name, checksum = _listed(squash, version)
    return Migration(version, name, Script(squash.script.filename, "", checksum, frozenset()))


def plan_downgrade(
    migrations: Sequence[Migration],
    applied: Sequence[AppliedMigration],
    target: int,
    *,
    squashes: Sequence[Squash] = (),
) -> tuple[Migration, ...]:
    """The migrations to undo, newest first, to bring the database down to *target*.

    Target 0 undoes everything. Raises :class:`InvalidTarget` for a target above the
    current version, :class:`DatabaseTooNew` when a version to undo has no file, and
    :class:`IrreversibleMigration` when one has no down file.
    """
    if target < 0:
        raise InvalidTarget(f"target version {target} is negative; use 0 to undo every migration")
    by_version = {m.version: m for m in migrations}
    current = max((a.version for a in applied), default=0)
    if target > current:
        raise InvalidTarget(
            f"target version {target} is above the database's version {current}; "
            f"to go forward, run `bootmigrate up --to {target}` "
            f"(bootmigrate.migrate(db, source, target={target}) from Python)"
        )
    if target != 0 and target not in {a.version for a in applied}:
        raise InvalidTarget(
            f"target version {target} was never applied to this database "
            f"(applied: {_describe_versions([a.version for a in applied])}); "
            "pick an applied version"
        )
    to_undo = sorted((a for a in applied if a.version > target), key=lambda a: -a.version)
    squashed = {s.version for squash in squashes for s in squash.squashed}
    # A migration squashed into a baseline whose file is gone has no down file either.
    gone = [
        (a.version, a.name)
        for a in to_undo
        if a.version not in by_version and a.version in squashed
    ]
    if gone:
        raise IrreversibleMigration(sorted(gone))
    unknown = [a.version for a in to_undo if a.version not in by_version]
    if unknown:
        raise DatabaseTooNew(sorted(unknown), max(by_version) if by_version else None)
    steps = tuple(by_version[a.version] for a in to_undo)
    irreversible = [(m.version, m.name) for m in steps if m.down is None]
    if irreversible:
        raise IrreversibleMigration(irreversible)
    return steps


def _describe_versions(versions: Sequence[int]) -> str:
    if not versions:
        return "none"
    if len(versions) > 6:
        return f"{versions[0]} to {versions[-1]}"
    return ", ".join(map(str, versions))
