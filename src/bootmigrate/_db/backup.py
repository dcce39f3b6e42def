"""Online backups before a migration, and putting one back.

A backup is taken with SQLite's backup API, so it is a consistent copy of the database
as every reader sees it, including pages that are still only in the ``-wal`` file. It
is written to a temporary name, flushed to disk and then renamed, so a crash never
leaves a half-written file under a backup's name. Backups are named
``<database>.<UTC time>-v<version>.bootmigrate-backup``: sorting the names sorts them by
age, and the newest *keep* are kept.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import stat
from datetime import datetime, timezone
from pathlib import Path

from .._errors import DiskFull, UsageError

SUFFIX = ".bootmigrate-backup"
# Room for the file system's own overhead on top of the copy.
_MARGIN_BYTES = 1 << 20


def backups(database: str | os.PathLike[str]) -> list[Path]:
    """The backups of *database*, oldest first."""
    path = Path(database)
    prefix = path.name + "."
    if not path.parent.is_dir():
        return []
    return sorted(
        p
        for p in path.parent.iterdir()
        if p.name.startswith(prefix) and p.name.endswith(SUFFIX) and p.is_file()
    )


def take(database: str, version: int | None, keep: int = 1, timeout: float = 30.0) -> Path:
    """Copy the database file *database* next to it; keep the newest *keep* backups.

    The copy is read through a connection of its own: SQLite's backup API cannot read
    from a connection that holds a write transaction, and the runner calls this while
    holding one, so that no other process can migrate between the copy and the run.
    Raises :class:`DiskFull` before writing anything when the file system has less free
    space than the database (main file and ``-wal``) takes.
    """
    if keep < 1:
        raise UsageError(f"backup_keep must be 1 or more, not {keep!r}")
    if not database or database == ":memory:":
        raise UsageError("backup=True needs a database file; this connection has none")
    path = Path(database)
    needed = sum(os.path.getsize(p) for p in (path, Path(f"{database}-wal")) if os.path.exists(p))
    free = shutil.disk_usage(path.parent).free
    if free < needed + _MARGIN_BYTES:
        raise DiskFull(
            database,
            f"a backup needs about {needed + _MARGIN_BYTES} bytes and {path.parent} has "
            f"{free} free; nothing was migrated",
        )
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
    final = path.with_name(f"{path.name}.{stamp}-v{version or 0}{SUFFIX}")
    partial = path.with_name(f".{path.name}.{os.getpid()}.backup-partial")
    try:
        source = sqlite3.connect(database, timeout=timeout)
        target = sqlite3.connect(partial)
        try:
            source.backup(target)
        finally:
            target.close()
            source.close()
        mode = stat.S_IMODE(os.stat(path).st_mode) if path.exists() else 0o644
        os.chmod(partial, mode)
        _fsync(partial)
        os.replace(partial, final)
    except BaseException:
        for leftover in (partial, Path(f"{partial}-journal")):
            if leftover.exists():
                leftover.unlink()
        raise
    _fsync_directory(path.parent)
    for old in backups(database)[:-keep]:
        old.unlink()
    return final


def restore(backup: Path, conn: sqlite3.Connection) -> None:
    """Put *backup* back into the database behind *conn* (through SQLite, under its lock)."""
    source = sqlite3.connect(f"{backup.resolve().as_uri()}?mode=ro", uri=True)
    try:
        source.backup(conn)
    finally:
        source.close()


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
