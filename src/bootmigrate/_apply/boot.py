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
from typing import TYPE_CHECKING

from .. import _log
from .._db.connection import for_writing
from .._source.locate import LOCK_FILENAME, Source
from .._source.lockfile import LOCK_FORMAT

if TYPE_CHECKING:
    from .._db.connection import DatabaseLike
    from .._report import Report

# Every row when the ledger's layout is the one this bootmigrate reads; none otherwise.
# The version comes back as the lock spells it (%04d), so rows compare as plain strings.
_LEDGER_QUERY = (
    "SELECT printf('%04d', version), name, checksum FROM bootmigrate_ledger WHERE "
    "(SELECT value FROM bootmigrate_meta WHERE key = 'ledger_format') = ? ORDER BY version"
)
_LEDGER_FORMAT = "1"  # bootmigrate._ledger.LEDGER_FORMAT, checked by tests/test_fast_path.py

_FORMAT_LINE = f"format {LOCK_FORMAT}\n"


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
    current = int(rows[-1][0])
    _log.debug("%s: up-to-date at version %s", name, current)
    from .._report import Report

    return Report(name, source.description, "up-to-date", current, current)


def _locked(source: Source) -> tuple[list[tuple[str, str, str]], set[str]] | None:
    """The lock's up entries as ledger rows, and the file names it lists; None if unusable.

    Only a lock as ``bootmigrate lock`` writes it is used: comment lines, then
    ``format 1``, then entries. It is cut into words in one ``str.split`` and sliced
    into columns, because at a thousand migrations per-line parsing in Python would
    cost more than the query. Anything unexpected returns None (the full check does
    not need the lock).
    """
    try:
        text = source.read_text(LOCK_FILENAME)
    except (OSError, UnicodeDecodeError):
        return None
    if text is None:
        return None
    if "\r" in text:  # a Windows checkout
        text = text.replace("\r\n", "\n")
    head, found, body = text.partition(_FORMAT_LINE)
    if not found or (head and not head.endswith("\n")) or "#" in body:
        return None
    if any(line.strip() and not line.lstrip().startswith("#") for line in head.splitlines()):
        return None
    words = body.split()
    if not words or len(words) % 4:
        return None
    versions, names, kinds, checksums = words[0::4], words[1::4], words[2::4], words[3::4]
    digits = "".join(versions)
    if not (digits.isascii() and digits.isdigit()) or not set(kinds) <= {"up", "down"}:
        return None
    filenames = set(map("{}_{}.{}.sql".format, versions, names, kinds))
    if "down" in kinds:
        up = [i for i, kind in enumerate(kinds) if kind == "up"]
        versions = [versions[i] for i in up]
        names = [names[i] for i in up]
        checksums = [checksums[i] for i in up]
    rows = list(zip(versions, names, checksums))
    return (rows, filenames) if rows else None


def _files_match(source: Source, filenames: set[str], rows: list[tuple[str, str, str]]) -> bool:
    """True when the migration files present are exactly the locked ones.

    A name that is not locked is parsed as the full load would parse it (so a misnamed
    file is still an :class:`InvalidFileName`); a migration file the lock does not list
    means the lock is stale or something is pending.
    """
    present = set(source.names())
    if not filenames <= present:
        return False
    labels = None
    for name in present - filenames:
        if name.startswith(".") or not (name[:1].isdigit() or name.lower().endswith(".sql")):
            continue  # cannot be a migration file (README, __init__.py, bootmigrate.lock)
        from .._source.filenames import parse_filename

        parsed = parse_filename(name)
        if parsed is None:
            continue
        if labels is None:
            labels = {(int(version), label) for version, label, _ in rows}
        if parsed.kind != "fixture" or (parsed.version, parsed.name) not in labels:
            return False
    return True
