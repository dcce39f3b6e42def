"""The no-op boot in one query: compare the ledger with the lock file, read no migration.

Most boots find nothing to do. When the source ships a ``bootmigrate.lock`` (see
:mod:`bootmigrate._lockfile`), :func:`settled` decides that case from the file *names*
and the lock alone: the migration files present are exactly the locked ones, and the
ledger's ``(version, name, checksum)`` rows are exactly the lock's ``up`` entries. Then
nothing is pending and every applied migration is the one the release locked.

Anything else (no lock, a lock that does not parse, a file the lock does not list, a
ledger row it does not list, no ledger yet, any SQLite error) returns None, and the
runner does the full check, which reads and hashes every file. So a migration edited
after the lock was written is still caught whenever something is pending, and always by
``status``, ``verify`` and ``lock --check``; what the fast path trusts is that the
shipped lock matches the shipped files, which ``bootmigrate lock --check`` (and the
test kit) verify before a release.
"""

from __future__ import annotations

import os
import sqlite3
import sys
from typing import TYPE_CHECKING

from ._database import for_writing
from ._lockfile import LOCK_FORMAT
from ._sources import LOCK_FILENAME, Source

if TYPE_CHECKING:
    from ._database import DatabaseLike
    from ._report import Report

# Every row when the ledger's layout is the one this bootmigrate reads; none otherwise.
_LEDGER_QUERY = (
    "SELECT version, name, checksum FROM bootmigrate_ledger WHERE "
    "(SELECT value FROM bootmigrate_meta WHERE key = 'ledger_format') = ? ORDER BY version"
)
_LEDGER_FORMAT = "1"  # bootmigrate._ledger.LEDGER_FORMAT, checked by tests/test_fast_path.py


def settled(db: DatabaseLike, source: Source, timeout: float) -> Report | None:
    """The up-to-date report if the lock proves nothing is pending, else None."""
    locked = _locked(source)
    if locked is None:
        return None
    rows, filenames = locked
    if not _files_match(source, filenames, rows):
        return None
    if not isinstance(db, sqlite3.Connection) and not os.path.isfile(db):
        return None  # the full path creates it
    with for_writing(db, timeout) as database:
        try:
            ledger = database.conn.execute(_LEDGER_QUERY, (_LEDGER_FORMAT,)).fetchall()
        except sqlite3.Error:
            return None  # no ledger yet, or a damaged one: the full path says what is wrong
        name = database.name
    if ledger != rows:
        return None
    current = rows[-1][0]
    logging = sys.modules.get("logging")
    if logging is not None:  # not imported: nobody configured a handler for the record
        logging.getLogger("bootmigrate").debug("%s: up-to-date at version %s", name, current)
    from ._report import Report

    return Report(name, source.description, "up-to-date", current, current)


def _locked(source: Source) -> tuple[list[tuple[int, str, str]], set[str]] | None:
    """The lock's up entries as ledger rows, and the file names it lists; None if unusable."""
    try:
        text = source.read_text(LOCK_FILENAME)
    except (OSError, UnicodeDecodeError):
        return None
    if text is None:
        return None
    rows: list[tuple[int, str, str]] = []
    filenames: set[str] = set()
    seen_format = False
    for line in text.splitlines():
        parts = line.split()
        if not parts or parts[0].startswith("#"):
            continue
        if not seen_format:
            if parts != ["format", str(LOCK_FORMAT)]:
                return None
            seen_format = True
            continue
        if len(parts) != 4 or not parts[0].isdigit() or parts[2] not in ("up", "down"):
            return None
        version, name, kind, checksum = parts
        filenames.add(f"{version}_{name}.{kind}.sql")
        if kind == "up":
            rows.append((int(version), name, checksum))
    rows.sort()
    if not rows or len({row[0] for row in rows}) != len(rows):
        return None
    return rows, filenames


def _files_match(source: Source, filenames: set[str], rows: list[tuple[int, str, str]]) -> bool:
    """True when the migration files present are exactly the locked ones.

    A name that is not locked is parsed as the full load would parse it (so a misnamed
    file is still an :class:`InvalidFileName`); a migration file the lock does not list
    means the lock is stale or something is pending.
    """
    found = 0
    labels = None
    for name in source.names():
        if name in filenames:
            found += 1
            continue
        if name.startswith(".") or not (name[:1].isdigit() or name.lower().endswith(".sql")):
            continue  # cannot be a migration file (README, __init__.py, bootmigrate.lock)
        from ._filenames import parse_filename

        parsed = parse_filename(name)
        if parsed is None:
            continue
        if labels is None:
            labels = {(version, label) for version, label, _ in rows}
        if parsed.kind != "fixture" or (parsed.version, parsed.name) not in labels:
            return False
    return found == len(filenames)
