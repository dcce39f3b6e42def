"""Online backups before a migration, and putting one back.

A backup is taken with SQLite's backup API through the run's own connection, so it is
a consistent copy of the database as that connection sees it (pages still in the
``-wal`` file included), and a connection in ``locking_mode=EXCLUSIVE`` can take it.
The runner takes it just before its write lock and checks, under the lock, that no
other connection wrote in between (``PRAGMA data_version``); otherwise it takes it again.

The copy is written to a new file of a random name that only this process can read
(``mkstemp``: created exclusively, mode 0600, never through a symbolic link), with no
journal of its own, flushed to disk, given the database's own permissions, and renamed
into place, so a crash never leaves a half-written file under a backup's name and no
moment exists when a copy is more readable than the database. A partial copy left by a
killed process is removed by the next backup. Backups are named
``<database>.<UTC time>-v<version>.bootmigrate-backup``: sorting the names sorts them
by age, and the newest *keep* are kept; a sibling database whose name starts the same
(``app.db`` beside ``app.db.v2``) is never taken for one of them.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import stat
import time
from datetime import datetime, timezone
from pathlib import Path

from .._errors import DiskFull, UsageError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from .connection import Database

SUFFIX = ".bootmigrate-backup"
_PARTIAL = ".backup-partial"
# Room for the file system's own overhead on top of the copy.
_MARGIN_BYTES = 1 << 20
_STAMP = "%Y%m%dT%H%M%S%fZ"
_STAMP_LENGTH = len("20260101T000000000000Z")


def _is_backup_name(name: str, prefix: str) -> bool:
    """True when *name* is ``<prefix><stamp>-v<version>.bootmigrate-backup``."""
    if not (name.startswith(prefix) and name.endswith(SUFFIX)):
        return False
    middle = name[len(prefix) : -len(SUFFIX)]
    stamp, dash_v, version = (
        middle[:_STAMP_LENGTH],
        middle[_STAMP_LENGTH:][:2],
        middle[_STAMP_LENGTH + 2 :],
    )
    return (
        len(stamp) == _STAMP_LENGTH
        and stamp[8] == "T"
        and stamp[-1] == "Z"
        and (stamp[:8] + stamp[9:-1]).isdigit()
        and dash_v == "-v"
        and version.isascii()
        and version.isdigit()
    )


def backups(database: str | os.PathLike[str]) -> list[Path]:
    """The backups of *database*, oldest first."""
    path = Path(database)
    prefix = path.name + "."
    if not path.parent.is_dir():
        return []
    return sorted(
        p
        for p in path.parent.iterdir()
        if _is_backup_name(p.name, prefix) and p.is_file() and not p.is_symlink()
    )


def take(database: Database, version: int | None) -> Path:
    """Copy the database next to its file, through the run's connection (not in a
    transaction); return the backup's path.

    Raises :class:`DiskFull` before writing anything when the file system has less free
    space than the database (main file and ``-wal``) takes, and :class:`DatabaseBusy`
    when another connection keeps the database locked for longer than the timeout.
    """
    name = database.name
    if not database.is_file:
        raise UsageError("backup=True needs a database file; this connection has none")
    path = Path(name)
    needed = sum(os.path.getsize(p) for p in (name, f"{name}-wal") if os.path.exists(p))
    free = shutil.disk_usage(path.parent).free
    if free < needed + _MARGIN_BYTES:
        raise DiskFull(
            name,
            f"a backup needs about {needed + _MARGIN_BYTES} bytes and {path.parent} has "
            f"{free} free; nothing was migrated",
        )
    _remove_stale_partials(path)
    import tempfile

    fd, partial_name = tempfile.mkstemp(
        prefix=f".{path.name}.{os.getpid()}.", suffix=_PARTIAL, dir=path.parent
    )
    os.close(fd)
    partial = Path(partial_name)
    stamp = datetime.now(timezone.utc).strftime(_STAMP)
    final = path.with_name(f"{path.name}.{stamp}-v{version or 0}{SUFFIX}")
    try:
        target = sqlite3.connect(partial)
        try:
            # No journal: a copy that fails half-way is deleted, not rolled back, and a
            # journal would be a second file with a name others can predict.
            target.execute("PRAGMA journal_mode = OFF")
            copy(database.conn, target, name, database.timeout)
        finally:
            target.close()
        os.chmod(partial, stat.S_IMODE(os.stat(path).st_mode) if path.exists() else 0o600)
        _fsync(partial)
        os.replace(partial, final)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    _fsync_directory(path.parent)
    return final


def rotate(database: str, taken: Path, keep: int) -> None:
    """Delete all but the newest *keep* backups of *database*; never the one just *taken*."""
    if keep < 1:
        raise UsageError(f"backup_keep must be 1 or more, not {keep!r}")
    others = [p for p in backups(database) if p != taken]
    for old in others[: max(0, len(others) - (keep - 1))]:
        old.unlink(missing_ok=True)


def restore(backup: Path, database: Database) -> None:
    """Put *backup* back into the database behind the run's connection (not in a
    transaction), through SQLite and under its lock."""
    # immutable: the backup is this run's own finished copy, so SQLite need not lock it,
    # and a copy of a WAL database read any other way gets a -wal and a -shm beside it
    # that would outlive it.
    source = sqlite3.connect(f"{backup.resolve().as_uri()}?mode=ro&immutable=1", uri=True)
    try:
        copy(source, database.conn, database.name, database.timeout)
    finally:
        source.close()


def copy(source: sqlite3.Connection, target: sqlite3.Connection, name: str, timeout: float) -> None:
    """SQLite's online backup from *source* to *target*, waiting at most *timeout* for
    locks (Python's ``backup()`` alone would retry a busy database for ever)."""
    from .errors import Where, from_status

    deadline = time.monotonic() + timeout

    def progress(status: int, remaining: int, total: int) -> None:
        if status and time.monotonic() > deadline:
            problem = from_status(status, Where(name, timeout))
            if problem is not None:
                raise problem

    source.backup(target, progress=progress, sleep=0.05)


def _remove_stale_partials(path: Path) -> None:
    """Remove partial copies left by processes that died while writing them."""
    prefix = f".{path.name}."
    for entry in path.parent.iterdir():
        name = entry.name
        if not (name.startswith(prefix) and name.endswith(_PARTIAL)):
            continue
        pid = name[len(prefix) :].split(".", 1)[0]
        if pid.isdigit() and int(pid) != os.getpid() and _alive(int(pid)):
            continue  # another process is writing its backup right now
        if entry.is_symlink() or entry.is_file():
            entry.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # it exists, as another user's process
    return True


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_directory(directory: Path) -> None:
    if os.name == "nt":  # pragma: no cover - directories cannot be opened on Windows
        return
    _fsync(directory)
