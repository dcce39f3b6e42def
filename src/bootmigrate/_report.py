"""What a run returns: :class:`Report` for migrate/downgrade, :class:`Status` for status.

The no-op boot returns a :class:`Report`, so these are :class:`~bootmigrate._value.Value`
records, not dataclasses (see that module for why).
"""

from __future__ import annotations

from ._source.filenames import label
from ._value import Value

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path
    from typing import Any, Literal

    from ._apply.adopt import Adoption
    from ._db.ledger import AppliedMigration

    #: up-to-date: nothing to do; migrated / downgraded: steps ran; newer-compatible:
    #: the database holds newer, backward-compatible versions, and the app may use it.
    State = Literal["up-to-date", "migrated", "downgraded", "newer-compatible"]


class Step(Value):
    """One migration the run applied (``up``) or undid (``down``), and how long it took."""

    __slots__ = ("direction", "duration_ms", "name", "version")
    #: The migration's version (``3`` for ``0003_add_users``).
    version: int
    #: The migration's name (``add_users``).
    name: str
    #: ``"up"`` (applied) or ``"down"`` (undone).
    direction: Literal["up", "down"]
    #: How long its SQL took, in milliseconds.
    duration_ms: float

    def __init__(
        self, version: int, name: str, direction: Literal["up", "down"], duration_ms: float
    ) -> None:
        self._init(version, name, direction, duration_ms)

    @property
    def label(self) -> str:
        """``0003_add_users``."""
        return label(self.version, self.name)


class Report(Value):
    """The outcome of :func:`bootmigrate.migrate` or :func:`bootmigrate.downgrade`."""

    __slots__ = (
        "adoption",
        "backup",
        "database",
        "dry_run",
        "from_version",
        "head",
        "source",
        "state",
        "steps",
        "to_version",
        "unknown",
    )
    #: How the database was named (its path).
    database: str
    #: Where the migrations came from (``pkg:folder`` or a directory).
    source: str
    #: ``"up-to-date"`` (nothing to do), ``"migrated"`` or ``"downgraded"`` (steps ran),
    #: ``"newer-compatible"`` (the database holds newer, backward-compatible versions,
    #: and the app may use it as it is).
    state: State
    #: The version before the run (None: no migration had been applied).
    from_version: int | None
    #: The version after the run (None: none is applied, as after a downgrade to 0).
    to_version: int | None
    #: The migrations applied or undone, in order.
    steps: tuple[Step, ...]
    #: Versions in the database that the app has no files for (state newer-compatible).
    unknown: tuple[int, ...]
    #: What a :class:`Baseline` did when the run adopted a database without a ledger.
    adoption: Adoption | None
    #: The backup this run made before changing anything (``backup=True``), or None:
    #: what :func:`bootmigrate.restore` puts back.
    backup: Path | None
    #: True for a dry run: the steps ran, with these timings, on a scratch copy of the
    #: database, and the database itself was not changed.
    dry_run: bool
    #: The newest version the migrations have, when the run knows it (None from the
    #: boot's one query): above :attr:`to_version` when a target stopped the run short.
    head: int | None

    def __init__(
        self,
        database: str,
        source: str,
        state: State,
        from_version: int | None,
        to_version: int | None,
        steps: tuple[Step, ...] = (),
        unknown: tuple[int, ...] = (),
        adoption: Adoption | None = None,
        backup: Path | None = None,
        dry_run: bool = False,
        head: int | None = None,
    ) -> None:
        self._init(
            database,
            source,
            state,
            from_version,
            to_version,
            steps,
            unknown,
            adoption,
            backup,
            dry_run,
            head,
        )

    def summary(self) -> str:
        """A few lines for people: from and to versions and each step with its time."""
        lines = []
        if self.adoption is not None:
            lines.append(f"{self.database}: {self.adoption.summary()}")
        if self.dry_run and self.steps:
            lines.append(
                f"{self.database}: would migrate {self._span()}; dry run on a copy, "
                f"{self.database} was not changed"
            )
            lines += self._step_lines()
        elif self.state == "up-to-date" and self._short_of_head():
            # "up to date" would read as "at the newest version"; it is only at the target.
            lines.append(
                f"{self.database}: already at version {self.to_version} (head is {self.head})"
            )
        elif self.state == "up-to-date":
            lines.append(f"{self.database}: up to date at version {_v(self.to_version)}")
        elif self.state == "newer-compatible":
            lines.append(
                f"{self.database}: at version {_v(self.to_version)}, newer than this app "
                f"(unknown backward-compatible version(s) "
                f"{', '.join(map(str, self.unknown))}); left unchanged"
            )
        else:
            verb = "migrated" if self.state == "migrated" else "downgraded"
            lines.append(f"{self.database}: {verb} {self._span()}")
            lines += self._step_lines()
        if self.dry_run and not self.steps:
            lines[-1] += "; dry run, nothing would run"
        if self.backup is not None:
            lines.append(
                f"{self.database}: backed up first, at version {self.from_version or 0}, to "
                f"{self.backup} (bootmigrate restore puts it back)"
            )
        return "\n".join(lines)

    def _short_of_head(self) -> bool:
        return self.head is not None and self.to_version is not None and self.head > self.to_version

    def _span(self) -> str:
        """``from version 3 to 5 (2 migration(s))``; a side with no version applied says
        so in words rather than as "version none"."""
        count = f"({len(self.steps)} migration(s))"
        # A database without a ledger is one no migration ran on: "version none" read
        # like a bug, so the line says what such a database is.
        if self.from_version is None:
            return f"from an empty database to version {_v(self.to_version)} {count}"
        if self.to_version is None:
            return f"from version {self.from_version} to version 0 (no migration applied) {count}"
        return f"from version {self.from_version} to {self.to_version} {count}"

    def _step_lines(self) -> list[str]:
        return [f"  {s.direction:4} {s.label}  {s.duration_ms:.1f} ms" for s in self.steps]


class Status(Value):
    """The database and the files compared, without changing anything."""

    __slots__ = (
        "applied",
        "current",
        "database",
        "exists",
        "head",
        "modified",
        "newer_compatible",
        "out_of_order",
        "pending",
        "problems",
        "source",
        "unknown",
    )
    #: How the database was named (its path).
    database: str
    #: Where the migrations came from (``pkg:folder`` or a directory).
    source: str
    #: False when the database file does not exist (it was not created).
    exists: bool
    #: The database's version (None: no migration applied).
    current: int | None
    #: The newest migration's version (None: the source has none).
    head: int | None
    #: Versions an upgrade would apply, in order.
    pending: tuple[int, ...]
    #: The ledger's rows, in version order.
    applied: tuple[AppliedMigration, ...]
    #: Applied versions that have no file: the database is newer than the app.
    unknown: tuple[int, ...]
    #: Applied versions whose file has changed since (checksum or name).
    modified: tuple[int, ...]
    #: Versions below the current one that were never applied.
    out_of_order: tuple[int, ...]
    #: True when every unknown version was declared backward-compatible.
    newer_compatible: bool
    #: One sentence per disagreement between files and database (the errors a run raises).
    problems: tuple[str, ...]

    def __init__(
        self,
        database: str,
        source: str,
        exists: bool,
        current: int | None,
        head: int | None,
        pending: tuple[int, ...],
        applied: tuple[AppliedMigration, ...],
        unknown: tuple[int, ...],
        modified: tuple[int, ...],
        out_of_order: tuple[int, ...],
        newer_compatible: bool = False,
        problems: tuple[str, ...] = (),
    ) -> None:
        self._init(
            database,
            source,
            exists,
            current,
            head,
            pending,
            applied,
            unknown,
            modified,
            out_of_order,
            newer_compatible,
            problems,
        )

    @property
    def up_to_date(self) -> bool:
        """True when nothing is pending and nothing disagrees."""
        return not (self.pending or self.unknown or self.modified or self.out_of_order)

    def as_dict(self) -> dict[str, Any]:
        """The JSON shape of ``bootmigrate status --json``."""
        return {
            "database": self.database,
            "source": self.source,
            "exists": self.exists,
            "current": self.current,
            "head": self.head,
            "pending": list(self.pending),
            "applied": [
                {
                    "version": a.version,
                    "name": a.name,
                    "checksum": a.checksum,
                    "applied_at": a.applied_at,
                    "execution_ms": a.execution_ms,
                    "bootmigrate_version": a.bootmigrate_version,
                    "backward_compatible": a.backward_compatible,
                }
                for a in self.applied
            ],
            "unknown": list(self.unknown),
            "modified": list(self.modified),
            "out_of_order": list(self.out_of_order),
            "newer_compatible": self.newer_compatible,
            "problems": list(self.problems),
        }

    def summary(self) -> str:
        """A few lines for people."""
        lines = [
            f"database: {self.database}" + ("" if self.exists else " (does not exist yet)"),
            f"source:   {self.source}",
            f"current:  {_v(self.current)}",
            f"head:     {_v(self.head)}",
            f"pending:  {', '.join(map(str, self.pending)) or 'none'}",
        ]
        lines += [f"problem:  {p}" for p in self.problems]
        return "\n".join(lines)


def _v(version: int | None) -> str:
    return "none" if version is None else str(version)
