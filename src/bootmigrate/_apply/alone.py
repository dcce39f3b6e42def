"""``no-transaction`` migrations: run one alone, between committed batches.

A file marked ``-- bootmigrate: no-transaction`` (VACUUM, ``PRAGMA journal_mode``, or a
table rebuild that manages its own ``BEGIN``/``COMMIT``) runs outside the runner's
transaction. What it changed cannot be rolled back by the runner, so a failure says
which state the file is in: nothing happened, restored from the backup, or partly
applied and retried by the next run (which is safe only for a re-runnable file).
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from .. import _log
from .._db import backup as _backup
from .._db import ledger as _ledger
from .._db.connection import Database, environmental, rollback_if_open
from .._errors import ForeignKeyViolation, MigrationError, StatementError
from .._report import Step
from .._source import text as _sqltext
from .._source.model import Migration


def run_alone(
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
