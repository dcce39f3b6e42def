"""Adopting a database that an app migrated by other means before it used bootmigrate.

Such a database has the app's tables and its own bookkeeping (a ``schema_version``
table, a ``PRAGMA user_version``...) but no bootmigrate ledger. A :class:`Baseline`
says how to recognise one and what version it is at. :func:`adopt` runs at the start of
the first write transaction of :func:`bootmigrate.migrate`, under the write lock, so
detection, repair, the ledger rows and the remaining migrations commit together or not
at all: a failure anywhere leaves the file as it was, legacy bookkeeping included.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass

from .. import _binding as binding
from .. import _log
from .._db import ledger
from .._errors import (
    LegacyVersionTooNew,
    MigrationError,
    UnrecognizedDatabase,
    UsageError,
)
from .._source.filenames import MAX_VERSION
from .._source.locate import load

TYPE_CHECKING = False
if TYPE_CHECKING:
    from .._source.model import MigrationSet
    from .._types import SourceLike
    from .executor import Executor

#: ``repair(conn, claimed) -> (version, notes)``; see :class:`Baseline`.
Repair = Callable[[sqlite3.Connection, int], "tuple[int, Sequence[str]]"]


@dataclass(frozen=True)
class Baseline:
    """How to adopt a database that has no bootmigrate ledger yet.

    *detect* ``(conn) -> int | None`` reads the version the database's own bookkeeping
    claims (for example ``SELECT MAX(version) FROM schema_version``), or returns None when
    the database is not one to adopt (a new, empty file). It may raise
    :class:`UnrecognizedDatabase` for a file it cannot place.

    *highest* is the highest claimed version this baseline knows. A database that claims
    more was written by a newer (or unreleased) build of the old code: it is refused with
    :class:`LegacyVersionTooNew`, and nothing is changed.

    *repair* ``(conn, claimed) -> (version, notes)`` (optional) looks at the schema
    itself, adds what the old code left out, and returns the version the database is at
    afterwards (it may be above *claimed* when the schema shows more than the bookkeeping
    says) and one line per repair made. It runs inside the transaction and must not
    commit. Without it the database is taken to be at *claimed* as it is.

    *label* names the old bookkeeping in messages (``"schema_version table"``).

    *applied* ``(conn, versions) -> versions`` (optional, instead of *repair*) is for
    bookkeeping that records each migration it applied, as another tool's table does:
    given the versions of the migration files, it returns exactly those the database
    has applied, or raises :class:`UnrecognizedDatabase` when it cannot say (a gap, a
    version no file has). Only those get a ledger row, rather than every file up to
    the claimed version. :meth:`from_tool` builds such a baseline.
    """

    #: ``(conn) -> int | None``: the version the database claims, None if not one to adopt.
    detect: Callable[[sqlite3.Connection], int | None]
    #: The highest claimed version this baseline knows.
    highest: int
    #: ``(conn, claimed) -> (version, notes)``: adds what the old code left out.
    repair: Repair | None = None
    #: The old bookkeeping's name in messages.
    label: str = "legacy version"
    #: ``(conn, versions) -> versions``: exactly the versions the database has applied.
    applied: Callable[[sqlite3.Connection, tuple[int, ...]], Collection[int]] | None = None

    def __post_init__(self) -> None:
        if self.applied is not None and self.repair is not None:
            raise UsageError(
                "a Baseline takes a repair or an applied, not both: applied says exactly "
                "which migrations the database has, so there is nothing to repair"
            )

    @classmethod
    def from_tool(cls, tool: str, *, table: str | None = None) -> Baseline:
        """A baseline that takes over a database another migration tool migrated.

        *tool* is ``"golang-migrate"``, ``"goose"``, ``"dbmate"``, ``"sqlx"`` or
        ``"diesel"``; *table* is its version table's name when it is not the tool's
        default (``schema_migrations``, ``goose_db_version``, ``schema_migrations``,
        ``_sqlx_migrations``, ``__diesel_schema_migrations``). The migration files must
        keep the tool's versions (:func:`bootmigrate.import_migrations` writes them so).

        A database whose table says which versions were applied gets a ledger row for
        each of them and continues with the next pending file; nothing is re-run and the
        tool's table is left as it was. Refused, with the database left unchanged:
        a dirty (golang-migrate) or failed (sqlx) migration, applied versions that are
        not the files' versions up to the highest of them (:class:`UnrecognizedDatabase`
        naming them), versions above the newest file (:class:`LegacyVersionTooNew`), and
        a database with tables but without the tool's table. A database without any
        table is new: every migration runs.
        """
        from .._foreign.ledgers import ToolLedger

        tool_ledger = ToolLedger.of(tool, table)
        return cls(
            tool_ledger.detect, MAX_VERSION, label=tool_ledger.label, applied=tool_ledger.applied
        )


@dataclass(frozen=True)
class Adoption:
    """What a :class:`Baseline` did to a database without a ledger (:attr:`Report.adoption`)."""

    #: The version the database's own bookkeeping claimed.
    claimed: int
    #: The version it was adopted at, after the repair.
    version: int
    #: One line per repair the baseline made (empty when none was needed).
    repairs: tuple[str, ...]
    #: The versions written to the ledger as already applied.
    recorded: tuple[int, ...]

    def summary(self) -> str:
        """One line, plus one per repair."""
        lines = [
            f"taken over without a ledger: its own records say version {self.claimed}, "
            f"its schema is at version {self.version}" + (" after repairs" if self.repairs else "")
        ]
        lines += [f"  repaired: {note}" for note in self.repairs]
        return "\n".join(lines)


def adopt(executor: Executor, migrations: MigrationSet, baseline: Baseline) -> Adoption | None:
    """Adopt the database if it has no ledger and *baseline* recognises it.

    Call inside the run's write transaction. Writes the ledger rows (with the files'
    checksums, so later runs see them as unmodified) for every migration up to the
    adopted version and returns what was done; returns None when there is nothing to
    adopt. The callbacks run under the executor's guard: one that commits fails the run.
    Raises :class:`LegacyVersionTooNew`, :class:`UnrecognizedDatabase`, a
    :class:`UsageError` for a callback that returns the wrong thing, or an
    :class:`ApplyError` when a callback fails.
    """
    database = executor.database
    conn = database.conn
    if ledger.exists(conn, database.name):
        return None
    claimed = executor.call("detecting the database's version", baseline.detect, conn)
    if claimed is None:
        return None
    _check_version("detect", claimed)
    if claimed > baseline.highest:
        raise LegacyVersionTooNew(database.name, baseline.label, claimed, baseline.highest)
    version: int = claimed
    notes: Sequence[str] = ()
    if baseline.applied is not None:
        # The old bookkeeping names each migration it applied: exactly those are adopted.
        found = executor.call(
            "reading the versions it applied", baseline.applied, conn, migrations.versions
        )
        recorded = _check_applied(found, migrations.versions)
        version = max(recorded, default=claimed)
        adopted = [m for m in migrations if m.version in recorded]
    else:
        if baseline.repair is not None:
            repaired = executor.call("repairing the database", baseline.repair, conn, claimed)
            if (
                not isinstance(repaired, tuple)
                or len(repaired) != 2
                or isinstance(repaired[1], str)
                or not all(isinstance(note, str) for note in repaired[1])
            ):
                raise UsageError(
                    f"the baseline's repair returned {repaired!r}; it must return (version, "
                    "notes): the version the database is at and a list of strings"
                )
            version, notes = repaired
            _check_version("repair", version)
        adopted = [m for m in migrations if m.version <= version]
    ledger.ensure(conn)
    ledger.record_adopted(conn, adopted)
    adoption = Adoption(claimed, version, tuple(notes), tuple(m.version for m in adopted))
    _log.logger().info("%s: %s", database.name, adoption.summary())
    return adoption


def _check_applied(found: object, versions: tuple[int, ...]) -> set[int]:
    """The versions *applied* returned, which must all be versions of the files."""
    known = set(versions)
    if isinstance(found, (str, bytes)) or not isinstance(found, Collection):
        found_ok = False
    else:
        found_ok = all(isinstance(v, int) and not isinstance(v, bool) and v in known for v in found)
    if not found_ok:
        raise UsageError(
            f"the baseline's applied returned {found!r}; it must return a collection of "
            "versions of the migration files (the ones the database has applied)"
        )
    assert isinstance(found, Collection)
    return set(found)


def _check_version(callback: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise UsageError(
            f"the baseline's {callback} returned {value!r}; it must return a version number "
            "(an int of 0 or more)" + (" or None" if callback == "detect" else "")
        )


# -- a repair derived from the migration files ----------------------------------------

# ("table", table, "") / ("column", table, column) / ("index", table, index)
_Object = tuple[str, str, str]


@dataclass(frozen=True)
class _Shape:
    """What the migration files have made by one version: its objects and their SQL."""

    objects: frozenset[_Object]
    tables: Mapping[str, str]  # name -> CREATE TABLE text
    # (table, column) -> (type, notnull, default, pk)
    columns: Mapping[tuple[str, str], tuple[str, bool, str | None, int]]
    indexes: Mapping[str, str]  # name -> CREATE INDEX text


def additive_repair(
    source: SourceLike,
    *,
    through: int,
    extra_columns: Mapping[str, Collection[str]] | None = None,
    prepare: Callable[[sqlite3.Connection], object] | None = None,
) -> Repair:
    """A *repair* for :class:`Baseline` that compares the database with the migration files.

    The files are run once, in memory, to learn which tables, columns and indexes exist
    at each version up to *through* (the baseline's ``highest``). Then, for a database
    that claims version *claimed*:

    - it is taken to be at the highest version whose new objects it shows, at least
      *claimed* (an old build may have made a change without recording its number);
    - every table, column and index the files have by that version and the database
      lacks is added: tables and indexes with the files' own SQL, columns with
      ``ALTER TABLE ADD COLUMN`` and the type, ``NOT NULL`` and ``DEFAULT`` the files
      give them (a column the files declare as a primary key cannot be added: refused);
    - a column of one of those tables that no version up to *through* has (one a later
      version dropped counts as known), and that *extra_columns*
      (``{table: {column, ...}}``) does not list, is refused with
      :class:`UnrecognizedDatabase`: a later rebuild of the table would lose it.

    Nothing is removed or rewritten, and rows are not touched.

    The files are replayed on a connection of the repair's own: if they call SQL
    functions or collations the app registers, pass *prepare* (called with that
    connection first), as the app's connection has them.
    """
    extras = {table: set(columns) for table, columns in (extra_columns or {}).items()}
    shapes: dict[int, _Shape] = {}

    def repair(conn: sqlite3.Connection, claimed: int) -> tuple[int, Sequence[str]]:
        if not shapes:
            shapes.update(_shapes(load(source), through, prepare))
        versions = sorted(shapes)
        present = _objects(conn)
        version = claimed
        previous: frozenset[_Object] = frozenset()
        for v in versions:
            if v > claimed and (shapes[v].objects - previous) & present:
                version = v
            previous = shapes[v].objects
        reached = [v for v in versions if v <= version]
        if not reached:
            return version, ()
        version = reached[-1]
        shape = shapes[version]
        _refuse_unknown_columns(conn, shapes.values(), extras)
        return version, _add_missing(conn, shape, present)

    return repair


def _shapes(
    migrations: MigrationSet,
    through: int,
    prepare: Callable[[sqlite3.Connection], object] | None,
) -> dict[int, _Shape]:
    from .._db.connection import Database
    from .executor import replay

    conn = binding.connect(":memory:", isolation_level=None)
    try:
        if prepare is not None:
            prepare(conn)
        scratch = Database(conn, ":memory:", 0.0, owned=True)
        shapes = {}
        for migration in migrations:
            if migration.version > through:
                break
            try:
                replay(scratch, migration.up)
            except MigrationError as exc:
                raise UsageError(
                    f"additive_repair replays the migrations on a database of its own, and "
                    f"{migration.up.filename!r} failed there: {exc}",
                    "if the migrations call functions or collations the app registers, pass "
                    "prepare= to additive_repair to register them on that database too",
                ) from exc
            shapes[migration.version] = _read_shape(conn)
        return shapes
    finally:
        conn.close()


def _read_shape(conn: sqlite3.Connection) -> _Shape:
    tables: dict[str, str] = {}
    columns: dict[tuple[str, str], tuple[str, bool, str | None, int]] = {}
    indexes: dict[str, str] = {}
    objects: set[_Object] = set()
    for kind, name, table, sql in conn.execute(
        "SELECT type, name, tbl_name, sql FROM sqlite_master "
        "WHERE type IN ('table', 'index') AND sql IS NOT NULL AND name NOT LIKE 'sqlite_%'"
    ).fetchall():
        if kind == "index":
            indexes[name] = sql
            objects.add(("index", table, name))
            continue
        tables[name] = sql
        objects.add(("table", name, ""))
        for _, column, type_, notnull, default, pk, _hidden in conn.execute(
            'SELECT cid, name, type, "notnull", dflt_value, pk, hidden FROM pragma_table_xinfo(?)',
            (name,),
        ).fetchall():
            columns[(name, column)] = (type_, bool(notnull), default, pk)
            objects.add(("column", name, column))
    return _Shape(frozenset(objects), tables, columns, indexes)


def _objects(conn: sqlite3.Connection) -> frozenset[_Object]:
    return _read_shape(conn).objects


def _refuse_unknown_columns(
    conn: sqlite3.Connection, shapes: Iterable[_Shape], extras: Mapping[str, Collection[str]]
) -> None:
    # Any version's columns count: one a later version dropped may linger in old files.
    known = {(t, c) for shape in shapes for kind, t, c in shape.objects if kind == "column"}
    historic = {t for t, _ in known}
    unknown = sorted(
        (t, c)
        for kind, t, c in _objects(conn)
        if kind == "column" and t in historic and (t, c) not in known and c not in extras.get(t, ())
    )
    if unknown:
        listed = ", ".join(f"{t}.{c}" for t, c in unknown)
        raise UnrecognizedDatabase(
            f"the database has column(s) that no known version created: {listed}; it was "
            "made by a build this app does not know, and taking it over could lose their "
            "data. It was left unchanged"
        )


def _add_missing(conn: sqlite3.Connection, shape: _Shape, present: frozenset[_Object]) -> list[str]:
    notes = []
    order = ("table", "column", "index")
    missing = sorted(shape.objects - present, key=lambda o: (order.index(o[0]), o))
    created: set[str] = set()
    for kind, table, name in missing:
        if kind == "table":
            conn.execute(shape.tables[table])
            created.add(table)
            notes.append(f"created the missing table {table}")
        elif kind == "column" and table not in created:
            type_, notnull, default, pk = shape.columns[(table, name)]
            if pk:
                raise UnrecognizedDatabase(
                    f"the table {table} lacks its primary key column {name}; it cannot be "
                    "added in place. The database was left unchanged"
                )
            definition = f'"{name}" {type_}'.rstrip()
            if notnull:
                definition += " NOT NULL"
            if default is not None:
                definition += f" DEFAULT {default}"
            conn.execute(f'ALTER TABLE "{table}" ADD COLUMN {definition}')
            notes.append(f"added the missing column {table}.{name}")
        elif kind == "index":
            conn.execute(shape.indexes[name])
            notes.append(f"created the missing index {name}")
    return notes
