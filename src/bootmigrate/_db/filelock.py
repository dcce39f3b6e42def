"""An inter-process lock for runs that hold a ``no-transaction`` migration.

Transactional migrations need no lock beyond SQLite's: ``BEGIN IMMEDIATE`` serialises
the writers. A no-transaction step runs outside any transaction, so SQLite's write lock
is released around it, and a second process booting at that moment would re-read the
ledger, find the step still pending and run it a second time, concurrently. Runs with
such a step therefore hold an OS file lock on ``<database>-bootmigrate-lock`` for the
whole upgrade: the second process waits (up to the timeout), then re-reads the ledger
and finds the step done.

The lock file is a separate file because SQLite itself uses POSIX locks on the database
file, and closing any other descriptor of that file would drop SQLite's locks. It is
named after the database's real path (symbolic links resolved), so two processes that
reach one file by different names take one lock; hard links are different names SQLite
itself cannot tell apart (its journal is named after the path), so they are not
supported, as by SQLite. The lock file is never opened through a symbolic link, and is
created no more readable than the database. The OS releases the lock when the holder
dies, so a killed run never leaves a stale lock; the (empty) file stays next to the
database.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

from .._errors import DatabaseBusy, DatabaseUnavailable

#: Appended to the database's path to name the lock file.
SUFFIX = "-bootmigrate-lock"
_POLL_SECONDS = 0.02

if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
    import msvcrt

    def _try_lock(fd: int) -> bool:
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True

    def _unlock(fd: int) -> None:
        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _try_lock(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)


def lock_path(database: str) -> str:
    """The lock file of the database file *database*: beside its real path."""
    return os.path.realpath(database) + SUFFIX


@contextmanager
def held(database: str | None, timeout: float) -> Iterator[None]:
    """Hold the lock of the database file *database* (None or ``:memory:``: no lock)."""
    if database is None or database in (":memory:", "<connection>") or not database:
        yield
        return
    path = lock_path(database)
    try:
        mode = os.stat(database).st_mode & 0o666
    except OSError:
        mode = 0o600
    flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags, mode)
    except OSError as exc:
        if os.path.islink(path):
            raise DatabaseUnavailable(
                database,
                f"the lock file {path!r} is a symbolic link, which bootmigrate does not "
                "follow; remove it",
            ) from exc
        raise DatabaseUnavailable(
            database, f"cannot create the lock file {path!r} for a no-transaction step ({exc})"
        ) from exc
    try:
        deadline = time.monotonic() + timeout
        while not _try_lock(fd):
            if time.monotonic() >= deadline:
                raise DatabaseBusy(database, timeout)
            time.sleep(_POLL_SECONDS)
        try:
            yield
        finally:
            _unlock(fd)
    finally:
        os.close(fd)
