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

import sqlite3
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from . import _backup, _boot, _ledger, _log, _sqltext, _steplock
from ._baseline import Adoption, Baseline, adopt
from ._database import (
    DEFAULT_TIMEOUT,
    Database,
    DatabaseLike,
    check_writable,
    describe,
    environmental,
    for_reading,
    for_writing,
    rollback_if_open,
    translated,
)
from ._errors import (
    ApplyError,
    ForeignKeyViolation,
    MigrationError,
    StatementError,
    UsageError,
)
from ._migration import Migration, MigrationSet, Script
from ._plan import plan, plan_downgrade
from ._report import Report, State, Status, Step
from ._sources import SourceLike, load, resolve


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
        steps.append(_run_alone(database, alone, saved, from_version))
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


def _run_alone(
    database: Database, migration: Migration, saved: Path | None, from_version: int | None
) -> Step:
    """Run a ``no-transaction`` migration outside any transaction, then record it.

    The batch before it has been committed. Its statements run in autocommit mode (or
    in the transaction the file manages itself); its ledger row is written only after it
    succeeded, so a failed step is retried by the next run. A failure says whether any
    of the file's statements took effect; if some did and the run took a backup, the
    backup is put back so the database is as it was before the run.
    """
    conn = database.conn
    script = migration.up
    started = time.perf_counter()
    durable = False  # a statement before the failure changed the database for good
    dirty = False  # changes inside a transaction the file opened itself
    failure: MigrationError | None = None
    orphans_before = database.foreign_key_violations()
    for statement in script.statements:
        changes, schema = conn.total_changes, _schema_version(conn)
        try:
            # Read to the end: an unfinished statement (PRAGMA journal_mode returns a
            # row) would keep the next COMMIT from committing.
            database.execute(statement.sql).fetchall()
        except sqlite3.Error as exc:
            failure = environmental(exc, database.name, database.timeout) or StatementError(
                script.filename, statement.number, statement.line, str(exc), statement.sql
            )
            failure.__cause__ = exc
            break
        changed = conn.total_changes != changes or _schema_version(conn) != schema
        if conn.in_transaction:
            dirty = dirty or changed
        else:
            rolled_back = _sqltext.first_keyword(statement.sql) == "ROLLBACK"
            durable = durable or changed or (dirty and not rolled_back)
            dirty = False
    if failure is None and conn.in_transaction:
        last = script.statements[-1]
        failure = StatementError(
            script.filename,
            last.number,
            last.line,
            "the file left a transaction open, and it was rolled back; a no-transaction "
            "migration that opens a transaction must commit it",
            last.sql,
        )
    # The file may have changed the runner's connection (PRAGMA foreign_keys = ON).
    rollback_if_open(conn)
    conn.execute("PRAGMA foreign_keys = OFF")
    if failure is None:
        # The file committed by itself, so no check ran before its COMMIT: check now.
        orphans = database.foreign_key_violations() - orphans_before
        if orphans:
            failure = ForeignKeyViolation(
                repr(script.filename), sorted(orphans, key=lambda v: (v[0], v[1] or 0, v[2]))
            )
    if failure is not None:
        raise _alone_failed(database, script.filename, failure, durable, saved, from_version)
    elapsed = (time.perf_counter() - started) * 1000
    with database.write_transaction():
        _ledger.ensure(conn)
        # Another bootmigrate (without the step lock) may have recorded it meanwhile.
        if migration.version not in {a.version for a in _ledger.read(conn)}:
            _ledger.record(conn, migration, elapsed)
    _log.logger().info("applied %s (no transaction) in %.1f ms", script.filename, elapsed)
    return Step(migration.version, migration.name, "up", elapsed)


def _schema_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA schema_version").fetchone()[0])


def _alone_failed(
    database: Database,
    filename: str,
    failure: MigrationError,
    durable: bool,
    saved: Path | None,
    from_version: int | None,
) -> MigrationError:
    """The error for a failed no-transaction step, saying what state the file is in."""
    now = _ledger.max_version(database.conn) if _ledger.exists(database.conn) else None
    if not durable:
        outcome = (
            "it is a no-transaction migration and none of its statements took effect; the "
            f"migrations before it were committed, so the database is at version {now}. "
            "Fix the migration and run again: it will be retried"
        )
    elif saved is not None:
        try:
            _backup.restore(saved, database.conn)
        except sqlite3.Error as exc:
            outcome = (
                "it is a no-transaction migration and what it ran had taken effect; "
                f"putting back the backup {str(saved)!r} failed ({exc}), so the "
                f"database is at version {now} with {filename!r} partly applied: restore "
                "that backup by hand before starting the app"
            )
        else:
            outcome = (
                "it is a no-transaction migration and what it ran had taken effect, so "
                f"the database was restored from the backup {str(saved)!r} "
                f"and is as it was before the run (version {from_version}). Fix the "
                "migration and run again"
            )
    else:
        outcome = (
            "it is a no-transaction migration, so what it ran took effect and could not "
            f"be undone: the database is at version {now} with {filename!r} "
            "partly applied and not recorded. The next run retries the whole file, which "
            "is only safe if the file can run twice; otherwise restore the database from a "
            "backup first (migrate(..., backup=True) takes one)"
        )
    if isinstance(failure, ForeignKeyViolation):
        shown = "; ".join(f"{t} rowid {r} -> {p}" for t, r, p, _ in failure.violations[:10])
        failure.args = (
            f"{filename!r} left {len(failure.violations)} foreign key violation(s): {shown}; "
            f"{outcome}",
        )
        return failure
    if isinstance(failure, StatementError):
        error: MigrationError = StatementError(
            failure.filename,
            failure.statement,
            failure.line,
            failure.sqlite_message,
            failure.sql,
            outcome=outcome,
        )
    else:
        error = failure
        error.args = (f"{failure} ({filename!r}: {outcome})",)
    error.__cause__ = failure.__cause__
    return error


def execute_script(database: Database, script: Script) -> None:
    """Run a script's statements one at a time, so a failure names its statement and line.

    ``executescript()`` commits any open transaction first, except on Python 3.12+ with
    ``autocommit=True``: there a big script runs whole (see :func:`_run_whole`).

    This is :func:`bootmigrate._sqltext.split` fused with execution, the hot loop of a
    big data migration: it makes no ``Statement`` objects and counts no lines (an empty
    statement, ``;`` alone, is a no-op for SQLite). Only when a statement fails is the
    text up to it split again, to name the statement and its line as ``split`` does.
    """
    if (
        sys.version_info >= (3, 12)
        and len(script.text) >= _WHOLE_SCRIPT_CHARS
        and _run_whole(database, script)
    ):
        return
    execute = database.execute
    complete = sqlite3.complete_statement
    leading = _sqltext.LEADING.match
    text = script.text
    find = text.find
    start = pos = 0
    try:
        while True:
            semi = find(";", pos)
            if semi < 0:
                break
            pos = semi + 1
            chunk = text[start:pos]
            if complete(chunk):  # else the ';' is inside a string, comment or trigger
                sql = chunk.lstrip()
                if sql.startswith(("--", "/*")):
                    sql = text[leading(text, start, pos).end() : pos]  # type: ignore[union-attr]
                execute(sql)
                start = pos
        pos = len(text)
        first = leading(text, start).end()  # type: ignore[union-attr]
        if first < pos:
            execute(text[first:])  # a last statement without ';'
    except sqlite3.Error as exc:
        problem = environmental(exc, database.name, database.timeout)
        if problem is not None:
            raise problem from exc
        done = _sqltext.split(text[:pos])  # the failed statement is the last one
        failed = done[-1] if done else _sqltext.Statement(1, 1, text[:pos].strip())
        raise StatementError(
            script.filename, failed.number, failed.line, str(exc), failed.sql
        ) from exc


# Below this size the per-statement loop costs next to nothing; above it, about 20% of a
# data migration's time, which one executescript() call saves.
_WHOLE_SCRIPT_CHARS = 1 << 20
# A failure can end the whole transaction only through ROLLBACK conflict handling
# (INSERT OR ROLLBACK, ON CONFLICT ROLLBACK, RAISE(ROLLBACK) in a trigger): then a failed
# statement could not be located by running the script again, so such scripts and
# schemas keep the per-statement loop.
_SCHEMA_ROLLBACK = (
    "SELECT 1 FROM sqlite_master WHERE sql LIKE '%rollback%' "
    "UNION ALL SELECT 1 FROM sqlite_temp_master WHERE sql LIKE '%rollback%' LIMIT 1"
)


def _run_whole(database: Database, script: Script) -> bool:
    """Run the whole script in one ``executescript()`` call; False if it must go per statement.

    Only inside the runner's transaction on a connection with ``autocommit=True`` (Python
    3.12+), where ``executescript()`` does not commit. The script runs in a savepoint:
    when a statement fails, the savepoint is rolled back and the caller runs the script
    again one statement at a time, which names the statement and its line (a script
    that fails once fails again at the same statement, as nothing else changed).
    """
    conn = database.conn
    if not conn.in_transaction or getattr(conn, "autocommit", None) is not True:
        return False
    if "rollback" in script.text.lower() or conn.execute(_SCHEMA_ROLLBACK).fetchone():
        return False
    conn.execute("SAVEPOINT bootmigrate_script")
    try:
        conn.executescript(script.text)
    except sqlite3.Error as exc:
        problem = environmental(exc, database.name, database.timeout)
        if problem is not None:
            raise problem from exc
        if not conn.in_transaction:  # interrupted: SQLite ended the transaction
            raise ApplyError(
                f"{script.filename!r}: {exc}; the transaction was rolled back, so the "
                "database is unchanged"
            ) from exc
        conn.execute("ROLLBACK TO bootmigrate_script")
        conn.execute("RELEASE bootmigrate_script")
        return False
    conn.execute("RELEASE bootmigrate_script")
    return True


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
