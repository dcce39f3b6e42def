"""The database boundary: opening connections, owning transactions, translating errors.

Everything that can raise :mod:`sqlite3` errors on the runner's behalf goes through
:func:`translated`, which turns them into the :class:`MigrationError` tree. A connection
the caller passes in is given back with its settings as they were (isolation level,
busy timeout, foreign keys), also when the run fails.
"""

from __future__ import annotations

import os
import sqlite3
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Union

from .._errors import (
    ApplyError,
    DatabaseBusy,
    DatabaseUnavailable,
    DiskFull,
    ForeignKeyViolation,
    MigrationError,
    NotADatabase,
    ReadOnlyDatabase,
    UsageError,
)

#: What a database may be given as: a path, or an open connection (left open).
DatabaseLike = Union[str, "os.PathLike[str]", sqlite3.Connection]

#: How long to wait for another connection's write lock, in seconds.
DEFAULT_TIMEOUT = 30.0

# Primary result codes (sqlite3.h); Python 3.11+ puts them on the exception.
_BUSY, _LOCKED, _READONLY, _IOERR, _CORRUPT, _FULL, _CANTOPEN, _NOTADB = 5, 6, 8, 10, 11, 13, 14, 26
# Extended code (Python 3.11+): a WAL read snapshot that is too old to write from.
_BUSY_SNAPSHOT = 517
# Python 3.9 and 3.10 have only the message; these are SQLite's texts for the codes.
_MESSAGES = {
    "database is locked": _BUSY,
    "database table is locked": _LOCKED,
    "attempt to write a readonly database": _READONLY,
    "disk i/o error": _IOERR,
    "database disk image is malformed": _CORRUPT,
    "database or disk is full": _FULL,
    "unable to open database file": _CANTOPEN,
    "file is not a database": _NOTADB,
}


def _code(exc: sqlite3.Error) -> int | None:
    code = getattr(exc, "sqlite_errorcode", None)
    if isinstance(code, int):
        return code & 0xFF
    text = str(exc).lower()
    for message, value in _MESSAGES.items():
        if message in text:
            return value
    return None


def environmental(exc: sqlite3.Error, name: str, timeout: float) -> ApplyError | None:
    """The error to raise for a failure of the environment (lock, disk, file), else None.

    Statement failures that are the migration's fault return None; the caller reports
    them with the file and line.
    """
    if getattr(exc, "sqlite_errorcode", None) == _BUSY_SNAPSHOT:
        # Not a wait that timed out: SQLite fails at once when a connection's own read
        # snapshot is stale (Python 3.11+ says so; older ones report "locked").
        return ApplyError(
            f"{name}: the connection is still reading an older snapshot of the database "
            "(an unfinished SELECT: a cursor not read to the end), and another connection "
            "wrote since, so it cannot take the write lock; read or close the app's cursors "
            "before migrating"
        )
    code = _code(exc)
    if code in (_BUSY, _LOCKED):
        return DatabaseBusy(name, timeout)
    if code == _FULL:
        return DiskFull(name)
    if code == _READONLY:
        return ReadOnlyDatabase(name, str(exc))
    if code == _NOTADB:
        return NotADatabase(name, "the file is not a SQLite database")
    if code == _CORRUPT:
        return NotADatabase(name, f"the database is damaged ({exc})")
    if code == _CANTOPEN:
        return DatabaseUnavailable(name, str(exc))
    if code == _IOERR:
        return DatabaseUnavailable(name, f"{exc}; the disk may be full or failing")
    return None


@contextmanager
def translated(name: str, timeout: float = DEFAULT_TIMEOUT) -> Iterator[None]:
    """Turn :mod:`sqlite3` errors raised inside the block into :class:`MigrationError`."""
    try:
        yield
    except MigrationError:
        raise
    except sqlite3.Error as exc:
        raise (environmental(exc, name, timeout) or ApplyError(f"{name}: {exc}")) from exc


@dataclass
class Database:
    """A connection the runner works on, with what it takes to give it back unchanged."""

    conn: sqlite3.Connection
    name: str
    timeout: float
    foreign_keys: bool = False

    def __post_init__(self) -> None:
        self._cursor = self.conn.cursor()

    def execute(self, sql: str) -> sqlite3.Cursor:
        """Run one statement on the runner's cursor (reused: it is measurably cheaper)."""
        return self._cursor.execute(sql)

    @contextmanager
    def write_transaction(self) -> Iterator[None]:
        """``BEGIN IMMEDIATE`` ... ``COMMIT``, rolled back if the block raises.

        ``PRAGMA foreign_key_check`` runs before the commit, and violations the block
        added roll the transaction back: a migration may rebuild a table (which needs
        enforcement off) but may not leave orphans behind. The check runs whether or not
        the connection enforced foreign keys, since a path is opened with them off while
        the app's own connections may enforce them; orphans that were already there
        before the transaction are not the migration's doing and are let through.
        """
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            before = self.foreign_key_violations()
            yield
            self.check_foreign_keys("the run", before)
            self.conn.execute("COMMIT")
        except BaseException:
            rollback_if_open(self.conn)
            raise

    def foreign_key_violations(self) -> set[tuple[str, int | None, str, int]]:
        """``PRAGMA foreign_key_check``: (table, rowid, parent, foreign-key index) rows."""
        rows = self.conn.execute("PRAGMA foreign_key_check").fetchall()
        return {(str(t), r, str(p), int(i)) for t, r, p, i in rows}

    def check_foreign_keys(
        self, after: str, tolerated: set[tuple[str, int | None, str, int]] | None = None
    ) -> None:
        """Raise :class:`ForeignKeyViolation` if a row's foreign key points nowhere.

        Violations in *tolerated* (found before the run) do not count.
        """
        new = self.foreign_key_violations() - (tolerated or set())
        if new:
            raise ForeignKeyViolation(after, sorted(new, key=lambda v: (v[0], v[1] or 0, v[2])))


def rollback_if_open(conn: sqlite3.Connection) -> None:
    """Roll back the connection's transaction, if it has one."""
    if conn.in_transaction:
        conn.execute("ROLLBACK")


def describe(db: DatabaseLike) -> str:
    """How messages name the database: its path, or the path of a connection's main file."""
    if isinstance(db, sqlite3.Connection):
        try:
            with plain_rows(db):
                row = db.execute("PRAGMA database_list").fetchone()
        except sqlite3.Error:
            return "<connection>"
        return str(row[2]) if row and row[2] else ":memory:"
    return os.fspath(db)


@contextmanager
def plain_rows(conn: sqlite3.Connection) -> Iterator[None]:
    """Rows as tuples of ``str`` inside the block, whatever factories the app has set.

    An app's ``row_factory`` (dicts, namedtuples) or ``text_factory`` (bytes) would hand
    the runner rows it cannot read; they are put back afterwards.
    """
    row_factory, text_factory = conn.row_factory, conn.text_factory
    conn.row_factory, conn.text_factory = None, str
    try:
        yield
    finally:
        conn.row_factory, conn.text_factory = row_factory, text_factory


@contextmanager
def for_writing(db: DatabaseLike, timeout: float = DEFAULT_TIMEOUT) -> Iterator[Database]:
    """Open (or take) the database for a migration run and give it back as it was."""
    if isinstance(db, sqlite3.Connection):
        with plain_rows(db), _borrowed(db, timeout) as database:
            yield database
        return
    name = os.fspath(db)
    with translated(name, timeout):
        _check_directory(name)
        if sys.version_info >= (3, 12):
            # No implicit transactions either way; autocommit=True also keeps
            # executescript() from committing the runner's transaction (_execute.execute_script).
            conn = sqlite3.connect(name, timeout=timeout, autocommit=True)
        else:
            conn = sqlite3.connect(name, timeout=timeout, isolation_level=None)
    try:
        with translated(name, timeout):
            foreign_keys = _foreign_keys_off(conn)
        try:
            yield Database(conn, name, timeout, foreign_keys)
        finally:
            if foreign_keys and not conn.in_transaction:
                conn.execute("PRAGMA foreign_keys = ON")
    finally:
        conn.close()


def _check_directory(name: str) -> None:
    directory = Path(name).resolve().parent
    if not directory.is_dir():
        raise DatabaseUnavailable(
            name, f"the directory {str(directory)!r} does not exist; create it first"
        )
    if not os.path.exists(name) and not os.access(directory, os.W_OK):
        raise ReadOnlyDatabase(
            name, f"the file does not exist and its directory {str(directory)!r} is read-only"
        )


def check_writable(database: Database) -> None:
    """Raise :class:`ReadOnlyDatabase` before any work if the run could not write.

    Called only when something is pending: an up-to-date database may be read-only.
    SQLite writes a journal next to the file, so the directory must be writable too.
    A connection opened read-only (``mode=ro``) is caught by its first ``BEGIN
    IMMEDIATE``, which comes before any change as well.
    """
    name = database.name
    if name in ("", ":memory:", "<connection>") or not os.path.isfile(name):
        return
    if not os.access(name, os.W_OK):
        raise ReadOnlyDatabase(name, "the file is read-only")
    directory = os.path.dirname(os.path.abspath(name))
    if not os.access(directory, os.W_OK | os.X_OK):
        raise ReadOnlyDatabase(
            name,
            f"its directory {directory!r} is read-only, and SQLite writes its journal there",
        )


def _foreign_keys_off(conn: sqlite3.Connection) -> bool:
    """Turn enforcement off (it cannot change inside a transaction); say if it was on."""
    on = bool(conn.execute("PRAGMA foreign_keys").fetchone()[0])
    if on:
        conn.execute("PRAGMA foreign_keys = OFF")
    return on


@contextmanager
def _borrowed(conn: sqlite3.Connection, timeout: float) -> Iterator[Database]:
    if conn.in_transaction:
        raise UsageError(
            "the connection passed to bootmigrate is inside a transaction; commit or roll "
            "back first (a connection opened with autocommit=False is always in one: use "
            "the default or autocommit=True)"
        )
    name = describe(conn)
    isolation_level = conn.isolation_level
    with translated(name, timeout):
        busy_ms = int(conn.execute("PRAGMA busy_timeout").fetchone()[0])
        conn.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
        foreign_keys = _foreign_keys_off(conn)
    # None: Python issues no implicit BEGIN/COMMIT; the runner owns the transaction.
    conn.isolation_level = None
    if sys.version_info >= (3, 12):
        autocommit = conn.autocommit
        conn.autocommit = True  # not in a transaction, so this commits nothing
    try:
        yield Database(conn, name, timeout, foreign_keys)
    finally:
        rollback_if_open(conn)  # only after an interrupt between BEGIN and ROLLBACK
        if sys.version_info >= (3, 12):
            conn.autocommit = autocommit
        conn.isolation_level = isolation_level
        conn.execute(f"PRAGMA busy_timeout = {busy_ms}")
        if foreign_keys:
            conn.execute("PRAGMA foreign_keys = ON")


@contextmanager
def for_reading(db: DatabaseLike) -> Iterator[sqlite3.Connection | None]:
    """A read-only view of the database; None when the file does not exist.

    A path is opened with ``mode=ro``, so nothing (not even an empty file) is created.
    """
    if isinstance(db, sqlite3.Connection):
        with plain_rows(db):
            yield db
        return
    path = Path(db)
    if not path.exists():
        yield None
        return
    name = os.fspath(db)
    with translated(name):
        conn = sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True)
    try:
        yield conn
    finally:
        conn.close()
