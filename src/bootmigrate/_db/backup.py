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

from .. import _binding as binding
from .._binding import sqlite_errors
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
        target = binding.connect(partial)
        try:
            # No journal: a copy that fails half-way is deleted, not rolled back, and a
            # journal would be a second file with a name others can predict.
            target.execute("PRAGMA journal_mode = OFF")
            copy(database.conn, target, name, database.timeout)
        except sqlite_errors.Error as exc:
            if encrypted(name):  # SQLCipher refuses to copy into a file without the key
                raise _unkeyed(name) from exc
            raise
        finally:
            target.close()
        if encrypted(name) and not encrypted(partial):
            raise _unkeyed(name)  # never a readable copy of an encrypted database
        os.chmod(partial, stat.S_IMODE(os.stat(path).st_mode) if path.exists() else 0o600)
        _fsync(partial)
        os.replace(partial, final)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    _fsync_directory(path.parent)
    return final


#: What to do when an encrypted database's copy cannot be opened with its key.
GIVE_THE_KEY = (
    "pass connect=, the app's function that opens the database with its key "
    "(bootmigrate --connect MODULE:FUNCTION)"
)


def _unkeyed(name: str) -> UsageError:
    return UsageError(
        f"{name} is encrypted, and bootmigrate cannot open its backup with the key, so it "
        f"takes none and migrated nothing: {GIVE_THE_KEY}, or migrate without a backup"
    )


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
    source = binding.connect(f"{backup.resolve().as_uri()}?mode=ro&immutable=1", uri=True)
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
    for entry in stale_partials(path):
        entry.unlink(missing_ok=True)


def stale_partials(path: Path) -> list[Path]:
    """The partial copies (``.<name>.<pid>.*.backup-partial``) beside the database *path*
    that no running process is writing: processes that died while writing them left them
    (a copy this process is writing counts as stale: it is not being written now)."""
    prefix = f".{path.name}."
    if not path.parent.is_dir():
        return []
    stale = []
    for entry in sorted(path.parent.iterdir()):
        name = entry.name
        if not (name.startswith(prefix) and name.endswith(_PARTIAL)):
            continue
        pid = name[len(prefix) :].split(".", 1)[0]
        if pid.isdigit() and int(pid) != os.getpid() and _alive(int(pid)):
            continue  # another process is writing its backup right now
        if entry.is_symlink() or entry.is_file():
            stale.append(entry)
    return stale


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


# -- putting a backup back in place of the database file (bootmigrate.restore) ----------

#: The first bytes of every SQLite database file.
_SQLITE_HEADER = b"SQLite format 3\x00"
#: The files SQLite keeps beside a database; a stale one would be read into the restored
#: file (a -wal's frames, a hot -journal's pages), so they go with the old file.
_SIDE_FILES = ("-wal", "-shm", "-journal")


def name_pattern(database: str | os.PathLike[str]) -> str:
    """How the backups of *database* are named, for messages."""
    return f"{Path(database).name}.<UTC time>-v<version>{SUFFIX}"


def is_backup_of(database: str | os.PathLike[str], candidate: Path) -> bool:
    """True when *candidate* is named as a backup of *database* (in any directory)."""
    return _is_backup_name(candidate.name, Path(database).name + ".")


def version_of(backup: Path) -> int:
    """The version a backup was taken at, from its name (``...-v4.bootmigrate-backup``)."""
    return int(backup.name[: -len(SUFFIX)].rpartition("-v")[2])


def looks_like_sqlite(path: Path) -> bool:
    """True when *path* starts with SQLite's file header."""
    try:
        with open(path, "rb") as file:
            return file.read(len(_SQLITE_HEADER)) == _SQLITE_HEADER
    except OSError:
        return False


def encrypted(name: str | os.PathLike[str]) -> bool:
    """True when the file *name* is an encrypted database (SQLCipher): it has a first
    page, and that page does not start with SQLite's header but with random salt. A WAL
    database whose pages are all still in its ``-wal`` cannot tell yet: False."""
    try:
        with open(name, "rb") as file:
            header = file.read(len(_SQLITE_HEADER))
    except OSError:
        return False
    return len(header) == len(_SQLITE_HEADER) and header != _SQLITE_HEADER


def put_in_place(database: str, backup: Path, timeout: float) -> None:
    """Replace the file *database* with a copy of *backup*, atomically.

    The copy is written to a new file of a random name beside the database (created
    exclusively, mode 0600, as :func:`take` writes one), checked by SQLite
    (``quick_check``), given the database's permissions, flushed and renamed over the
    database: a crash leaves the old file or the restored one, never half of either.
    Meanwhile the runner's OS lock (:mod:`.filelock`) and an exclusive SQLite lock on the
    database are held, so no bootmigrate run, no transaction and (WAL) no open connection
    of another process is under way; the old file's ``-wal``, ``-shm`` and ``-journal``
    are removed under that lock, as they belong to the old file. Raises
    :class:`DatabaseBusy` when another process keeps the database for longer than
    *timeout*, :class:`NotADatabase` naming *backup* when SQLite cannot read the copy.
    """
    from . import filelock

    path = Path(database)
    with filelock.held(database, timeout):
        _remove_stale_partials(path)
        import tempfile

        fd, partial_name = tempfile.mkstemp(
            prefix=f".{path.name}.{os.getpid()}.", suffix=_PARTIAL, dir=path.parent
        )
        os.close(fd)
        partial = Path(partial_name)
        try:
            shutil.copyfile(backup, partial)
            _check_copy(partial, str(backup), timeout)
            mode = os.stat(path).st_mode if path.exists() else os.stat(backup).st_mode
            os.chmod(partial, stat.S_IMODE(mode))
            _fsync(partial)
            with _exclusive(database, timeout):
                os.replace(partial, path)
                for side in _SIDE_FILES:
                    Path(f"{database}{side}").unlink(missing_ok=True)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        _fsync_directory(path.parent)


def _check_copy(partial: Path, backup: str, timeout: float) -> None:
    """SQLite reads the copy through and finds it sound; else :class:`NotADatabase`."""
    from .._errors import NotADatabase
    from .errors import Where, translate

    try:
        conn = binding.connect(partial, timeout=timeout)
        try:
            found = conn.execute("PRAGMA quick_check").fetchall()
        finally:
            conn.close()  # in WAL mode the copy's -wal and -shm go with the connection
    except sqlite_errors.Error as exc:
        error = translate(exc, Where(backup, timeout))
        if isinstance(error, NotADatabase):
            raise error from exc
        raise NotADatabase(backup, f"SQLite cannot read the backup ({exc})") from exc
    if found != [("ok",)]:
        shown = "; ".join(str(row[0]) for row in found[:3])
        raise NotADatabase(backup, f"the backup is damaged ({shown})")


class _exclusive:
    """SQLite's exclusive lock on the database file, held for the block.

    The connection leaves WAL mode first (``journal_mode = DELETE``, which SQLite allows
    only when no other connection has the database open, and which checkpoints and
    removes the old ``-wal``), then holds the lock with ``locking_mode = EXCLUSIVE`` and
    no journal of its own: in that state closing it touches no file by name, so it cannot
    remove a ``-wal`` or ``-journal`` that belongs to the restored file. In
    rollback-journal mode ``BEGIN EXCLUSIVE`` waits for every reader and writer. The old
    file is renamed away under the lock, so leaving WAL mode changes nothing that stays.
    A file SQLite cannot read (damaged, not a database: what a restore often replaces)
    or that does not exist has no SQLite user to wait for.
    """

    def __init__(self, database: str, timeout: float) -> None:
        self.database = database
        self.timeout = timeout
        self.conn: sqlite3.Connection | None = None

    def __enter__(self) -> None:
        from .._errors import DatabaseBusy, NotADatabase
        from .errors import Where, translate

        if not os.path.exists(self.database):
            return
        conn = binding.connect(self.database, timeout=self.timeout, isolation_level=None)
        try:
            for sql in (
                "PRAGMA journal_mode = DELETE",
                "PRAGMA locking_mode = EXCLUSIVE",
                "PRAGMA journal_mode = MEMORY",
                "BEGIN EXCLUSIVE",
                "SELECT count(*) FROM sqlite_master",
                "COMMIT",  # the lock stays: locking_mode = EXCLUSIVE
            ):
                found = conn.execute(sql).fetchall()
                if sql.endswith("MEMORY") and found != [("memory",)]:
                    # SQLite kept WAL mode: another connection has the database open.
                    conn.close()
                    raise self._busy()
        except sqlite_errors.Error as exc:
            conn.close()
            error = translate(exc, Where(self.database, self.timeout))
            if isinstance(error, NotADatabase):
                return  # SQLite cannot read it, so no SQLite connection can be using it
            raise (self._busy() if isinstance(error, DatabaseBusy) else error) from exc
        self.conn = conn

    def _busy(self) -> Exception:
        from .._errors import DatabaseBusy

        return DatabaseBusy(
            self.database,
            self.timeout,
            "another process has the database open or locked (stop the app before restoring)",
        )

    def __exit__(self, *exc_info: object) -> None:
        if self.conn is not None:
            self.conn.close()
