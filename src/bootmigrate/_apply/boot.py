"""``migrate()``: the app's boot. The common case, nothing pending, costs one query.

Most boots find nothing to do. When the source ships a ``bootmigrate.lock`` (see
:mod:`bootmigrate._source.lockfile`), :func:`settled` decides that case from the file
*names* and the lock alone: the migration files present are exactly the locked ones,
and the ledger's ``(version, name, checksum)`` rows are exactly the lock's ``up``
entries. Then nothing is pending and every applied migration is the one the release
locked.

Without a lock file (or with one not exactly as ``bootmigrate lock`` writes it), the same
comparison is made with rows computed from the files: every up file is read and hashed,
and nothing more (:func:`_hashed`), which is what a hand-written check does.

Anything else (a file the lock does not list, a ledger row it does not list, a checksum
that differs, no ledger yet, any SQLite error) hands the call to the runner
(:func:`bootmigrate._apply.runner.upgrade`), which reads and checks every file. So a
migration edited after the lock was written is still caught whenever something is
pending, and always by ``status``, ``verify`` and ``lock --check``; what the boot trusts
is that the shipped lock matches the shipped files, which ``bootmigrate lock --check``
(and the test kit) verify before a release.

This module is the whole import path of that boot: it and what it imports load no
:mod:`typing`, :mod:`dataclasses`, :mod:`re` or :mod:`pathlib`, build no dataclass and
compile no regular expression (BENCHMARKS.md has the import profile).
"""

from __future__ import annotations

import os

from .. import _binding as binding
from .. import _log
from .._db import ledger
from .._db.connection import DEFAULT_TIMEOUT, describe, peek
from .._report import Report
from .._source.locate import Source, resolve
from .._source.lockfile import LOCK_FILENAME, read_fast

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

    from .._types import Connect, DatabaseLike, SourceLike
    from .adopt import Baseline
    from .progress import ProgressEvent


def migrate(
    db: DatabaseLike,
    source: SourceLike,
    *,
    target: int | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    baseline: Baseline | None = None,
    backup: bool = False,
    backup_keep: int = 1,
    progress: Callable[[ProgressEvent], object] | None = None,
    connect: Connect | None = None,
) -> Report:
    """Bring the database to *target* (default: the newest migration) and report what ran.

    *db* is a path (the file is created if missing) or an open :class:`sqlite3.Connection`
    (borrowed: left open, with its settings given back; it must not be inside a
    transaction). *source* is ``"pkg:folder"``, a directory, or a :class:`MigrationSet`
    from :func:`load`. All pending migrations run in one ``BEGIN IMMEDIATE`` transaction
    with their ledger rows: the database reaches the target or stays exactly as it was.
    *timeout* is how long, in seconds, to wait for another connection's lock before
    raising :class:`DatabaseBusy`. *baseline* adopts a database made before bootmigrate
    (no ledger): see :class:`Baseline`; the adoption runs in the same transaction.
    *backup* takes an online backup next to the file before anything is applied (only
    when something is pending) and keeps the newest *backup_keep* of them.
    *progress*, a function, is called with a :class:`ProgressEvent` when the run starts,
    around each step and, at most ten times a second, while a statement runs long; it is
    not called when nothing is pending. An exception it raises stops the run, rolled back
    like any failure, as an :class:`ApplyError` chained to that exception. On a borrowed
    connection, the connection's own progress handler is replaced during the run and
    cleared after it (Python cannot read it back).

    Raises a :class:`MigrationError` subclass; after any of them the database is
    unchanged, or the error says exactly what state it is in (after a ``no-transaction``
    migration, or when a backup was put back).
    *connect* opens *db* and every copy of it the app's own way (an encrypted
    database's key, a newer SQLite): see :data:`Connect`.
    """
    with binding.using(db, connect):
        if target is None and isinstance(source, (str, os.PathLike)):
            # The common boot has nothing to do: with a lock file, one query says so.
            try:
                report = settled(db, resolve(source), timeout)
            except (ValueError, TypeError, OSError):
                report = None  # an odd argument or file: the runner says what is wrong
            if report is not None:
                return report
        from .runner import upgrade

        return upgrade(
            db,
            source,
            target=target,
            timeout=timeout,
            baseline=baseline,
            backup=backup,
            backup_keep=backup_keep,
            progress=progress,
        )


def settled(db: DatabaseLike, source: Source, timeout: float) -> Report | None:
    """The up-to-date report if the lock (or, without one, the files' checksums) proves
    nothing is pending, else None."""
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout >= 0:
        return None  # the runner explains
    text = source.read_text(LOCK_FILENAME)
    lock = read_fast(text) if text is not None else None
    if lock is not None:
        rows = lock.ledger_rows()
        if not rows or not _files_match(source, lock.filenames(), rows):
            return None
        found = _ledger_rows(db, timeout)
    else:
        # The ledger first: a new database, or one with something pending, is told
        # apart by the files' names, and no file is read and hashed for nothing.
        found = _ledger_rows(db, timeout)
        hashed = _hashed(source, found) if found else None
        if not hashed:
            return None  # not a plain set of migrations, or not the ledger's
        rows = hashed
    if found != rows:
        return None
    name = describe(db)
    current = int(rows[-1][0])
    _log.debug("%s: up-to-date at version %s", name, current)
    return Report(name, source.description, "up-to-date", current, current)


def _ledger_rows(db: DatabaseLike, timeout: float) -> list[tuple[str, str, str]]:
    rows: list[tuple[str, str, str]] = peek(
        db, ledger.BOOT_QUERY, ledger.BOOT_PARAMETERS, min(timeout, 2_147_483.0)
    )
    return rows


def _hashed(source: Source, found: list[tuple[str, str, str]]) -> list[tuple[str, str, str]] | None:
    """Without a usable lock: the rows the ledger of an up-to-date database holds,
    computed from the files (each up file read and hashed as the full load does), or None
    when the files are not a plain set of migrations (the full load then says why), or
    their versions and names are not the ledger's *found* rows (nothing is read then).

    What the raw check of BENCHMARKS.md does, and no more: no statement is split and no
    file validated, because nothing will run; an up file that changed is a checksum the
    ledger does not hold, and the full check then refuses it.
    """
    from .._errors import MigrationError
    from .._source.filenames import format_version, parse_filename
    from .._source.text import checksum

    ups: dict[int, tuple[str, str]] = {}
    others: list[tuple[int, str]] = []
    try:
        for filename in source.names():
            parsed = parse_filename(filename)
            if parsed is None:
                continue
            if parsed.kind == "baseline":
                return None  # a squashed history: the full load plans it
            if parsed.kind != "up":
                others.append((parsed.version, parsed.name))
                continue
            if parsed.version in ups:
                return None  # two up files of one version: the full load says so
            ups[parsed.version] = (filename, parsed.name)
        if any(ups.get(version, ("", ""))[1] != label for version, label in others):
            return None  # a down or fixture file without its up file
        versions = sorted(ups)
        expected = [(format_version(v), ups[v][1]) for v in versions]
        if expected != [(version, name) for version, name, _ in found]:
            return None  # something pending, or not this ledger: the runner says which
        rows = []
        for version in versions:
            data = source.read_text(ups[version][0])
            if data is None:
                return None
            rows.append((format_version(version), ups[version][1], checksum(data)))
    except MigrationError:
        return None  # a misnamed or undecodable file: the full load reports it in order
    return rows


def _files_match(source: Source, filenames: set[str], rows: list[tuple[str, str, str]]) -> bool:
    """True when the migration files present are exactly the locked ones.

    A name that is not locked is parsed as the full load would parse it (so a misnamed
    file is still an :class:`InvalidFileName`); a migration file the lock does not list
    means the lock is stale or something is pending.
    """
    present = set(source.names())
    missing = filenames - present
    if missing:
        # The lock does not say a file's language: a locked up or down file may be its
        # Python twin (0007_x.up.py), and never both (the full load refuses that).
        from .._source.filenames import python_twin

        twins = set(map(python_twin, missing))
        if not twins <= present:
            return False
        filenames = (filenames - missing) | twins
    labels = None
    for name in present - filenames:
        looks_like = name[:1].isdigit() or name.lower().endswith(
            (".sql", ".up.py", ".down.py", ".fixture.py")
        )
        if (name.startswith(".") or not looks_like) and name.strip() == name:
            continue  # cannot be a migration file (README, __init__.py, the lock)
        from .._source.filenames import parse_filename

        parsed = parse_filename(name)
        if parsed is None:
            continue
        if labels is None:
            labels = {(int(version), label) for version, label, _ in rows}
        if parsed.kind != "fixture" or (parsed.version, parsed.name) not in labels:
            return False
    return True


__all__ = ["migrate", "settled"]
