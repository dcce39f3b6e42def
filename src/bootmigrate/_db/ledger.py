"""The runner's own tables in the user's database, and the one module that writes them.

``bootmigrate_ledger`` holds one row per applied migration. ``bootmigrate_meta`` holds
``ledger_format`` (the layout number of these tables, so that a later bootmigrate can
upgrade them in place and an older one refuses a layout it does not know) and, while a
``no-transaction`` step is under way, what the step started from (see
:func:`begin_step`). ``PRAGMA user_version`` mirrors the current version, up to its
largest value, 2,147,483,647 (a signed 32-bit integer): a larger version (a timestamp)
leaves it at that largest value, so ``user_version >= N`` stays true for every smaller N.

Every ledger row is written or deleted here, whatever the path (a batch, a
no-transaction step, an adoption, a downgrade). Every read checks the tables first: a
table that is not exactly the one bootmigrate made, or that carries a trigger, index or
view it did not make, is refused before anything runs (such objects would run SQL, or
the app's functions, on every write of the runner). All SQL names ``main.`` so that a
``temp`` table of the same name on a borrowed connection is never read or written.

No function here commits: the caller owns the transaction. This module is on the boot's
import path (:data:`BOOT_QUERY`), so it imports nothing heavy.
"""

from __future__ import annotations

import sqlite3

from .._errors import LedgerError
from .._value import Value, _setattr
from .._version import __version__

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable
    from typing import Any

    from .._source.model import Migration, Squash

    _Rows = list[tuple[Any, ...]]

LEDGER_TABLE = "bootmigrate_ledger"
META_TABLE = "bootmigrate_meta"
#: Every table bootmigrate owns; the canonical schema leaves them out.
OWN_TABLES = (LEDGER_TABLE, META_TABLE)
#: The layout these functions read and write.
LEDGER_FORMAT = 1

# sqlite_master keeps the text of CREATE TABLE as written (minus IF NOT EXISTS): the
# tables are checked against exactly this text.
_LEDGER_SQL = f"""CREATE TABLE {LEDGER_TABLE} (
    version INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    checksum TEXT NOT NULL,
    applied_at TEXT NOT NULL,
    execution_ms REAL NOT NULL,
    bootmigrate_version TEXT NOT NULL,
    backward_compatible INTEGER NOT NULL DEFAULT 0
)"""
_META_SQL = f"CREATE TABLE {META_TABLE} (key TEXT PRIMARY KEY, value TEXT NOT NULL)"
# The one index SQLite makes itself (the meta table's TEXT primary key).
_META_INDEX = f"sqlite_autoindex_{META_TABLE}_1"
_UNFINISHED = "unfinished_step"

#: The boot's one query: the ledger's (version as the lock spells it, name, checksum)
#: rows in the layout this release reads; no row otherwise (no ledger, another layout,
#: a step under way), and the full check then says why. It only reads, so a trigger or
#: index planted on the tables cannot run; the full path refuses them before any write.
#: Parameters: :data:`BOOT_PARAMETERS`.
BOOT_QUERY = (
    f"SELECT printf('%04d', version), name, checksum FROM main.{LEDGER_TABLE} WHERE "
    f"(SELECT value FROM main.{META_TABLE} WHERE key = 'ledger_format') = ? "
    f"AND NOT EXISTS (SELECT 1 FROM main.{META_TABLE} WHERE key = '{_UNFINISHED}') "
    "ORDER BY version"
)
BOOT_PARAMETERS = (str(LEDGER_FORMAT),)


class AppliedMigration(Value):
    """One row of the ledger: a migration as it was applied to the database."""

    __slots__ = (
        "applied_at",
        "backward_compatible",
        "bootmigrate_version",
        "checksum",
        "execution_ms",
        "name",
        "version",
    )
    #: The migration's version.
    version: int
    #: The migration's name, as its file had it then.
    name: str
    #: SHA-256 (hex) of the up file's normalised text, as it was applied.
    checksum: str
    #: When it was applied: UTC, ISO-8601 (``2024-03-13T17:00:00.123Z``).
    applied_at: str
    #: How long its SQL took, in milliseconds.
    execution_ms: float
    #: The version of bootmigrate that applied it.
    bootmigrate_version: str
    #: Whether its up file declared ``-- bootmigrate: backward-compatible``.
    backward_compatible: bool

    def __init__(
        self,
        version: int,
        name: str,
        checksum: str,
        applied_at: str,
        execution_ms: float,
        bootmigrate_version: str,
        backward_compatible: bool = False,
    ) -> None:
        # One line per field rather than Value._init: a ledger of a thousand rows is read
        # on every check without a lock file.
        set_field = _setattr
        set_field(self, "version", version)
        set_field(self, "name", name)
        set_field(self, "checksum", checksum)
        set_field(self, "applied_at", applied_at)
        set_field(self, "execution_ms", execution_ms)
        set_field(self, "bootmigrate_version", bootmigrate_version)
        set_field(self, "backward_compatible", backward_compatible)


class UnfinishedStep(Value):
    """A ``no-transaction`` step that began and has not been recorded (see :func:`begin_step`)."""

    __slots__ = ("name", "orphans", "version")
    version: int
    name: str
    #: The foreign key violations the database had before the step first began.
    orphans: frozenset[tuple[str, int | None, str, int]]

    def __init__(
        self, version: int, name: str, orphans: frozenset[tuple[str, int | None, str, int]]
    ) -> None:
        self._init(version, name, orphans)


# A migration's name comes from its file name, which no file system lets pass 255.
_NAME_MAX = 255


def _shown(value: object) -> str:
    """A value read from a damaged table, as a message shows it: its repr, cut short (a
    planted value may be megabytes)."""
    if isinstance(value, str) and len(value) > 200:
        value = value[:197] + "..."
    elif isinstance(value, bytes) and len(value) > 200:
        value = value[:197] + b"..."
    return repr(value)


def _damaged(name: str, what: str) -> LedgerError:
    return LedgerError(
        f"{name}: bootmigrate's own tables were changed by something else: {what}",
        "restore the database from a backup (bootmigrate will not write through tables "
        "it did not make)",
    )


def exists(conn: sqlite3.Connection, name: str = "the database") -> bool:
    """True when the database has the runner's tables; checks them (see the module doc)."""
    found = _own_objects(conn)
    if found is None:
        return False
    problem = _planted_or_meta(*found)
    if problem:
        raise _damaged(name, problem)
    # Before the ledger's own shape: a newer format may have changed it.
    _check_format(conn, name)
    problem = _ledger_shape(found[0])
    if problem:
        raise _damaged(name, problem)
    return True


def damage(conn: sqlite3.Connection) -> str | None:
    """What is wrong with the runner's tables: ``None`` when there are none, ``""`` when
    they are the tables bootmigrate made (their format is :func:`exists`' to check)."""
    found = _own_objects(conn)
    if found is None:
        return None
    return _planted_or_meta(*found) or _ledger_shape(found[0])


def _own_objects(conn: sqlite3.Connection) -> tuple[_Rows, _Rows] | None:
    """The schema rows of the runner's tables and of anything on them (main and temp)."""
    # SQLite's names are case-insensitive: BOOTMIGRATE_LEDGER is the same table.
    rows = conn.execute(
        "SELECT type, name, tbl_name, sql FROM main.sqlite_master "
        "WHERE lower(tbl_name) IN (?, ?) OR lower(name) IN (?, ?)",
        (*OWN_TABLES, *OWN_TABLES),
    ).fetchall()
    temp = conn.execute(
        "SELECT type, name FROM temp.sqlite_master WHERE type = 'trigger' "
        "AND lower(tbl_name) IN (?, ?)",
        OWN_TABLES,
    ).fetchall()
    return (rows, temp) if rows or temp else None


def _planted_or_meta(rows: _Rows, temp: _Rows) -> str:
    planted = sorted(
        f"{kind} {object_name}"
        for kind, object_name, *_ in [*rows, *temp]
        if object_name not in (*OWN_TABLES, _META_INDEX)
    )
    if planted:
        return f"{', '.join(planted)} on them"
    meta = next((row for row in rows if row[1] == META_TABLE), None)
    if meta is None:
        return f"the ledger table {LEDGER_TABLE!r} exists but {META_TABLE!r} does not"
    if meta[0] != "table" or meta[3] != _META_SQL:
        return f"{META_TABLE} is not the table bootmigrate made"
    return ""


def _ledger_shape(rows: _Rows) -> str:
    ledger = next((row for row in rows if row[1] == LEDGER_TABLE), None)
    if ledger is None:
        return f"{META_TABLE} is there but {LEDGER_TABLE} is missing"
    if ledger[0] != "table" or ledger[3] != _LEDGER_SQL:
        return f"{LEDGER_TABLE} is not the table bootmigrate made"
    return ""


def _check_format(conn: sqlite3.Connection, name: str) -> None:
    row = conn.execute(
        f"SELECT value FROM main.{META_TABLE} WHERE key = 'ledger_format'"
    ).fetchone()
    value = row[0] if row else None
    found = int(value) if isinstance(value, str) and value.isascii() and value.isdigit() else None
    if found == LEDGER_FORMAT:
        return
    if found is not None and found > LEDGER_FORMAT:
        raise LedgerError(
            f"{name}: the ledger has format {found}, and this bootmigrate reads format "
            f"{LEDGER_FORMAT}: a newer bootmigrate wrote it",
            "upgrade bootmigrate",
        )
    raise _damaged(name, f"the ledger has an unknown format ({value!r})")


def read(conn: sqlite3.Connection, name: str = "the database") -> list[AppliedMigration]:
    """The ledger's rows, ascending by version; empty when there is no ledger yet.

    Every value is checked: a damaged row is a :class:`LedgerError` naming it, never a
    ``ValueError`` from somewhere deeper.
    """
    if not exists(conn, name):
        return []
    read_unfinished(conn, name)  # a damaged note is a damaged table
    rows = conn.execute(
        "SELECT version, name, checksum, applied_at, execution_ms, bootmigrate_version, "
        f"backward_compatible FROM main.{LEDGER_TABLE} ORDER BY version"
    ).fetchall()
    return [_applied(row, name) for row in rows]


def _applied(row: tuple[object, ...], name: str) -> AppliedMigration:
    version, label, checksum, applied_at, ms, by, compatible = row
    problem = None
    if not isinstance(version, int) or version < 1:
        problem = f"version {_shown(version)} is not a positive integer"
    elif not isinstance(label, str) or not label or len(label) > _NAME_MAX:
        problem = f"the name of version {version} is {_shown(label)}"
    elif not isinstance(checksum, str) or len(checksum) != 64:
        problem = f"the checksum of version {version} is {_shown(checksum)}"
    elif not isinstance(applied_at, str):
        problem = f"applied_at of version {version} is {_shown(applied_at)}"
    elif isinstance(ms, bool) or not isinstance(ms, (int, float)):
        problem = f"execution_ms of version {version} is {_shown(ms)}, not a number"
    elif not isinstance(by, str):
        problem = f"bootmigrate_version of version {version} is {_shown(by)}"
    elif compatible not in (0, 1):
        problem = f"backward_compatible of version {version} is {_shown(compatible)}"
    if problem is not None:
        raise _damaged(name, problem)
    return AppliedMigration(
        version,  # type: ignore[arg-type]
        label,  # type: ignore[arg-type]
        checksum,  # type: ignore[arg-type]
        applied_at,  # type: ignore[arg-type]
        float(ms),  # type: ignore[arg-type]
        by,  # type: ignore[arg-type]
        bool(compatible),
    )


def ensure(conn: sqlite3.Connection) -> None:
    """Create the runner's tables if they are missing (inside the caller's transaction)."""
    conn.execute(_LEDGER_SQL.replace("CREATE TABLE", "CREATE TABLE IF NOT EXISTS main.", 1))
    conn.execute(_META_SQL.replace("CREATE TABLE", "CREATE TABLE IF NOT EXISTS main.", 1))
    conn.execute(
        f"INSERT OR IGNORE INTO main.{META_TABLE} (key, value) "
        f"VALUES ('ledger_format', '{LEDGER_FORMAT}')"
    )


# One ledger row, in the order of AppliedMigration's fields: every writer of rows uses it.
_INSERT_ROW = (
    f"INSERT INTO main.{LEDGER_TABLE} (version, name, checksum, applied_at, execution_ms, "
    "bootmigrate_version, backward_compatible) VALUES (?, ?, ?, ?, ?, ?, ?)"
)


def record(
    conn: sqlite3.Connection,
    migration: Migration,
    execution_ms: float,
    *,
    at: str | None = None,
    finishes_step: bool = False,
) -> None:
    """Write the ledger row of an applied migration and move ``user_version`` to it.

    Rows are recorded in ascending order of version (as the planner gives them).

    *finishes_step*: the migration is a ``no-transaction`` step, whose note
    (:func:`begin_step`) this row replaces.
    """
    conn.execute(
        _INSERT_ROW,
        (
            migration.version,
            migration.name,
            migration.checksum,
            at or utc_now(),
            round(execution_ms, 3),
            __version__,
            int(migration.backward_compatible),
        ),
    )
    if finishes_step:
        unfinished = read_unfinished(conn)
        if unfinished is not None and unfinished.version == migration.version:
            clear_unfinished(conn)
    # Rows are recorded in ascending order (the planner's: nothing below the current
    # version is ever pending), so this one is the newest: no need to ask the ledger.
    conn.execute(f"PRAGMA main.user_version = {min(int(migration.version), USER_VERSION_MAX)}")


def record_squash(conn: sqlite3.Connection, squash: Squash, execution_ms: float) -> None:
    """Write the rows of a baseline a new database ran: one per migration it squashed,
    with that migration's name and checksum, as if the files had run (the baseline's
    time on the row of its own version, 0 ms on the others), and ``user_version``.

    So the ledger of a database made from a baseline reads like that of one made by the
    files: the same versions, names and checksums, in this one format.
    """
    at = utc_now()
    conn.executemany(
        _INSERT_ROW,
        [
            (
                entry.version,
                entry.name,
                entry.checksum,
                at,
                round(execution_ms, 3) if entry.version == squash.version else 0.0,
                __version__,
                int(entry.backward_compatible),
            )
            for entry in squash.squashed
        ],
    )
    conn.execute(f"PRAGMA main.user_version = {min(int(squash.version), USER_VERSION_MAX)}")


def record_rows(
    conn: sqlite3.Connection, rows: Iterable[AppliedMigration], *, user_version: int | None = None
) -> None:
    """Write ledger rows as another database holds them (the ledger of a diagnostic
    report, rebuilt for a test), then ``user_version``: *user_version* when given (a
    report can show one that disagrees with its ledger), else the newest row's. With
    no rows, only ``user_version`` is set (the ledger tables need not exist)."""
    rows = list(rows)
    if rows:
        conn.executemany(
            _INSERT_ROW,
            [
                (
                    row.version,
                    row.name,
                    row.checksum,
                    row.applied_at,
                    row.execution_ms,
                    row.bootmigrate_version,
                    int(row.backward_compatible),
                )
                for row in rows
            ],
        )
    if user_version is None:
        _mirror_user_version(conn)
    else:
        conn.execute(f"PRAGMA main.user_version = {int(user_version)}")


def is_new(conn: sqlite3.Connection) -> bool:
    """True for a new database: no ledger row and no table, index, view or trigger but
    the runner's own (which a downgrade to 0 leaves behind). Such a database starts from
    a squashed baseline when the source has one."""
    row = conn.execute(
        "SELECT 1 FROM main.sqlite_master WHERE lower(name) NOT IN (?, ?, ?) LIMIT 1",
        (*OWN_TABLES, _META_INDEX),
    ).fetchone()
    if row is not None:
        return False
    if not exists(conn):
        return True
    return conn.execute(f"SELECT 1 FROM main.{LEDGER_TABLE} LIMIT 1").fetchone() is None


def record_adopted(conn: sqlite3.Connection, migrations: Iterable[Migration]) -> None:
    """Write the rows of migrations an adopted database already had (no time: 0 ms)."""
    at = utc_now()
    for migration in migrations:
        record(conn, migration, 0.0, at=at)


def forget(conn: sqlite3.Connection, version: int, *, finishes_step: bool = False) -> None:
    """Delete the ledger row of an undone migration and move ``user_version`` back.

    *finishes_step*: the undoing was a ``no-transaction`` down file, whose note
    (:func:`begin_step`) this replaces.
    """
    conn.execute(f"DELETE FROM main.{LEDGER_TABLE} WHERE version = ?", (version,))
    if finishes_step:
        unfinished = read_unfinished(conn)
        if unfinished is not None and unfinished.version == version:
            clear_unfinished(conn)
    _mirror_user_version(conn)


def begin_step(
    conn: sqlite3.Connection,
    migration: Migration,
    orphans: frozenset[tuple[str, int | None, str, int]],
) -> UnfinishedStep:
    """Note that a ``no-transaction`` step is about to run (the caller commits the note).

    Until :func:`record` writes the step's row, the note says the step began, and what
    the database's foreign key violations were before its first attempt: a step that
    failed after it changed the database and is run again by a later boot is checked
    against the database as it was before the step, not against what it left behind.
    An earlier note of the same step is kept.
    """
    unfinished = read_unfinished(conn)
    if unfinished is not None and unfinished.version == migration.version:
        return unfinished
    import json

    value = json.dumps(
        {
            "version": migration.version,
            "name": migration.name,
            "orphans": sorted(orphans, key=lambda o: (o[0], o[1] or 0, o[2], o[3])),
        }
    )
    conn.execute(
        f"INSERT OR REPLACE INTO main.{META_TABLE} (key, value) VALUES ('{_UNFINISHED}', ?)",
        (value,),
    )
    return UnfinishedStep(migration.version, migration.name, orphans)


def read_unfinished(conn: sqlite3.Connection, name: str = "the database") -> UnfinishedStep | None:
    """The ``no-transaction`` step a run began and did not record, if any."""
    row = conn.execute(
        f"SELECT value FROM main.{META_TABLE} WHERE key = '{_UNFINISHED}'"
    ).fetchone()
    if row is None:
        return None
    import json

    try:
        data = json.loads(row[0])
        orphans = frozenset(
            (str(t), None if r is None else int(r), str(p), int(i))
            for t, r, p, i in data["orphans"]
        )
        return UnfinishedStep(int(data["version"]), str(data["name"]), orphans)
    except (TypeError, ValueError, KeyError, OverflowError, RecursionError) as exc:
        raise _damaged(name, f"the note of an unfinished step is {_shown(row[0])}") from exc


def clear_unfinished(conn: sqlite3.Connection) -> None:
    """Remove the note of an unfinished step (it failed without changing anything)."""
    conn.execute(f"DELETE FROM main.{META_TABLE} WHERE key = '{_UNFINISHED}'")


def max_version(conn: sqlite3.Connection) -> int:
    """The highest applied version, 0 when none."""
    row = conn.execute(f"SELECT MAX(version) FROM main.{LEDGER_TABLE}").fetchone()
    return int(row[0]) if row and row[0] is not None else 0


#: The largest value ``PRAGMA user_version`` holds.
USER_VERSION_MAX = 2**31 - 1


def _mirror_user_version(conn: sqlite3.Connection) -> None:
    # PRAGMA user_version takes no parameters; the value is an int from the ledger.
    conn.execute(f"PRAGMA main.user_version = {min(int(max_version(conn)), USER_VERSION_MAX)}")


def utc_now() -> str:
    """The current time in UTC as ISO-8601 with milliseconds, e.g. ``2026-01-02T03:04:05.678Z``."""
    from datetime import datetime, timezone

    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


__all__ = [
    "BOOT_PARAMETERS",
    "BOOT_QUERY",
    "LEDGER_FORMAT",
    "LEDGER_TABLE",
    "META_TABLE",
    "OWN_TABLES",
    "AppliedMigration",
    "UnfinishedStep",
    "begin_step",
    "clear_unfinished",
    "ensure",
    "exists",
    "forget",
    "is_new",
    "max_version",
    "read",
    "read_unfinished",
    "record",
    "record_adopted",
    "record_rows",
    "record_squash",
]
