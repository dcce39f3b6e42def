"""The one translation from :mod:`sqlite3` errors to the :class:`MigrationError` tree.

Every path that talks to SQLite on the runner's behalf (opening, reading the ledger,
running a migration, adopting, backing up) hands its :class:`sqlite3.Error` to
:func:`environmental` or :func:`translate`. A failure of the environment (a lock held
too long, a full disk, a read-only file, a damaged file) becomes the error that says
so; anything else is the caller's to report: a failing statement of a migration is a
:class:`StatementError` naming the file and line (the executor's job).
"""

from __future__ import annotations

import os
import sqlite3

from .._binding import sqlite_errors
from .._errors import (
    ApplyError,
    DatabaseBusy,
    DatabaseUnavailable,
    DiskFull,
    MigrationError,
    NotADatabase,
    ReadOnlyDatabase,
)
from .connection import hot_journal

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

# Primary result codes (sqlite3.h). Python 3.11+ puts them on the exception.
BUSY, LOCKED, READONLY, IOERR, CORRUPT, FULL, CANTOPEN, AUTH, NOTADB = (
    5,
    6,
    8,
    10,
    11,
    13,
    14,
    23,
    26,
)
# A statement stopped by sqlite3_interrupt() or by a progress handler that returned non-zero.
INTERRUPT = 9
# Extended code: a WAL read snapshot too old to write from (SQLITE_BUSY_SNAPSHOT).
_BUSY_SNAPSHOT = 517
# Python 3.9 and 3.10 give only the message; these are SQLite's texts for the codes.
_MESSAGES = {
    "database is locked": BUSY,
    "database table is locked": LOCKED,
    "attempt to write a readonly database": READONLY,
    "disk i/o error": IOERR,
    "database disk image is malformed": CORRUPT,
    "database or disk is full": FULL,
    "unable to open database file": CANTOPEN,
    "not authorized": AUTH,
    "file is not a database": NOTADB,
}


def code(exc: sqlite3.Error) -> int | None:
    """The primary SQLite result code of *exc*, from the exception or its message."""
    found = getattr(exc, "sqlite_errorcode", None)
    if isinstance(found, int):
        return found & 0xFF
    text = str(exc).lower()
    if text == "interrupted":  # SQLite's whole text for it; a trigger's RAISE says more
        return INTERRUPT
    for message, value in _MESSAGES.items():
        if message in text:
            return value
    return None


class Where:
    """What the translator needs to know about the failing operation."""

    __slots__ = ("at_begin", "conn", "name", "timeout", "writing")

    def __init__(
        self,
        name: str,
        timeout: float,
        conn: sqlite3.Connection | None = None,
        *,
        at_begin: bool = False,
        writing: bool = False,
    ) -> None:
        #: How messages name the database.
        self.name = name
        #: The busy timeout in force, in seconds.
        self.timeout = timeout
        #: The connection, to ask it why a write was refused (``query_only``).
        self.conn = conn
        #: True while taking the write lock (``BEGIN IMMEDIATE``): a busy there is a writer.
        self.at_begin = at_begin
        #: True during a run that writes: an I/O error there is most likely a write that
        #: failed (a full disk, a quota, a file-size limit).
        self.writing = writing


def _busy(exc: sqlite3.Error, where: Where) -> ApplyError:
    if getattr(exc, "sqlite_errorcode", None) == _BUSY_SNAPSHOT:
        # Not a wait that timed out: SQLite fails at once when a connection's own read
        # snapshot is stale (Python 3.11+ says so; older ones report "locked").
        return ApplyError(
            f"{where.name}: the connection is still reading an older snapshot of the "
            "database (an unfinished SELECT: a cursor not read to the end), and another "
            "connection wrote since, so it cannot take the write lock",
            "read or close the app's cursors before migrating",
        )
    # BEGIN IMMEDIATE waits only for writers; later (a commit, a spill of the page
    # cache) a rollback-journal database also waits for every open reader.
    holder = (
        None
        if where.at_begin
        else "another connection kept the database locked (a reader, in rollback-journal "
        "mode, or a writer)"
    )
    return DatabaseBusy(where.name, where.timeout, holder)


def _read_only(exc: sqlite3.Error, where: Where) -> ApplyError:
    if hot_journal(where.name) and not os.access(where.name, os.W_OK):
        # SQLITE_READONLY_ROLLBACK: a crashed write left a journal that only a writer
        # may roll back, and the file cannot be read before that.
        return ReadOnlyDatabase(
            where.name,
            "a write was interrupted and its journal must be rolled back before the "
            "file can be read, which needs write access",
            "open it once with write access (run the app or `bootmigrate up`)",
        )
    if where.conn is not None:
        try:
            query_only = where.conn.execute("PRAGMA query_only").fetchone()[0]
        except sqlite_errors.Error:
            query_only = 0
        if query_only:
            return ReadOnlyDatabase(
                where.name,
                "the connection has PRAGMA query_only = ON",
                "migrate through a connection that may write, or turn query_only off first",
            )
    return ReadOnlyDatabase(where.name, str(exc))


def _unopenable(exc: sqlite3.Error, where: Where) -> ApplyError:
    if os.path.isdir(where.name):
        return DatabaseUnavailable(where.name, "it is a directory, not a database file")
    if code(exc) == IOERR:
        extended = getattr(exc, "sqlite_errorcode", None)
        # No extended code (Python 3.9 and 3.10), or SQLite gave none (plain IOERR, as
        # a page spilled from a small cache can fail): the context decides.
        unknown = extended in (None, IOERR)
        if extended in _WRITE_ERRORS or (
            unknown and (where.writing or _no_room_to_grow(where.name))
        ):
            # ENOSPC is SQLITE_FULL; a quota (EDQUOT) or a file-size limit (EFBIG) is
            # an I/O error while writing, which is a full disk to the user.
            return DiskFull(
                where.name,
                f"a write failed: {exc}; the disk, a quota or a file-size limit is full",
            )
        return DatabaseUnavailable(where.name, f"{exc}; the disk may be failing")
    return DatabaseUnavailable(where.name, str(exc))


def _no_room_to_grow(name: str) -> bool:
    """Without SQLite's extended code (Python 3.9 and 3.10), whether an I/O error on a
    read may be a file that could not grow (a WAL database's -shm): the process has a
    file-size limit, or the folder's file system is full."""
    try:
        import resource

        if resource.getrlimit(resource.RLIMIT_FSIZE)[0] != resource.RLIM_INFINITY:
            return True
    except (ImportError, OSError, ValueError):  # no resource module (Windows)
        pass
    import shutil

    try:
        return shutil.disk_usage(os.path.dirname(os.path.abspath(name))).free < 1 << 20
    except OSError:
        return False


# SQLITE_IOERR_WRITE, _FSYNC, _DIR_FSYNC, _TRUNCATE (Python 3.11+ gives extended codes),
# and _SHMSIZE: a WAL database's -shm could not grow, which even a read needs; what stops
# a file from growing is a full disk, a quota or a file-size limit.
_WRITE_ERRORS = frozenset({778, 1034, 1290, 1546, 4874})


def _interrupted(exc: sqlite3.Error, where: Where) -> ApplyError:
    # Not the statement's fault, so not a StatementError; and not to be run again. A
    # progress callback that raised interrupts too: the runner reports that instead.
    return ApplyError(
        f"{where.name}: a statement was interrupted (Connection.interrupt() was called on "
        "the connection while the run was under way)",
        "run again when nothing interrupts the connection",
    )


_BY_CODE: dict[int, Callable[[sqlite3.Error, Where], ApplyError]] = {
    BUSY: _busy,
    LOCKED: _busy,
    FULL: lambda exc, where: DiskFull(where.name),
    READONLY: _read_only,
    NOTADB: lambda exc, where: NotADatabase(
        where.name,
        "the file is not a SQLite database, or it is encrypted and was opened without its "
        "key (give bootmigrate the app's connect function)",
    ),
    CORRUPT: lambda exc, where: NotADatabase(where.name, f"the database is damaged ({exc})"),
    CANTOPEN: _unopenable,
    IOERR: _unopenable,
    INTERRUPT: _interrupted,
}


def environmental(
    exc: sqlite3.Error, where: Where, *, statement: bool = False
) -> ApplyError | None:
    """The error to raise for a failure of the environment (lock, disk, file), else None.

    A statement that fails for its own reasons (a syntax error, a constraint) returns
    None: the caller reports it with the file and the line. With *statement*, the error
    came from a migration's statement, and a file it could not open is its own (an
    ``ATTACH`` of a missing file), not the database's.
    """
    if statement and code(exc) == CANTOPEN:
        return None
    # "database is locked" is SQLITE_BUSY's text, but also what a statement gets when a
    # table it needs is in use by the same connection (code LOCKED): both are waits.
    translate_code = _BY_CODE.get(code(exc) or -1)
    return translate_code(exc, where) if translate_code else None


def from_status(status: int, where: Where) -> ApplyError | None:
    """:func:`environmental` for a bare result code: what SQLite's backup step returns
    (Python's ``backup()`` retries a busy database itself and raises nothing)."""
    exc = sqlite3.OperationalError(f"SQLite result code {status}")
    exc.sqlite_errorcode = status  # type: ignore[attr-defined]
    return environmental(exc, where)


def opens_a_transaction(exc: sqlite3.Error) -> bool:
    """True for SQLite's refusal of a statement that needs to begin a transaction of its
    own (``VACUUM``) inside one."""
    return str(exc).startswith("cannot VACUUM from within a transaction")


def translate(exc: sqlite3.Error, where: Where) -> MigrationError:
    """The :class:`MigrationError` for any :mod:`sqlite3` error *exc*."""
    return environmental(exc, where) or ApplyError(f"{where.name}: {exc}")
