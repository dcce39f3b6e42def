"""``bootmigrate doctor``: a read-only health check of one database on a user's machine.

Each check adds :class:`Finding` records (a code, a severity, a one-line message and a
one-line fix) to a :class:`Health`. Nothing here writes: the database is opened with
``mode=ro`` and only after its journal was found cold, because SQLite rolls a hot
journal back on the first read of a connection that may write, and a doctor must report
that state, not repair it. The checks reuse the modules that own each concern: the
ledger compared with the files is :func:`~bootmigrate.status`, the schema comparison is
:func:`~bootmigrate.schema_drift`'s, the backup names are :mod:`._db.backup`'s.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import _binding as binding
from ._apply.runner import status
from ._binding import sqlite_errors
from ._checks import _diff
from ._db import backup as _backup
from ._db import ledger
from ._db.connection import (
    DEFAULT_TIMEOUT,
    check_timeout,
    held_elsewhere,
    hot_journal,
    open_read_only,
)
from ._db.foreign_keys import all_violations
from ._errors import DatabaseBusy, MigrationError, UsageError
from ._source.locate import load
from ._source.model import MigrationSet
from ._types import Connect, SourceLike

#: The severities, worst first: an error or a warning makes a database unhealthy.
SEVERITIES = ("error", "warning", "info")
#: The version of :meth:`Health.as_dict`'s shape (``bootmigrate doctor --json``).
FORMAT = 1
# How many integrity problems a finding quotes (SQLite lists up to 100).
_SHOWN = 1


@dataclass(frozen=True)
class Finding:
    """One thing :func:`doctor` found: what, how bad, and what to do about it."""

    #: A stable identifier, such as ``"integrity"`` or ``"schema-drift"``.
    code: str
    #: ``"error"``, ``"warning"`` or ``"info"``.
    severity: str
    #: What was found, on one line.
    message: str
    #: What to do about it, on one line (``""`` for an info that needs nothing).
    fix: str

    def as_dict(self) -> dict[str, str]:
        """The finding's JSON shape: its four fields."""
        return {
            "code": self.code,
            "severity": self.severity,
            "message": self.message,
            "fix": self.fix,
        }


@dataclass(frozen=True)
class Health:
    """What :func:`doctor` found for one database."""

    #: The database's path, as given.
    database: str
    #: Where the migrations came from.
    source: str
    #: True when the full ``integrity_check`` ran (else ``quick_check``).
    full: bool
    #: The findings, worst severity first, in the order they were found within one.
    findings: tuple[Finding, ...]

    @property
    def healthy(self) -> bool:
        """True when no finding is an error or a warning (info findings are facts)."""
        return all(f.severity == "info" for f in self.findings)

    def codes(self) -> list[str]:
        """The findings' codes, in order (handy in tests and scripts)."""
        return [f.code for f in self.findings]

    def as_dict(self) -> dict[str, Any]:
        """The JSON shape of ``bootmigrate doctor --json`` (``doctor_format`` is its version)."""
        return {
            "doctor_format": FORMAT,
            "database": self.database,
            "source": self.source,
            "full": self.full,
            "healthy": self.healthy,
            "findings": [f.as_dict() for f in self.findings],
        }

    def summary(self) -> str:
        """One line per finding and its fix, then a verdict line."""
        lines = []
        for f in self.findings:
            lines.append(f"{f.severity}: [{f.code}] {f.message}")
            if f.fix:
                lines.append(f"  fix: {f.fix}")
        counts = {s: sum(f.severity == s for f in self.findings) for s in SEVERITIES}
        if self.healthy:
            lines.append(f"healthy: {self.database}")
        else:
            lines.append(
                f"not healthy: {self.database}: {counts['error']} error(s), "
                f"{counts['warning']} warning(s)"
            )
        return "\n".join(lines)


def doctor(
    db: str | os.PathLike[str],
    source: SourceLike,
    *,
    full: bool = False,
    timeout: float = DEFAULT_TIMEOUT,
    connect: Connect | None = None,
) -> Health:
    """Check one database file against the app's migrations, without writing anything.

    Reports (as :class:`Finding` records, see :attr:`Health.healthy`): a hot journal,
    or a non-empty ``-wal`` (a warning without its ``-shm``; the other checks then run on
    a private copy of the files: reading the database would roll the journal back, or
    write the ``-shm``); ``PRAGMA quick_check`` (``integrity_check`` with *full*);
    ``foreign_key_check`` violations, counted per table; the ledger against the files
    (unknown, modified, out-of-order and pending versions, an unfinished no-transaction
    step) and ``PRAGMA user_version``; the schema against the one its version should
    have; partial backups a killed process left; and the backups present. A broken
    migration file raises its :class:`SourceError`: it is the app's problem, not the
    database's. *db* must be a path (the side files are found beside it).
    *connect* opens *db* and every copy of it the app's own way (an encrypted
    database's key, a newer SQLite): see :data:`Connect`.
    """
    with binding.using(db, connect):
        if not isinstance(db, (str, os.PathLike)):
            raise UsageError(
                f"doctor checks a database file and the files beside it: give its path, not {db!r}"
            )
        timeout = check_timeout(timeout)
        migrations = load(source)
        name = os.fspath(db)
        found: list[Finding] = []
        if os.path.isdir(name):
            raise UsageError(f"{name}: it is a directory, not a database file")
        if not os.path.exists(name):
            found.append(
                Finding(
                    "missing",
                    "error",
                    f"{name} does not exist",
                    "check the path; the app creates the database on its first start",
                )
            )
        else:
            if hot_journal(name):
                found.append(
                    Finding(
                        "hot-journal",
                        "error",
                        f"{name}-journal holds a write that did not finish (a hot journal): the "
                        "file holds part of a transaction until it is rolled back",
                        "start the app (or run `bootmigrate status`), which rolls it back; never "
                        "delete or move the -journal file",
                    )
                )
            elif _wal_size(name):
                found.append(_wal(name))
            # With either, the checks run on a private copy (see readable()), so the findings
            # are those of the state the app will see, under the database's own name.
            with readable(name) as path:
                found += [
                    Finding(
                        f.code, f.severity, f.message.replace(path, name), f.fix.replace(path, name)
                    )
                    for f in _database_checks(path, migrations, full, timeout)
                ]
        found += _backup_files(name)
        found += _sqlite_floor(name, migrations)
        order = {s: i for i, s in enumerate(SEVERITIES)}
        return Health(
            database=name,
            source=migrations.origin,
            full=full,
            findings=tuple(sorted(found, key=lambda f: order[f.severity])),
        )


def _wal_size(name: str) -> int:
    try:
        return os.path.getsize(name + "-wal")
    except OSError:
        return 0


def _wal(name: str) -> Finding:
    """A non-empty ``-wal``: left by a crash when there is no ``-shm`` (every connection
    keeps one); else normal while the app runs (which the doctor cannot tell from a
    crash without taking SQLite's locks)."""
    size = _wal_size(name)
    if os.path.exists(name + "-shm"):
        return Finding(
            "wal",
            "info",
            f"{name}-wal holds {size} bytes of commits not yet copied into the database "
            "(normal while the app runs; checked on a copy)",
            "",
        )
    if held_elsewhere(name):
        # locking_mode=EXCLUSIVE keeps the WAL index in the connection's memory: no -shm.
        return Finding(
            "wal",
            "info",
            f"{name}-wal holds {size} bytes of commits not yet copied into the database, "
            "and a connection of another process has it open in locking_mode=EXCLUSIVE "
            "(normal while the app runs; checked on a copy)",
            "",
        )
    return Finding(
        "leftover-wal",
        "warning",
        f"{name}-wal holds {size} bytes of commits not yet copied into the database, "
        "and no connection has it open",
        "start the app once, which moves them into the database; never delete the "
        "-wal file (its commits would be lost)",
    )


@contextmanager
def readable(name: str) -> Iterator[str]:
    """*name*, or a private copy of it and its side file when reading it would write: a
    hot journal (SQLite rolls it back on the first read) or a non-empty ``-wal`` (a
    read-only connection would create or rebuild the ``-shm``). The copy is rolled
    back, not the user's file; :func:`doctor` and :func:`~bootmigrate.diagnose` read
    through it and never write."""
    side = "-journal" if hot_journal(name) else "-wal" if _wal_size(name) else None
    if side is None:
        yield name
        return
    import shutil
    import tempfile

    with tempfile.TemporaryDirectory(prefix="bootmigrate-doctor-") as scratch:
        copy = os.path.join(scratch, os.path.basename(name))
        shutil.copyfile(name, copy)
        shutil.copyfile(name + side, copy + side)
        yield copy


def _database_checks(
    name: str, migrations: MigrationSet, full: bool, timeout: float
) -> list[Finding]:
    try:
        conn = open_read_only(name, timeout)
    except MigrationError as exc:
        return [_unreadable(exc)]
    try:
        found = _integrity(conn, full)
        if found:
            # A damaged file: the other checks would read damaged pages too.
            return found
        found += _foreign_keys(conn)
        try:
            has_ledger = ledger.exists(conn, name)
            unfinished = ledger.read_unfinished(conn, name) if has_ledger else None
            user_version = conn.execute("PRAGMA main.user_version").fetchone()[0]
            newest = ledger.max_version(conn) if has_ledger else 0
        except MigrationError as exc:
            return [*found, _unreadable(exc)]
    finally:
        conn.close()
    try:
        current = status(name, migrations, timeout=timeout)
    except MigrationError as exc:
        return [*found, _unreadable(exc)]
    found += _ledger(current.unknown, current.modified, current.out_of_order)
    if unfinished is not None:
        found.append(
            Finding(
                "unfinished-step",
                "warning",
                f"the no-transaction step {unfinished.version} ({unfinished.name}) began on "
                "an earlier run and was not recorded: the schema may hold part of it, so it "
                "was not compared",
                "start the app (or run `bootmigrate up`): the next run retries it",
            )
        )
    if has_ledger and user_version != min(newest, ledger.USER_VERSION_MAX):
        found.append(
            Finding(
                "user-version",
                "warning",
                f"PRAGMA user_version is {user_version} but the ledger's newest version is "
                f"{newest}",
                "something outside bootmigrate set it; the next migration sets it back, or "
                f"run `PRAGMA user_version = {min(newest, ledger.USER_VERSION_MAX)}`",
            )
        )
    if current.pending:
        found.append(
            Finding(
                "pending",
                "info",
                f"{len(current.pending)} migration(s) pending: "
                + ", ".join(map(str, current.pending)),
                "the app applies them at its next start (or run `bootmigrate up`)",
            )
        )
    # The schema of a version means nothing while the ledger and files disagree, or
    # while a step that began is not recorded (its first statements may have run).
    if not (current.unknown or current.modified or current.out_of_order or unfinished):
        found += _drift(name, migrations, current.current or 0)
    return found


def _unreadable(exc: MigrationError) -> Finding:
    if isinstance(exc, DatabaseBusy):
        return Finding(
            "busy",
            "warning",
            str(exc).splitlines()[0],
            "nothing was checked: run the doctor again once the program that has the "
            "database open is closed (an app in locking_mode=EXCLUSIVE holds it while it "
            "runs), or with a longer --timeout",
        )
    return Finding(
        "unreadable",
        "error",
        str(exc).splitlines()[0],
        "restore the newest backup (`bootmigrate restore`), or recover the data with the "
        "sqlite3 shell's `.recover`",
    )


def _integrity(conn: sqlite3.Connection, full: bool) -> list[Finding]:
    pragma = "integrity_check" if full else "quick_check"
    try:
        rows = [str(row[0]) for row in conn.execute(f"PRAGMA main.{pragma}")]
    except sqlite_errors.DatabaseError as exc:
        rows = [str(exc)]
    if rows == ["ok"]:
        return []
    return [
        Finding(
            "integrity",
            "error",
            f"PRAGMA {pragma} found {len(rows)} problem(s), the first: "
            + "; ".join(r.replace("\n", " ") for r in rows[:_SHOWN]),
            "restore the newest backup (`bootmigrate restore`), or recover the data with the "
            "sqlite3 shell's `.recover`",
        )
    ]


def _foreign_keys(conn: sqlite3.Connection) -> list[Finding]:
    counts: dict[str, int] = {}
    for table, _rowid, _parent, _index in all_violations(conn):
        counts[table] = counts.get(table, 0) + 1
    return [
        Finding(
            "foreign-key",
            "error",
            f"table {table!r}: {count} row(s) reference a row that does not exist",
            f"fix or delete them (`PRAGMA foreign_key_check({table!r})` lists their rowids)",
        )
        for table, count in sorted(counts.items())
    ]


def _ledger(
    unknown: tuple[int, ...], modified: tuple[int, ...], out_of_order: tuple[int, ...]
) -> list[Finding]:
    found = []
    if unknown:
        found.append(
            Finding(
                "unknown-migration",
                "error",
                f"the database holds version(s) {', '.join(map(str, unknown))} that the "
                "migrations do not have: a newer release migrated it",
                "run the newer release, or restore a backup taken before it",
            )
        )
    if modified:
        found.append(
            Finding(
                "modified-migration",
                "error",
                f"applied migration(s) {', '.join(map(str, modified))} changed since they ran",
                "ship the files as they were applied; put the change in a new migration",
            )
        )
    if out_of_order:
        found.append(
            Finding(
                "out-of-order",
                "error",
                f"version(s) {', '.join(map(str, out_of_order))} are below the database's "
                "version and were never applied",
                "renumber them above the newest applied version",
            )
        )
    return found


def _drift(name: str, migrations: MigrationSet, version: int) -> list[Finding]:
    diff = _diff(name, migrations, version, None)
    if not diff:
        return []
    changed = [
        line
        for line in diff.splitlines()
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    ]
    return [
        Finding(
            "schema-drift",
            "error",
            f"the schema differs from the one version {version} should have in "
            f"{len(changed)} line(s), the first: {changed[0] if changed else diff.strip()}",
            "see the diff with `bootmigrate verify --schema`; undo the change, or make it "
            "a migration",
        )
    ]


def _sqlite_floor(name: str, migrations: MigrationSet) -> list[Finding]:
    """Whether this machine's SQLite runs every up file of the set (what a new database
    here would run): the runner's own check, asked of all of them, turned into a
    finding. It reads the ``sqlite3`` module's library, not the file."""
    from ._apply import floor
    from ._errors import SQLiteTooOld

    try:
        floor.check(name, [migration.up for migration in migrations.migrations])
    except SQLiteTooOld as exc:
        return [
            Finding(
                "sqlite-too-old",
                "warning",
                f"{exc.filename!r} line {exc.line} uses {exc.feature}, which needs "
                f"{exc.needed}, and this machine runs {exc.running}: a new database could "
                "not be built here, nor this one migrated past it",
                exc.tail,
            )
        ]
    return []


def _backup_files(name: str) -> list[Finding]:
    found = [
        Finding(
            "partial-backup",
            "warning",
            f"{partial} is a partial backup a stopped process left",
            "delete it (the next backup with `migrate(..., backup=True)` removes it too)",
        )
        for partial in _backup.stale_partials(Path(name))
    ]
    found += [
        Finding(
            "backup",
            "info",
            f"backup at version {_backup.version_of(path)}: {path}",
            f"`bootmigrate restore {path}` puts it back in place of the database",
        )
        for path in _backup.backups(name)
    ]
    return found


__all__ = ["Finding", "Health", "doctor"]
