"""What a run returns: :class:`Report` for migrate/downgrade, :class:`Status` for status."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Literal

from ._apply.adopt import Adoption
from ._plan import AppliedMigration

#: up-to-date: nothing to do; migrated / downgraded: steps ran; newer-compatible: the
#: database holds newer, backward-compatible versions, and the app may use it as it is.
State = Literal["up-to-date", "migrated", "downgraded", "newer-compatible"]


@dataclass(frozen=True)
class Step:
    """One migration the run applied (``up``) or undid (``down``), and how long it took."""

    version: int
    name: str
    direction: Literal["up", "down"]
    duration_ms: float

    @property
    def label(self) -> str:
        """``0003_add_users``."""
        return f"{self.version:04d}_{self.name}"


@dataclass(frozen=True)
class Report:
    """The outcome of :func:`bootmigrate.migrate` or :func:`bootmigrate.downgrade`."""

    database: str
    source: str
    state: State
    from_version: int | None
    to_version: int | None
    steps: tuple[Step, ...] = ()
    #: Versions in the database that the app has no files for (state newer-compatible).
    unknown: tuple[int, ...] = ()
    #: What a :class:`Baseline` did when the run adopted a database without a ledger.
    adoption: Adoption | None = None

    def summary(self) -> str:
        """A few lines for people: from and to versions and each step with its time."""
        if self.adoption is not None:
            adopted = f"{self.database}: {self.adoption.summary()}"
            return f"{adopted}\n{replace(self, adoption=None).summary()}"
        if self.state == "up-to-date":
            return f"{self.database}: up to date at version {_v(self.to_version)}"
        if self.state == "newer-compatible":
            return (
                f"{self.database}: at version {_v(self.to_version)}, newer than this app "
                f"(unknown backward-compatible version(s) "
                f"{', '.join(map(str, self.unknown))}); left unchanged"
            )
        verb = "migrated" if self.state == "migrated" else "downgraded"
        lines = [
            f"{self.database}: {verb} from version {_v(self.from_version)} to "
            f"{_v(self.to_version)} ({len(self.steps)} migration(s))"
        ]
        lines += [f"  {s.direction:4} {s.label}  {s.duration_ms:.1f} ms" for s in self.steps]
        return "\n".join(lines)


@dataclass(frozen=True)
class Status:
    """The database and the files compared, without changing anything."""

    database: str
    source: str
    #: False when the database file does not exist (it was not created).
    exists: bool
    current: int | None
    head: int | None
    pending: tuple[int, ...]
    applied: tuple[AppliedMigration, ...]
    unknown: tuple[int, ...]
    modified: tuple[int, ...]
    out_of_order: tuple[int, ...]
    newer_compatible: bool = False
    problems: tuple[str, ...] = field(default=())

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
