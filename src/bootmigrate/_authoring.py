"""Commands that write files beside the migrations: a new migration, the lock, the snapshot.

They need a directory source (a package's resources are not written to) and are used
while developing an app, by the ``bootmigrate`` command and by scripts; the app's boot
never imports this module (:mod:`bootmigrate` loads it on first use).
"""

from __future__ import annotations

import os
import re
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ._errors import InvalidTarget, LockFileError, UsageError
from ._schema.snapshot import SNAPSHOT_FILENAME, fresh_database, render_snapshot, schema_at
from ._source import lockfile as _lockfile
from ._source.filenames import format_version
from ._source.locate import load, read_set, resolve
from ._source.lockfile import LOCK_FILENAME

# The name part of NNNN_name.up.sql (see bootmigrate._source.filenames).
_NAME = re.compile(r"[a-z0-9_]+")


@dataclass(frozen=True)
class WrittenFile:
    """A file :func:`write_lock` or :func:`write_schema_snapshot` wrote, and what it holds.

    It is path-like (``open(written)`` opens the file).
    """

    #: Where it was written.
    path: Path
    #: What the file holds, for people: ``3 migration(s) locked, up to version 3``.
    description: str
    #: What changed from the file it replaced, one line each (the lock lists the down
    #: files whose checksums it updated).
    changes: tuple[str, ...] = ()

    def summary(self) -> str:
        """``wrote PATH: DESCRIPTION``, then the changes, one per line."""
        return "\n".join([f"wrote {self.path}: {self.description}", *self.changes])

    def __fspath__(self) -> str:
        return os.fspath(self.path)


def name_problem(name: str) -> str | None:
    """Why *name* cannot be the name of a new migration, or None when it can."""
    if _NAME.fullmatch(name):
        return None
    return f"the name {name!r} may hold only lower-case letters, digits and '_'"


def new_migration(source: str | os.PathLike[str], name: str) -> tuple[Path, Path]:
    """Write the next-numbered ``NNNN_name.up.sql`` and ``.down.sql`` into *source*.

    *source* must be a directory; the version is one above the newest migration, as
    wide as the widest version so far (at least four digits). Both files hold only a
    comment: the set refuses them until they hold SQL (delete the down file to make the
    migration irreversible). Returns the up and down paths. Raises :class:`UsageError`
    for a *name* that is not lower-case letters, digits and ``_``.
    """
    problem = name_problem(name)
    if problem is not None:
        raise UsageError(problem)
    directory = _directory(source, "'new' writes files")
    migrations = read_set(source)
    head = migrations.head or 0
    stem = f"{head + 1:0{max(4, len(str(head)))}d}_{name}"
    up, down = directory / f"{stem}.up.sql", directory / f"{stem}.down.sql"
    up.write_text(f"-- {stem}: write the change here.\n", encoding="utf-8")
    down.write_text(
        f"-- {stem}: write here how to undo it, or delete this file.\n", encoding="utf-8"
    )
    return up, down


def write_lock(source: str | os.PathLike[str]) -> WrittenFile:
    """Write ``bootmigrate.lock`` beside the migrations of the directory *source*.

    Refused with :class:`LockFileError` (a :class:`SourceError`), one line per
    difference, when a locked migration's up file was edited, renamed, removed or its
    number reused: locking again would bless a change to released history. Delete the
    lock file first if that is intended. A malformed lock file raises its error too. A
    down file edited or added since the lock is accepted: its new checksum is written and
    listed in :attr:`WrittenFile.changes`.
    """
    path = _directory(source, f"'lock' writes {LOCK_FILENAME}") / LOCK_FILENAME
    migrations = load(source)
    differences: list[str] = []
    changes: list[str] = []
    if migrations.lock_text is not None:
        entries = _lockfile.parse(migrations.lock_text, LOCK_FILENAME)
        differences = _lockfile.differences(entries, migrations)
        changes = _lockfile.down_changes(entries, migrations)
    if differences:
        raise LockFileError(
            "\n".join(f"{LOCK_FILENAME}: {d}" for d in differences)
            + f"\n{LOCK_FILENAME} not written; restore the locked files, or delete "
            f"{path} first if rewriting released history is intended"
        )
    path.write_text(_lockfile.render(migrations), encoding="utf-8")
    return WrittenFile(
        path,
        f"{len(migrations)} migration(s) locked, up to version {migrations.head}",
        tuple(changes),
    )


def write_schema_snapshot(
    source: str | os.PathLike[str],
    *,
    prepare: Callable[[sqlite3.Connection], object] | None = None,
) -> WrittenFile:
    """Write ``schema.sql`` beside the migrations of the directory *source*.

    It holds the canonical schema of a new database migrated to the newest version
    (:func:`bootmigrate.canonical_schema`'s text under a comment header); the test kit
    compares it with the migrations. *prepare* is called with that database's
    connection first, to register the functions or collations the migrations use.
    """
    directory = _directory(source, f"'schema --write' writes {SNAPSHOT_FILENAME}")
    migrations = read_set(source)
    schema = schema_at(migrations, prepare=prepare)
    path = directory / SNAPSHOT_FILENAME
    path.write_text(render_snapshot(schema, migrations.head), encoding="utf-8")
    return WrittenFile(
        path,
        f"the schema at version {migrations.head or 0} ({len(schema.tables)} table(s), "
        f"{len(schema.indexes)} index(es), {len(schema.triggers)} trigger(s), "
        f"{len(schema.views)} view(s))",
    )


def squash(
    source: str | os.PathLike[str],
    to: int,
    *,
    name: str = "squashed",
    force: bool = False,
    prepare: Callable[[sqlite3.Connection], object] | None = None,
) -> WrittenFile:
    """Write ``NNNN_name.baseline.sql`` (NNNN = *to*) beside the migrations of the
    directory *source*: the schema and rows of a new database migrated to version *to*,
    as SQL, and the list of the migrations it squashes (versions, names, checksums).

    A new database then runs it instead of those migrations; older databases still run
    the files while they are shipped. The same files always give the same bytes.
    *prepare* is called with the scratch database's connection first (the functions and
    collations the migrations use).

    Refused with :class:`InvalidTarget`: *to* not a version of the migrations (or above
    the newest), and *to* at or above a ``no-transaction`` migration that runs outside
    the run's transaction (what it does beyond schema and rows, such as a journal mode,
    a page size or a ``VACUUM``, is not in a baseline, which runs inside one); a database
    at *to* that holds ``ANALYZE`` statistics. Refused with :class:`UsageError`: a
    baseline for *to* that exists, unless *force*.
    """
    from ._schema.dump import dump, internal_tables
    from ._schema.read import canonical_schema
    from ._schema.tokens import quote_name
    from ._source.filenames import compose_filename
    from ._source.model import SQUASHES_PREFIX, Squashed

    problem = name_problem(name)
    if problem is not None:
        raise UsageError(problem)
    if isinstance(to, bool) or not isinstance(to, int):
        raise UsageError(f"the version to squash to is a number, not {to!r}")
    directory = _directory(source, "'squash' writes a baseline")
    migrations = load(source)
    head = migrations.head or 0
    files = {m.version: m for m in migrations}
    listed = {s.version: s for squash in migrations.squashes for s in squash.squashed}
    if to not in files and to not in listed:
        above = to > head
        raise InvalidTarget(
            f"cannot squash to version {to}: "
            + (f"it is above the newest migration, {head}" if above else "no migration has it"),
            "pick the version of a migration (the newest released one, usually)",
        )
    alone = [m for m in migrations if m.version <= to and not m.up.transactional]
    if alone:
        raise InvalidTarget(
            f"cannot squash to version {to}: {alone[0].up.filename!r} is a no-transaction "
            "migration, and what it does besides schema and rows (a journal mode, a page "
            "size, VACUUM) cannot be put in a baseline, which a new database runs inside "
            "the run's transaction",
            f"squash to a version below {alone[0].version}",
        )
    builder = migrations.without_baseline(to)
    if builder is None:
        raise InvalidTarget(
            f"cannot squash to version {to}: migration files up to it are gone, and no "
            f"baseline below {to} stands for them, so there is nothing to build version "
            f"{to} from",
            "squash to a version above the newest baseline",
        )
    existing = [s for s in migrations.squashes if s.version == to]
    path = directory / compose_filename(to, name, "baseline")
    if existing and not force:
        raise UsageError(
            f"{existing[0].script.filename!r} exists: version {to} is already squashed",
            "pass --force (force=True) to write it again",
        )
    squashed = tuple(
        Squashed(m.version, m.name, m.checksum, m.backward_compatible)
        if m is not None
        else listed[version]
        for version in sorted(set(files) | set(listed))
        if version <= to
        for m in (files.get(version),)
    )
    # The new database is built by the files, from a lower baseline only where the
    # files below it are gone, never from the baseline being written again.
    with fresh_database(builder, to, prepare=prepare) as conn:
        statistics = internal_tables(conn)
        if statistics:
            raise InvalidTarget(
                f"cannot squash to version {to}: the migrations up to it run ANALYZE, and "
                f"its statistics ({', '.join(statistics)}) cannot be put in a baseline",
                "drop the ANALYZE from the migrations, or squash to a version before it",
            )
        statements = dump(conn)
        tables = canonical_schema(conn).tables
        rows = sum(
            int(conn.execute(f"SELECT count(*) FROM {quote_name(t.name)}").fetchone()[0])
            for t in tables
        )
    header = (
        f"-- The schema and rows of a new database at version {to}, written by\n"
        f"-- `bootmigrate squash --to {to}`. A new database runs this file instead of the\n"
        "-- migrations it squashes (listed below); a database that has some of them runs\n"
        "-- their files. Do not edit it: write it again with `bootmigrate squash --force`.\n"
    )
    listing = "".join(
        f"{SQUASHES_PREFIX}{format_version(s.version)} {s.name} {s.checksum}"
        + (" backward-compatible" if s.backward_compatible else "")
        + "\n"
        for s in squashed
    )
    body = "\n".join(statements) if statements else "SELECT 1;  -- no table, index or row"
    for old in existing:
        if old.script.filename != path.name:
            (directory / old.script.filename).unlink()
    path.write_text(header + listing + "\n" + body + "\n", encoding="utf-8")
    return WrittenFile(
        path,
        f"a new database at version {to} ({len(tables)} table(s), {rows} row(s)), squashing "
        f"{len(squashed)} migration(s), {squashed[0].version} to {squashed[-1].version}",
    )


def _directory(source: str | os.PathLike[str], what: str) -> Path:
    """The directory of *source*; a :class:`UsageError` for a package's resources."""
    directory = resolve(source).directory
    if directory is None:
        raise UsageError(
            f"{what}, so it needs a directory source, not the package resource "
            f"{os.fspath(source)!r}; pass the migrations directory with --source, or "
            "name it in directory = ... under [tool.bootmigrate] (the working copy)"
        )
    return directory
