"""A dry run that runs: the pending migrations applied to a scratch copy of the database.

Reading the plan cannot find a syntax error, a ``NOT NULL`` column added to a table that
holds rows or a foreign key the data breaks: only SQLite running the statements on the
data does. :func:`rehearse` copies the database into a private temporary directory and
lets the real runner (:func:`bootmigrate._apply.runner.upgrade`) migrate the copy, so a
dry run meets exactly the errors, and takes about the time, of the real run; the database
itself is only read.

How the copy is made, and why: SQLite's online backup API (the mechanism backups use,
:func:`bootmigrate._db.backup.copy`) from a read-only connection into a new *file*.

- The backup API copies a consistent snapshot while other processes read and write,
  including pages still in the ``-wal`` file, waiting at most *timeout* for a lock; a
  byte copy of the main file and its ``-wal`` could catch a checkpoint half-way.
- The copy is a file, not ``:memory:``: the backup carries the database header over, so
  the copy has the original's page size, ``auto_vacuum``, ``user_version``,
  ``application_id``, text encoding and WAL mode; an in-memory database cannot be in WAL
  mode, so a ``PRAGMA journal_mode`` or a ``no-transaction`` step would behave
  differently there, and the runner's OS lock for such steps needs a file.
- The directory is made by :func:`tempfile.mkdtemp` (mode 0700): the copy holds the
  user's data, so only its owner may read it, and it is deleted afterwards.

Not rehearsed: free disk space on the real volume and its permissions (a copy elsewhere
cannot tell), and what other processes do meanwhile.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile

from .. import _binding as binding
from .._binding import is_connection, sqlite_errors
from .._db.backup import GIVE_THE_KEY, copy, encrypted
from .._db.connection import (
    DEFAULT_TIMEOUT,
    check_timeout,
    describe,
    for_reading,
    translated,
)
from .._db.connection import (
    _check_directory as check_directory,
)
from .._db.errors import Where
from .._errors import MigrationError, UsageError
from .._report import Report
from .._source.locate import load
from .runner import upgrade

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

    from .._types import Connect, DatabaseLike, SourceLike
    from .adopt import Baseline


def rehearse(
    db: DatabaseLike,
    source: SourceLike,
    *,
    target: int | None = None,
    baseline: Baseline | None = None,
    prepare: Callable[[sqlite3.Connection], object] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    connect: Connect | None = None,
) -> Report:
    """Run :func:`bootmigrate.migrate` on a scratch copy of *db*; *db* is not changed.

    The copy is made with SQLite's online backup API into a private temporary directory
    (a database that does not exist yet is rehearsed as a new, empty one), migrated to
    *target* by the real runner (with *baseline*, as ``migrate`` would adopt it), then
    deleted. *prepare* is called with the copy's connection first: register the SQL
    functions and collations the migrations use. The :class:`Report` has ``dry_run`` set
    and the steps with the time each took on the copy; a failure raises the
    :class:`MigrationError` the real run would raise (a :class:`StatementError` naming
    the file, statement and line), its state saying that *db* was not changed.
    *connect* opens *db* and every copy of it the app's own way (an encrypted
    database's key, a newer SQLite): see :data:`Connect`.
    """
    with binding.using(db, connect):
        timeout = check_timeout(timeout)
        migrations = load(source)
        name = describe(db)
        if not is_connection(db):
            # What a real run refuses before opening the file: a directory, a missing parent
            # directory, a new file in a read-only one.
            check_directory(name, create=True)
        scratch_dir = tempfile.mkdtemp(prefix="bootmigrate-dry-run-")
        try:
            scratch = os.path.join(scratch_dir, "copy.db")
            _copy(db, name, scratch, timeout)
            work: str | sqlite3.Connection = scratch
            if prepare is not None:
                work = binding.connect(scratch, timeout=timeout)
                prepare(work)
            try:
                report = upgrade(
                    work, migrations, target=target, timeout=timeout, baseline=baseline
                )
            except MigrationError as error:
                raise _about_original(error, scratch, name) from error.__cause__
            finally:
                if is_connection(work):
                    work.close()
        finally:
            shutil.rmtree(scratch_dir, ignore_errors=True)
        return Report(
            name,
            report.source,
            report.state,
            report.from_version,
            report.to_version,
            report.steps,
            report.unknown,
            report.adoption,
            dry_run=True,
            head=report.head,
        )


def _copy(db: DatabaseLike, name: str, scratch: str, timeout: float) -> None:
    """Copy the database into the new file *scratch* (left absent for a missing one)."""
    with for_reading(db, timeout) as conn:
        if conn is None:
            return  # no database yet: the real run would create it, the copy starts empty
        with translated(Where(name, timeout)):
            target = binding.connect(scratch)
            try:
                copy(conn, target, name, timeout)
            except sqlite_errors.Error as exc:
                if encrypted(name):  # SQLCipher refuses to copy into a file without the key
                    raise UsageError(
                        f"{name} is encrypted, and bootmigrate cannot open a scratch copy of "
                        f"it with the key, so the dry run did not run: {GIVE_THE_KEY}"
                    ) from exc
                raise
            finally:
                target.close()


def _about_original(error: MigrationError, scratch: str, name: str) -> MigrationError:
    """*error*, raised on the copy, told about the original: named as the caller named
    it, and with the state of the original (unchanged), not of the copy."""
    if scratch in error.problem:
        error.problem = error.problem.replace(scratch, name)
    if getattr(error, "database", None) == scratch:
        error.database = name  # type: ignore[attr-defined]
    return error.with_state(f"dry run on a copy, {name} was not changed")


__all__ = ["rehearse"]
