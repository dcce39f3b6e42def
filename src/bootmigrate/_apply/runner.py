"""The runner: migrate, downgrade and status, built from the planner, ledger and database.

Concurrency: a run first reads the ledger without a lock, so the common boot (nothing
pending) never waits for a writer. When something is pending it takes the write lock
with ``BEGIN IMMEDIATE`` and only then reads the ledger again and plans again, so two
processes booting at once never apply a migration twice: the second one waits for the
first, finds nothing pending and reports the database as up to date. SQLite's lock is
released around a ``no-transaction`` step, so runs that hold one also take an OS file
lock (:mod:`bootmigrate._steplock`). A backup (``backup=True``) is taken under the write
lock, before the first migration runs.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

from .. import _log
from .._apply import boot as _boot
from .._apply.adopt import Adoption, Baseline, adopt
from .._apply.alone import run_alone
from .._apply.executor import execute_script
from .._db import backup as _backup
from .._db import filelock as _steplock
from .._db import ledger as _ledger
from .._db.connection import (
    DEFAULT_TIMEOUT,
    Database,
    DatabaseLike,
    check_writable,
    describe,
    for_reading,
    for_writing,
    translated,
)
from .._errors import (
    ApplyError,
    MigrationError,
    UsageError,
)
from .._plan import plan, plan_downgrade
from .._report import Report, State, Status, Step
from .._source.locate import SourceLike, load, resolve
from .._source.model import Migration, MigrationSet, Script


def migrate(
    db: DatabaseLike,
    source: SourceLike,
    *,
    target: int | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    baseline: Baseline | None = None,
    backup: bool = False,
    backup_keep: int = 1,
) -> Report:
    """Bring the database to *target* (default: the newest migration) and report what ran.

    *db* is a path (the file is created if missing) or an open :class:`sqlite3.Connection`
    (left open, with its settings restored; it must not be inside a transaction).
    *source* is ``"pkg:folder"``, a directory, or a :class:`MigrationSet` from :func:`load`.
    All pending migrations run in one ``BEGIN IMMEDIATE`` transaction with their ledger
    rows: the database reaches the target or stays exactly as it was. *timeout* is how
    long, in seconds, to wait for another connection's write lock before raising
    :class:`DatabaseBusy`. *baseline* adopts a database made before bootmigrate (no
    ledger): see :class:`Baseline`; the adoption runs in the same transaction.
    *backup* takes an online backup next to the file before anything is applied (only
    when something is pending) and keeps the newest *backup_keep* of them; see
    :mod:`bootmigrate._backup`.

    Raises a :class:`MigrationError` subclass; after any of them the database is unchanged,
    except when a ``no-transaction`` migration failed: the error then says what state
    the file is in.
    """
    if backup and backup_keep < 1:
        raise UsageError(f"backup_keep must be 1 or more, not {backup_keep!r}")
    if target is None and not isinstance(source, MigrationSet):
        # The common boot has nothing to do: with a lock file, one query says so.
        settled = _boot.settled(db, resolve(source), timeout)
        if settled is not None:
            return settled
    migrations = load(source)
    with for_writing(db, timeout) as database, translated(database.name, timeout):
        # Optimistic look without the lock: the common boot has nothing to do.
        first = plan(migrations.migrations, _ledger.read(database.conn), target)
        first.check()
        if not first.pending:
            return _settled(database.name, migrations, first.current, first.unknown_versions)
        check_writable(database)
        # The write lock is released around a no-transaction step: serialise those runs.
        alone = any(not m.transactional for m in first.pending)
        with _steplock.held(database.name if alone else None, timeout):
            return _upgrade(database, migrations, target, baseline, backup_keep if backup else None)


def _settled(
    name: str, migrations: MigrationSet, current: int | None, unknown: Sequence[int]
) -> Report:
    state: State = "newer-compatible" if unknown else "up-to-date"
    _log.debug("%s: %s at version %s", name, state, current)
    return Report(name, migrations.origin, state, current, current, (), tuple(unknown))


def _upgrade(
    database: Database,
    migrations: MigrationSet,
    target: int | None,
    baseline: Baseline | None = None,
    backup_keep: int | None = None,
) -> Report:
    steps: list[Step] = []
    saved: Path | None = None
    from_version: int | None = None
    started = False
    adoption: Adoption | None = None
    while True:
        alone: Migration | None = None
        with database.write_transaction():
            if baseline is not None and not started:
                adoption = adopt(database, migrations, baseline)
            # Read the ledger again under the write lock: another process may have migrated.
            current_plan = plan(migrations.migrations, _ledger.read(database.conn), target)
            current_plan.check()
            if not started:
                from_version, started = current_plan.current, True
            if not current_plan.pending:
                break
            if backup_keep is not None and saved is None:
                # Under the write lock: the copy is exactly what this run starts from, and
                # a process that lost the race takes none (nor rotates this one away).
                saved = _backup.take(
                    database.name, current_plan.current, backup_keep, database.timeout
                )
            _ledger.ensure(database.conn)
            for migration in current_plan.pending:
                if not migration.transactional:
                    alone = migration
                    break
                steps.append(_run(database, migration, migration.up, "up"))
        if alone is None:
            break
        steps.append(run_alone(database, alone, saved, from_version))
    to_version = _ledger.max_version(database.conn) if steps else from_version
    if not steps:
        return Report(
            database.name,
            migrations.origin,
            "up-to-date",
            from_version,
            from_version,
            adoption=adoption,
        )
    return Report(
        database.name,
        migrations.origin,
        "migrated",
        from_version,
        to_version,
        tuple(steps),
        adoption=adoption,
    )


def _run(database: Database, migration: Migration, script: Script, direction: str) -> Step:
    """Run one script inside the open transaction and write (or delete) its ledger row."""
    started = time.perf_counter()
    execute_script(database, script)
    elapsed = (time.perf_counter() - started) * 1000
    if direction == "up":
        _ledger.record(database.conn, migration, elapsed)
    else:
        _ledger.forget(database.conn, migration.version)
    _log.logger().info(
        "%s %s in %.1f ms", "applied" if direction == "up" else "reverted", script.filename, elapsed
    )
    return Step(migration.version, migration.name, "up" if direction == "up" else "down", elapsed)


def downgrade(
    db: DatabaseLike, source: SourceLike, target: int, *, timeout: float = DEFAULT_TIMEOUT
) -> Report:
    """Undo migrations down to *target* (0: all) with their down files, in one transaction.

    Refused with :class:`IrreversibleMigration` when a step has no down file, and with
    :class:`DatabaseTooNew` when the database holds versions the files do not know.
    """
    migrations = load(source)
    with for_writing(db, timeout) as database, translated(database.name, timeout):
        steps: list[Step] = []
        with database.write_transaction():
            applied = _ledger.read(database.conn)
            plan(migrations.migrations, applied).check(allow_compatible=False)
            to_undo = plan_downgrade(migrations.migrations, applied, target)
            from_version = applied[-1].version if applied else None
            for migration in to_undo:
                assert migration.down is not None
                if not migration.down.transactional:
                    raise ApplyError(
                        f"{migration.down.filename!r} is a no-transaction down file; "
                        "downgrades run in one transaction, so undo this step by hand"
                    )
                steps.append(_run(database, migration, migration.down, "down"))
        if not steps:
            return Report(
                database.name, migrations.origin, "up-to-date", from_version, from_version
            )
        to_version = target if target != 0 else None
        return Report(
            database.name, migrations.origin, "downgraded", from_version, to_version, tuple(steps)
        )


def status(db: DatabaseLike, source: SourceLike) -> Status:
    """Compare the database with the migrations; read-only.

    A path is opened read-only: a missing file is not created, no table is created, and
    the file's bytes are unchanged.
    """
    migrations = load(source)
    name = describe(db)
    with for_reading(db) as conn:
        if conn is None:
            applied = []
        else:
            with translated(name):
                applied = _ledger.read(conn)
    current_plan = plan(migrations.migrations, applied)
    problems = []
    try:
        current_plan.check()
    except MigrationError as exc:
        problems.append(str(exc))
    return Status(
        database=name,
        source=migrations.origin,
        exists=conn is not None,
        current=current_plan.current,
        head=current_plan.head,
        pending=tuple(m.version for m in current_plan.pending),
        applied=current_plan.applied,
        unknown=current_plan.unknown_versions,
        modified=tuple(m.applied.version for m in current_plan.modified),
        out_of_order=tuple(m.version for m in current_plan.out_of_order),
        newer_compatible=current_plan.newer_compatible,
        problems=tuple(problems),
    )
