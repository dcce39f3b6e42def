"""``restore()``: put a backup that ``backup=True`` made back in place of the database.

Which backups exist and how they are named is :mod:`bootmigrate._db.backup`'s
(:func:`~bootmigrate._db.backup.backups`); so is replacing the file
(:func:`~bootmigrate._db.backup.put_in_place`). This module chooses the backup and
refuses one that is not a backup of this database.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from .. import _binding as binding
from .._binding import is_connection
from .._db import backup as backups
from .._db.connection import DEFAULT_TIMEOUT, check_timeout
from .._db.connection import _check_directory as check_directory
from .._errors import RestoreError, UsageError
from .._types import Connect


@dataclass(frozen=True)
class Restoration:
    """What :func:`restore` put back: the database, the backup and its version."""

    #: The database file, as the caller named it.
    database: str
    #: The backup that now is the database (it stays where it was).
    backup: Path
    #: The version the database was at when the backup was taken (from its name).
    version: int

    def summary(self) -> str:
        """``app.db: restored from BACKUP (version 4)``."""
        return f"{self.database}: restored from {self.backup} (version {self.version})"


def restore(
    db: str | os.PathLike[str],
    backup: str | os.PathLike[str] | None = None,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    connect: Connect | None = None,
) -> Restoration:
    """Put the newest backup of *db* (or the backup file *backup*) back in its place.

    The backups are the files ``migrate(..., backup=True)`` writes beside the database
    (``app.db.<UTC time>-v<version>.bootmigrate-backup``; :attr:`Report.backup` names the
    one a run made). The backup is copied to a new file beside the database, checked by
    SQLite, given the database's permissions and renamed over it, so the database is
    either the old file or the whole backup; the old file's ``-wal``, ``-shm`` and
    ``-journal`` are removed with it. The backup itself is kept.

    Refused while another process holds the database (a transaction, or in WAL mode an
    open connection) for longer than *timeout*: :class:`DatabaseBusy`. Stop the app
    first: a connection left open in rollback-journal mode would go on reading the old
    file. Raises :class:`RestoreError` when there is no backup, or *backup* is not named
    as a backup of *db*, and :class:`NotADatabase` when SQLite cannot read the backup;
    the database is then unchanged.
    *connect* opens *db* and every copy of it the app's own way (an encrypted
    database's key, a newer SQLite): see :data:`Connect`.
    """
    with binding.using(db, connect):
        if is_connection(db):
            raise UsageError(
                "restore() replaces the database file: pass its path, not a connection"
            )
        timeout = check_timeout(timeout)
        name = os.fspath(db)
        # A directory, or a missing or read-only folder: what a run would refuse, said alike.
        check_directory(name, create=True)
        chosen = _newest(name) if backup is None else _named(name, Path(backup))
        # An encrypted backup has no header to read: SQLite checks it, with the key.
        readable = connect is not None and backups.encrypted(chosen)
        if not backups.looks_like_sqlite(chosen) and not readable:
            if backups.encrypted(chosen):
                raise RestoreError(
                    name,
                    f"the backup {str(chosen)!r} is encrypted, or not a SQLite database",
                    "restore an encrypted backup with the app's function that opens the "
                    "database with its key (connect=, bootmigrate --connect MODULE:FUNCTION)",
                )
            raise RestoreError(
                name,
                f"the backup {str(chosen)!r} is not a SQLite database",
                "pick another backup (bootmigrate restore BACKUP)",
            )
        try:
            backups.put_in_place(name, chosen, timeout)
        except OSError as exc:  # the backup unreadable, the folder not writable, ...
            raise RestoreError(
                name,
                f"cannot put the backup {str(chosen)!r} in place ({exc})",
                "check the permissions of the backup and of the database's folder",
            ) from exc
        return Restoration(name, chosen, backups.version_of(chosen))


def _newest(name: str) -> Path:
    found = backups.backups(name)
    if not found:
        directory = os.path.dirname(os.path.abspath(name))
        raise RestoreError(
            name,
            f"no backup found: looked in {directory!r} for files named "
            f"{backups.name_pattern(name)!r}",
            "backups are made by migrate(..., backup=True) or `bootmigrate up --backup`; "
            "name another file with `bootmigrate restore BACKUP` if it was moved",
        )
    return found[-1]


def _named(name: str, chosen: Path) -> Path:
    if not chosen.is_file():
        raise RestoreError(
            name,
            f"the backup {str(chosen)!r} does not exist or is not a file",
            "name an existing backup, or leave it out to restore the newest one",
        )
    if not backups.is_backup_of(name, chosen):
        raise RestoreError(
            name,
            f"{str(chosen)!r} is not named as a backup of this database "
            f"({backups.name_pattern(name)!r}): it may be the backup of another database",
            "name a backup of this database; to put another file in its place, copy it "
            "by hand with the app stopped",
        )
    return chosen


__all__ = ["Restoration", "restore"]
