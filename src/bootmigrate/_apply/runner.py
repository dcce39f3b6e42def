"""The runner: upgrade, downgrade and status, built from the planner, the ledger and the
executor.

An upgrade reads like sqlite-utils' migrations loop: under the write lock, plan again
and apply each pending migration with its ledger row; the rest are named steps around
it. Concurrency: the optimistic look (:func:`look`) reads without a lock, so the
common boot (nothing pending) never waits for a writer, and a read-only folder can boot
an up-to-date database. When something is pending the run takes the write lock with
``BEGIN IMMEDIATE`` and only then reads the ledger again and plans again, so two
processes booting at once never apply a migration twice: the second one waits for the
first, finds nothing pending and reports the database as up to date. SQLite's lock is
released around a ``no-transaction`` step, so runs that hold one also take an OS file
lock (:mod:`bootmigrate._db.filelock`).

The one place that knows what state a failure left the database in is :meth:`_Run.failed`:
every error that leaves a run passes through it and is given that state.
"""

from __future__ import annotations

import sqlite3
import time
from contextlib import suppress

from .. import _binding as binding
from .. import _log
from .._binding import sqlite_errors
from .._db import backup as backups
from .._db import filelock, ledger
from .._db.connection import (
    DEFAULT_TIMEOUT,
    check_timeout,
    describe,
    for_reading,
    for_writing,
    hot_journal,
)
from .._db.errors import translate
from .._db.foreign_keys import Orphans
from .._errors import (
    UNCHANGED,
    ApplyError,
    ForeignKeyViolation,
    LedgerError,
    MigrationError,
    UsageError,
)
from .._plan import Plan, plan, plan_downgrade
from .._report import Report, Status, Step
from .._source.locate import load
from .._source.model import Squash
from .executor import Executor, StepFailed
from .progress import SILENT, Silent, check_callback, tracker

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from .._db.connection import Database
    from .._report import State
    from .._source.model import Migration, MigrationSet, Script
    from .._types import Connect, DatabaseLike, SourceLike
    from .adopt import Adoption, Baseline
    from .progress import ProgressEvent


def upgrade(
    db: DatabaseLike,
    source: SourceLike,
    *,
    target: int | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    baseline: Baseline | None = None,
    backup: bool = False,
    backup_keep: int = 1,
    progress: Callable[[ProgressEvent], object] | None = None,
) -> Report:
    """:func:`bootmigrate.migrate` when the boot's one query could not settle it."""
    _check_backup_keep(backup, backup_keep)
    check_callback(progress)
    timeout = check_timeout(timeout)
    migrations = load(source)
    first = look(db, migrations, target, timeout)
    first.check(database=describe(db), working_copy=migrations.working_copy)
    if not first.pending and first.baseline is None and (baseline is None or first.applied):
        return _settled(describe(db), migrations, first.current, first.unknown_versions)
    if first.pending or first.baseline is not None:
        # Before the file is opened for writing: a SQLite too old for what is pending.
        from . import floor

        pending = [m.up for m in first.pending]
        floor.check(db, pending if first.baseline is None else [first.baseline.script, *pending])
    with for_writing(db, timeout) as database:
        database.check_writable()
        # The write lock is released around a no-transaction step: serialise those runs.
        alone = any(not m.transactional for m in first.pending)
        with (
            filelock.held(database.name if alone else None, timeout),
            Executor(database) as executor,
        ):
            run = _Run(database, executor, migrations, backup_keep if backup else None)
            run.events = tracker(progress, database.conn, database.name, "up")
            return run.upgrade(target, baseline)


def _check_backup_keep(backup: bool, backup_keep: object) -> None:
    if backup and (isinstance(backup_keep, bool) or not isinstance(backup_keep, int)):
        raise UsageError(f"backup_keep must be a whole number, not {backup_keep!r}")
    if backup and backup_keep < 1:  # type: ignore[operator]
        raise UsageError(f"backup_keep must be 1 or more, not {backup_keep!r}")


def _read_ledger(
    conn: sqlite3.Connection, name: str, timeout: float
) -> list[ledger.AppliedMigration]:
    """The ledger of a database opened for reading, its SQLite errors translated."""
    from .._db.connection import translated
    from .._db.errors import Where

    with translated(Where(name, timeout, conn)):
        return ledger.read(conn, name)


def look(db: DatabaseLike, migrations: MigrationSet, target: int | None, timeout: float) -> Plan:
    """The plan as the database stands, read without a lock and without writing."""
    with for_reading(db, timeout) as conn:
        applied = [] if conn is None else _read_ledger(conn, describe(db), timeout)
        new = conn is None or (not applied and _is_new(conn, describe(db), timeout))
    return plan(
        migrations.migrations, applied, target, squashes=migrations.squashes, new_database=new
    )


def _is_new(conn: sqlite3.Connection, name: str, timeout: float) -> bool:
    """:func:`ledger.is_new`, its SQLite errors translated."""
    from .._db.connection import translated
    from .._db.errors import Where

    with translated(Where(name, timeout, conn)):
        return ledger.is_new(conn)


def _settled(
    name: str, migrations: MigrationSet, current: int | None, unknown: tuple[int, ...]
) -> Report:
    state: State = "newer-compatible" if unknown else "up-to-date"
    _log.debug("%s: %s at version %s", name, state, current)
    return Report(
        name, migrations.origin, state, current, current, (), unknown, head=migrations.head
    )


class _Run:
    """One upgrade or downgrade of one database: what it did so far, and its failure."""

    def __init__(
        self,
        database: Database,
        executor: Executor,
        migrations: MigrationSet,
        backup_keep: int | None,
    ) -> None:
        self.database = database
        self.executor = executor
        self.migrations = migrations
        self.backup_keep = backup_keep
        self.saved: Path | None = None
        #: The version the run started from (under the write lock).
        self.from_version: int | None = None
        #: True once this run committed a migration (a batch, a no-transaction step).
        self.committed = False
        #: The file of the no-transaction step that failed, if one did.
        self.failed_step: str | None = None
        #: True when that step changed the database before it failed.
        self.partial = False
        #: True while the runner's transaction is open: a failure rolls it back.
        self.in_batch = False
        #: The database's foreign key violations, known table by table.
        self.orphans = Orphans(database.conn)
        #: The file of a no-transaction step that ran but whose row is not committed yet.
        self.unrecorded: str | None = None
        #: Where the run's progress events go (nowhere without a callback).
        self.events: Silent = SILENT
        #: The version a downgrade goes to (for the progress events).
        self.down_to: int | None = None

    # -- the loop ---------------------------------------------------------------------

    def upgrade(self, target: int | None, baseline: Baseline | None) -> Report:
        """Apply what is pending up to *target*, batch by batch."""

        def pending() -> list[Migration | Squash]:
            # Read the ledger again under the write lock: another process may have
            # migrated since the look.
            applied = self._ledger()
            current = plan(
                self.migrations.migrations,
                applied,
                target,
                squashes=self.migrations.squashes,
                new_database=not applied and ledger.is_new(self.database.conn),
            )
            current.check(database=self.database.name, working_copy=self.migrations.working_copy)
            if self.from_version is None and not self.committed:
                self.from_version = current.current
            first: list[Migration | Squash] = [] if current.baseline is None else [current.baseline]
            return [*first, *current.pending]

        steps, adoption = self._batches("up", pending, baseline)
        name, origin = self.database.name, self.migrations.origin
        if not steps:
            return Report(
                name,
                origin,
                "up-to-date",
                self.from_version,
                self.from_version,
                adoption=adoption,
                head=self.migrations.head,
            )
        to_version = ledger.max_version(self.database.conn)
        return Report(
            name,
            origin,
            "migrated",
            self.from_version,
            to_version,
            tuple(steps),
            adoption=adoption,
            backup=self.saved,
        )

    def downgrade(self, target: int) -> Report:
        """Undo migrations down to *target*, batch by batch (a ``no-transaction`` down file
        runs alone between them, as an up file does)."""

        def to_undo() -> list[Migration | Squash]:
            applied = self._ledger()
            plan(self.migrations.migrations, applied, squashes=self.migrations.squashes).check(
                allow_compatible=False,
                database=self.database.name,
                working_copy=self.migrations.working_copy,
            )
            if self.from_version is None and not self.committed:
                self.from_version = applied[-1].version if applied else None
            return list(
                plan_downgrade(
                    self.migrations.migrations, applied, target, squashes=self.migrations.squashes
                )
            )

        self.down_to = target if target != 0 else None
        steps, _ = self._batches("down", to_undo, None)
        name, origin = self.database.name, self.migrations.origin
        if not steps:
            return Report(name, origin, "up-to-date", self.from_version, self.from_version)
        to_version = target if target != 0 else None
        steps_done = tuple(steps)
        return Report(
            name, origin, "downgraded", self.from_version, to_version, steps_done, backup=self.saved
        )

    def _batches(
        self,
        direction: str,
        next_steps: Callable[[], list[Migration | Squash]],
        baseline: Baseline | None,
    ) -> tuple[list[Step], Adoption | None]:
        """The loop of a run: under the write lock, plan again and run each step of the
        plan with its ledger row, in one transaction, until a ``no-transaction`` file,
        which runs alone; then again, until nothing is left.

        The transaction that records a no-transaction step stays open into the next
        round, and a round that stops at a no-transaction step writes its note before it
        commits: one commit per step, which is most of what a run of table rebuilds
        costs beyond the rebuilds themselves.
        """
        conn = self.database.conn
        steps: list[Step] = []
        adoption: Adoption | None = None
        try:
            while True:
                if not self.in_batch:
                    self._begin()
                # What the database's foreign keys looked like before this run changed
                # anything (the whole database, once; nothing without foreign keys).
                self.orphans.known()
                if baseline is not None and not steps and not self.committed:
                    from .adopt import adopt

                    adoption = adopt(self.executor, self.migrations, baseline)
                todo = next_steps()
                if not todo:
                    self._commit()
                    self._keep_backup(needed=bool(steps) or self.committed)
                    break
                aim = todo[-1].version if direction == "up" else self.down_to
                self.events.start(len(todo), self.from_version, aim)
                if self.unrecorded is not None and _script(todo[0], direction).transactional:
                    # The last step's row shares a commit only with the next step's
                    # note: a batch that failed would roll it back with its own rows.
                    self._commit()
                    continue
                self._keep_backup(needed=True)
                ledger.ensure(conn)
                self.executor.start_batch()
                alone: Migration | None = None
                ran = 0
                for migration in todo:
                    if not _script(migration, direction).transactional:
                        assert not isinstance(migration, Squash)  # refused by build_set
                        alone = migration
                        break
                    self.events.step_started(migration)
                    steps.append(self._apply(migration, direction))
                    self.events.step_ended()
                    ran += 1
                if ran:
                    self._check_foreign_keys("the run")
                if alone is not None:
                    # Sent before the note is committed: a callback that fails here
                    # leaves the database as the batch found it.
                    self.events.step_started(alone)
                    self._note(alone)
                self._commit()
                self.committed = self.committed or ran > 0
                if alone is None:
                    break
                steps.append(self._apply_alone(alone, direction))
                self.committed = True
                try:
                    self.events.step_ended()
                except BaseException:
                    # The step ran to its end: record it before the run stops.
                    self._commit()
                    raise
            self.events.stop()
        except MigrationError as exc:
            error, cause = self._blame(exc, exc.__cause__)
            raise self.failed(error) from cause
        except sqlite_errors.Error as exc:
            error, cause = self._blame(translate(exc, self.database.where()), exc)
            raise self.failed(error) from cause
        except BaseException:
            self.events.stop()
            self.database.rollback()
            raise
        return steps, adoption

    def _blame(
        self, error: MigrationError, cause: BaseException | None
    ) -> tuple[MigrationError, BaseException | None]:
        """The error to report and its cause: the progress callback's failure when the
        callback failed (SQLite then reports the statement it interrupted), else *error*.

        A callback's KeyboardInterrupt (or SystemExit) is raised as itself after the
        rollback, as it would have been without a callback.
        """
        failure = self.events.failure
        if failure is None:
            return error, cause
        if not isinstance(failure, Exception):
            self.events.stop()
            self.database.rollback()
            raise failure
        return self.events.error(), failure

    # -- named steps ------------------------------------------------------------------

    def _ledger(self) -> list[ledger.AppliedMigration]:
        return ledger.read(self.database.conn, self.database.name)

    def _begin(self) -> None:
        """Take the write lock; first, the backup (once), taken just before it."""
        database = self.database
        while self.backup_keep is not None and self.saved is None:
            before = database.pragma("data_version")
            with database.translated():
                version = (
                    ledger.max_version(database.conn)
                    if ledger.exists(database.conn, database.name)
                    else None
                )
            saved = backups.take(database, version)
            database.begin()
            if database.pragma("data_version") == before:
                # No other connection wrote between the copy and the lock.
                self.saved = saved
                self.in_batch = True
                return
            database.rollback()
            saved.unlink(missing_ok=True)
        database.begin()
        self.in_batch = True

    def _keep_backup(self, *, needed: bool) -> None:
        """Keep the backup and rotate the older ones away, or drop it if nothing ran.

        Decided under the write lock: a process that lost the race to another one finds
        nothing pending, and neither keeps a copy nor rotates the winner's away.
        """
        if self.saved is None or self.backup_keep is None:
            return
        if needed:
            backups.rotate(self.database.name, self.saved, self.backup_keep)
            self.backup_keep = None  # rotated once
        else:
            self.saved.unlink(missing_ok=True)
            self.saved = None

    def _commit(self) -> None:
        self.database.commit()
        self.in_batch = False
        self.unrecorded = None

    def _apply(self, migration: Migration | Squash, direction: str) -> Step:
        """Run one file inside the open transaction and write (or delete) its ledger row."""
        script = _script(migration, direction)
        started = time.perf_counter()
        if script.language == "python":
            self.executor.run_python(script)
        else:
            self.executor.run(script)
        elapsed = (time.perf_counter() - started) * 1000
        self._check_own_tables(script)
        with self.database.translated():
            if isinstance(migration, Squash):
                ledger.record_squash(self.database.conn, migration, elapsed)
            elif direction == "up":
                ledger.record(self.database.conn, migration, elapsed)
            else:
                ledger.forget(self.database.conn, migration.version)
        verb = "applied" if direction == "up" else "reverted"
        _log.logger().info("%s %s in %.1f ms", verb, script.filename, elapsed)
        return Step(
            migration.version, migration.name, "up" if direction == "up" else "down", elapsed
        )

    def _apply_alone(self, migration: Migration, direction: str) -> Step:
        """Run a ``no-transaction`` file between committed batches, then record it.

        Before it runs, a note of it is committed (:func:`ledger.begin_step`) with the
        foreign key violations the database had: if the file fails after changing the
        database, or the process dies, the next run knows the step was under way and
        checks the step against the database as it was before it, not against what the
        failed attempt left. The row is written (or, for a down file, deleted) only after
        the file succeeded.
        """
        database, conn = self.database, self.database.conn
        script = _script(migration, direction)
        self.executor.start_batch()
        started = time.perf_counter()
        try:
            if script.language == "python":
                self.executor.run_python_alone(script)
            else:
                self.executor.run_alone(script)
        except StepFailed as failed:
            self.failed_step, self.partial = script.filename, failed.changed
            if not failed.changed:
                self._forget_note(migration)
            raise failed.error from failed.error.__cause__
        # The file may have changed the runner's connection (PRAGMA foreign_keys = ON).
        conn.execute("PRAGMA foreign_keys = OFF")
        elapsed = (time.perf_counter() - started) * 1000
        try:
            self._check_own_tables(script)
        except LedgerError:
            self.failed_step, self.partial = script.filename, True
            raise
        # The file committed by itself, so no check ran before its COMMIT: check now, the
        # tables it wrote, against the database as it was before the step's first attempt.
        with database.translated():
            added = self.orphans.added_by(self.executor.written())
        if added:
            self.failed_step, self.partial = script.filename, True
            raise ForeignKeyViolation(repr(script.filename), added, step=True)
        # Recorded in a transaction the loop commits with the next step's note (or alone
        # when nothing follows); until then a failure reports this step as unrecorded.
        self.unrecorded = script.filename
        self._begin()
        with database.translated():
            ledger.ensure(conn)
            # Another bootmigrate (without the step lock) may have recorded it meanwhile.
            applied = {a.version for a in self._ledger()}
            if direction == "up" and migration.version not in applied:
                ledger.record(conn, migration, elapsed, finishes_step=True)
            elif direction == "down" and migration.version in applied:
                ledger.forget(conn, migration.version, finishes_step=True)
            else:
                ledger.clear_unfinished(conn)
        verb = "applied" if direction == "up" else "reverted"
        _log.logger().info("%s %s (no transaction) in %.1f ms", verb, script.filename, elapsed)
        return Step(
            migration.version, migration.name, "up" if direction == "up" else "down", elapsed
        )

    def _note(self, migration: Migration) -> None:
        """Note, in the open transaction, that a ``no-transaction`` step is about to run,
        with the foreign key violations the database has (or keep the note an earlier,
        failed attempt of the same step left: what it knew is what counts)."""
        database = self.database
        with database.translated():
            found = ledger.read_unfinished(database.conn, database.name)
            if found is not None and found.version == migration.version:
                self.orphans.assume(found.orphans)  # before the step's first attempt
            else:
                ledger.begin_step(database.conn, migration, self.orphans.known())

    def _forget_note(self, migration: Migration) -> None:
        """The step changed nothing: take back the note that it was under way."""
        self._begin()
        with self.database.translated():
            unfinished = ledger.read_unfinished(self.database.conn, self.database.name)
            if unfinished is not None and unfinished.version == migration.version:
                ledger.clear_unfinished(self.database.conn)
        self._commit()

    def _check_own_tables(self, script: Script) -> None:
        """Raise :class:`LedgerError` when *script* rewrote the runner's tables through
        ``PRAGMA writable_schema``: the guard refuses every statement on them, but an edit
        of ``sqlite_master`` could rename them or plant a trigger on them unseen."""
        if not self.executor.wrote_the_schema():
            return
        database = self.database
        with database.translated():
            what = ledger.damage(database.conn)
        if what == "":
            return
        raise LedgerError(
            f"{script.filename!r} changed bootmigrate's own tables by editing sqlite_master "
            f"(PRAGMA writable_schema): {what or 'they are gone'}",
            "a migration may edit only its own tables' entries; take that edit out",
        )

    def _check_foreign_keys(self, after: str) -> None:
        """Raise :class:`ForeignKeyViolation` for violations the transaction added.

        The check runs whether or not the connection enforced foreign keys: a path is
        opened with them off while the app's own connections may enforce them; orphans
        that were already there before the run are not the migration's doing. Only the
        tables the batch wrote, and the tables that reference them, are checked.
        """
        with self.database.translated():
            added = self.orphans.added_by(self.executor.written())
        if added:
            raise ForeignKeyViolation(after, added)

    # -- the one place that knows the state a failure left ------------------------------

    def failed(self, error: MigrationError) -> MigrationError:
        """Roll back, restore the backup if the run changed the database, and give
        *error* the state the database is in now."""
        self.events.stop()  # nothing the failure handling runs sends an event
        database = self.database
        was_in_batch = self.in_batch
        ran_to_its_end = self.unrecorded is not None and self.failed_step is None
        if ran_to_its_end:
            # The step's file ran and took effect; its row was rolled back with the rest.
            self.failed_step, self.partial = self.unrecorded, True
        with suppress(Exception):  # the first error is the one to report
            database.rollback()
        self.in_batch = False
        _replay_hot_journal(database)
        step = self.failed_step
        if step is None and not self.committed:
            if was_in_batch and isinstance(error, ApplyError):
                return error.with_state(UNCHANGED)
            return error
        now = _version(database)
        # A progress callback that failed is the app's to fix (the error's tail says so).
        fix = "Fix the migration and run again" if self.events.failure is None else "Run again"
        if self.saved is not None and (self.committed or self.partial):
            try:
                backups.restore(self.saved, database)
                database.reset_journal_mode()
            except Exception as exc:
                now = _version(database)
                where = (
                    f" with {step!r} {_how_far(ran_to_its_end)} and not recorded"
                    if step is not None and self.partial
                    else ""
                )
                return error.with_state(
                    f"putting back the backup {str(self.saved)!r} failed ({exc}), so the "
                    f"database is at version {_v(now)}{where}: restore that backup by hand "
                    "before starting the app"
                )
            told = (
                "it is a no-transaction migration and what it ran had taken effect, so "
                if self.partial
                else "migrations of this run had been committed, so "
            )
            return error.with_state(
                f"{told}the database was restored from the backup {str(self.saved)!r} "
                f"and is as it was before the run (version {_v(self.from_version)}). {fix}"
            )
        if step is not None and self.partial:
            done = (
                "it ran to its end and took effect, but writing its ledger row failed"
                if ran_to_its_end
                else "what it ran took effect and could not be undone"
            )
            return error.with_state(
                f"it is a no-transaction migration, so {done}: the database is at version "
                f"{_v(now)} with {step!r} {_how_far(ran_to_its_end)} and not recorded. "
                "The next run retries the whole file, which "
                "is only safe if the file can run twice; otherwise restore the database from "
                "a backup first (backup=True takes one)"
            )
        if step is not None:
            return error.with_state(
                "it is a no-transaction migration and none of its statements took effect; the "
                f"migrations before it were committed, so the database is at version {_v(now)}. "
                f"{fix}: it will be retried"
            )
        return error.with_state(
            "this batch was rolled back; the migrations before it were committed, so the "
            f"database is at version {_v(now)}. {fix}"
        )


def _how_far(ran_to_its_end: bool) -> str:
    """How much of a no-transaction step that failed took effect."""
    return "applied" if ran_to_its_end else "partly applied"


def _script(migration: Migration | Squash, direction: str) -> Script:
    if isinstance(migration, Squash):
        return migration.script
    script = migration.up if direction == "up" else migration.down
    assert script is not None  # plan_downgrade refuses a migration without a down file
    return script


def _version(database: Database) -> int | None:
    """The version the ledger says, for a state message: also when something damaged the
    runner's tables, as long as the ledger can still be read."""
    conn = database.conn
    try:
        if ledger.damage(conn) is None:
            return None
        return ledger.max_version(conn)
    except Exception:
        return None


def _replay_hot_journal(database: Database) -> None:
    """After a failed write, make SQLite roll back a journal the failure left behind.

    A write that fails with the disk full (or a file-size limit) can leave the main file
    half-written with a *hot* journal beside it, which the next open rolls back; another
    connection's first read does that now, so the error does not reach the caller while
    the file is in that state. A connection in ``locking_mode=EXCLUSIVE`` keeps its lock
    until it closes, so no other connection could read: its own next read does it.
    """
    if not database.is_file:
        return

    if not hot_journal(database.name):
        return
    try:
        if database.pragma("locking_mode") == "exclusive":
            database.conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
            return
        reader = binding.connect(database.name, timeout=database.timeout)
        try:
            reader.execute("SELECT count(*) FROM sqlite_master").fetchone()
        finally:
            reader.close()
    except sqlite_errors.Error:
        pass  # the state message then cannot vouch for the file; SQLite rolls it back later


def _sorted(
    violations: set[tuple[str, int | None, str, int]] | frozenset[tuple[str, int | None, str, int]],
) -> list[tuple[str, int | None, str, int]]:
    return sorted(violations, key=lambda v: (v[0], v[1] or 0, v[2]))


def _v(version: int | None) -> str:
    return "none" if version is None else str(version)


def downgrade(
    db: DatabaseLike,
    source: SourceLike,
    target: int,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    backup: bool = False,
    backup_keep: int = 1,
    progress: Callable[[ProgressEvent], object] | None = None,
    connect: Connect | None = None,
) -> Report:
    """Undo migrations down to *target* (0: all) with their down files.

    The down files run in one transaction with their ledger rows, newest first; a down
    file marked ``-- bootmigrate: no-transaction`` runs alone between committed batches,
    as such an up file does, with the same state reporting (and *backup*, as for
    :func:`migrate`). Refused with :class:`IrreversibleMigration` when a step has no down
    file, and with :class:`DatabaseTooNew` when the database holds versions the files do
    not know. A path that does not exist is refused, not created. *progress* is called
    with a :class:`ProgressEvent` as the run goes, as for :func:`migrate`.
    *connect* opens *db* and every copy of it the app's own way (an encrypted
    database's key, a newer SQLite): see :data:`Connect`.
    """
    with binding.using(db, connect):
        if isinstance(target, bool) or not isinstance(target, int):
            raise UsageError(f"the target of a downgrade is a version number, not {target!r}")
        _check_backup_keep(backup, backup_keep)
        check_callback(progress)
        timeout = check_timeout(timeout)
        migrations = load(source)
        with for_reading(db, timeout) as conn:
            applied = [] if conn is None else _read_ledger(conn, describe(db), timeout)
        plan(migrations.migrations, applied, squashes=migrations.squashes).check(
            allow_compatible=False, database=describe(db), working_copy=migrations.working_copy
        )
        to_undo = plan_downgrade(
            migrations.migrations, applied, target, squashes=migrations.squashes
        )
        if to_undo:
            from . import floor  # down files too: a SQLite too old for them, before any change

            floor.check(db, [m.down for m in to_undo if m.down is not None])
        with for_writing(db, timeout, create=False) as database:
            if to_undo:
                database.check_writable()
            # The write lock is released around a no-transaction step: serialise those runs.
            alone = any(m.down is not None and not m.down.transactional for m in to_undo)
            with (
                filelock.held(database.name if alone else None, timeout),
                Executor(database) as executor,
            ):
                run = _Run(database, executor, migrations, backup_keep if backup else None)
                run.events = tracker(progress, database.conn, database.name, "down")
                return run.downgrade(target)


def status(
    db: DatabaseLike,
    source: SourceLike,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    connect: Connect | None = None,
) -> Status:
    """Compare the database with the migrations; read-only.

    A path is opened read-only: a missing file is not created, no table is created, and
    the file's content is unchanged (a journal a crashed write left is rolled back first,
    as any program opening the file would). *timeout* is how long to wait for a writer.
    *connect* opens *db* and every copy of it the app's own way (an encrypted
    database's key, a newer SQLite): see :data:`Connect`.
    """
    with binding.using(db, connect):
        timeout = check_timeout(timeout)
        migrations = load(source)
        name = describe(db)
        unfinished = None
        with for_reading(db, timeout) as conn:
            exists = conn is not None
            applied = [] if conn is None else _read_ledger(conn, name, timeout)
            new = conn is None or (not applied and _is_new(conn, name, timeout))
            if conn is not None and applied:
                unfinished = ledger.read_unfinished(conn, name)
        current_plan = plan(
            migrations.migrations, applied, squashes=migrations.squashes, new_database=new
        )
        problems = []
        try:
            current_plan.check(database=name, working_copy=migrations.working_copy)
        except MigrationError as exc:
            problems.append(str(exc))
        if unfinished is not None:
            problems.append(
                f"the no-transaction step {unfinished.version} ({unfinished.name}) began on an "
                "earlier run and was not recorded: it failed after it changed the database, or "
                "the process stopped while it ran; the next run retries it"
            )
        return Status(
            database=name,
            source=migrations.origin,
            exists=exists,
            current=current_plan.current,
            head=current_plan.head,
            pending=(() if current_plan.baseline is None else (current_plan.baseline.version,))
            + tuple(m.version for m in current_plan.pending),
            applied=current_plan.applied,
            unknown=current_plan.unknown_versions,
            modified=tuple(m.applied.version for m in current_plan.modified),
            out_of_order=tuple(m.version for m in current_plan.out_of_order),
            newer_compatible=current_plan.newer_compatible,
            problems=tuple(problems),
        )
