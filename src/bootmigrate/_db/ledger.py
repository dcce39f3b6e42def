"""The runner's own tables in the user's database: the ledger and its format number.

``bootmigrate_ledger`` holds one row per applied migration. ``bootmigrate_meta`` holds
``ledger_format``, the layout number of these tables, so that a later bootmigrate can
upgrade them in place and an older one refuses a layout it does not know.
``PRAGMA user_version`` is kept equal to the current version for tools that read it.
Every function here takes an open connection; none commits.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime, timezone

from .._errors import LedgerError
from .._plan import AppliedMigration
from .._source.model import Migration
from .._version import __version__

LEDGER_TABLE = "bootmigrate_ledger"
META_TABLE = "bootmigrate_meta"
#: Every table bootmigrate owns; the canonical schema leaves them out.
OWN_TABLES = (LEDGER_TABLE, META_TABLE)
#: The layout these functions read and write.
LEDGER_FORMAT = 1

_CREATE = (
    f"""CREATE TABLE IF NOT EXISTS {LEDGER_TABLE} (
    version INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    checksum TEXT NOT NULL,
    applied_at TEXT NOT NULL,
    execution_ms REAL NOT NULL,
    bootmigrate_version TEXT NOT NULL,
    backward_compatible INTEGER NOT NULL DEFAULT 0
)""",
    f"CREATE TABLE IF NOT EXISTS {META_TABLE} (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    f"INSERT OR IGNORE INTO {META_TABLE} (key, value) VALUES ('ledger_format', '{LEDGER_FORMAT}')",
)


def exists(conn: sqlite3.Connection) -> bool:
    """True when the database has a ledger table."""
    row = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (LEDGER_TABLE,)
    ).fetchone()
    return row is not None


def read(conn: sqlite3.Connection) -> list[AppliedMigration]:
    """The ledger's rows, ascending by version; empty when there is no ledger yet."""
    if not exists(conn):
        return []
    _check_format(conn)
    rows = conn.execute(
        f"SELECT version, name, checksum, applied_at, execution_ms, bootmigrate_version, "
        f"backward_compatible FROM {LEDGER_TABLE} ORDER BY version"
    ).fetchall()
    return [
        AppliedMigration(int(v), str(n), str(c), str(at), float(ms), str(bv), bool(bc))
        for v, n, c, at, ms, bv, bc in rows
    ]


def _check_format(conn: sqlite3.Connection) -> None:
    try:
        row = conn.execute(f"SELECT value FROM {META_TABLE} WHERE key = 'ledger_format'").fetchone()
    except sqlite3.OperationalError as exc:
        raise LedgerError(
            f"the ledger table {LEDGER_TABLE!r} exists but {META_TABLE!r} does not ({exc}); "
            "the database was changed by hand: restore it from a backup"
        ) from exc
    found = int(row[0]) if row else None
    if found != LEDGER_FORMAT:
        raise LedgerError(
            f"the ledger has format {found}, and this bootmigrate reads format {LEDGER_FORMAT}; "
            "upgrade bootmigrate"
            if found is not None and found > LEDGER_FORMAT
            else f"the ledger has an unknown format ({found!r}); restore the database from a backup"
        )


def ensure(conn: sqlite3.Connection) -> None:
    """Create the runner's tables if they are missing (inside the caller's transaction)."""
    for statement in _CREATE:
        conn.execute(statement)


def record(conn: sqlite3.Connection, migration: Migration, execution_ms: float) -> None:
    """Write the ledger row of an applied migration and move ``user_version`` to it."""
    conn.execute(
        f"INSERT INTO {LEDGER_TABLE} (version, name, checksum, applied_at, execution_ms, "
        "bootmigrate_version, backward_compatible) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (
            migration.version,
            migration.name,
            migration.checksum,
            utc_now(),
            round(execution_ms, 3),
            __version__,
            int(migration.backward_compatible),
        ),
    )
    set_user_version(conn, max_version(conn))


def forget(conn: sqlite3.Connection, version: int) -> None:
    """Delete the ledger row of an undone migration and move ``user_version`` back."""
    conn.execute(f"DELETE FROM {LEDGER_TABLE} WHERE version = ?", (version,))
    set_user_version(conn, max_version(conn))


def max_version(conn: sqlite3.Connection) -> int:
    """The highest applied version, 0 when none."""
    row = conn.execute(f"SELECT MAX(version) FROM {LEDGER_TABLE}").fetchone()
    return int(row[0]) if row and row[0] is not None else 0


def set_user_version(conn: sqlite3.Connection, version: int) -> None:
    """Keep ``PRAGMA user_version`` equal to the current version (it takes no parameters)."""
    conn.execute(f"PRAGMA user_version = {int(version)}")


def utc_now() -> str:
    """The current time in UTC as ISO-8601 with milliseconds, e.g. ``2026-01-02T03:04:05.678Z``."""
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
