"""Files on disk for tests: write migration sets, snapshot database files.

Plain functions (no pytest import) so any test module, fixture or script can use them;
``import dbfiles`` works because tests/support is on pytest's ``pythonpath``. The fixtures
in tests/conftest.py are thin wrappers around these.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Union

#: The repository root (tests/support/dbfiles.py -> ../../).
REPO = Path(__file__).resolve().parents[2]
#: The small example set shipped with the repository.
EXAMPLE_SET = REPO / "tests" / "data" / "example_set"

FileContent = Union[str, bytes]


def make_set(
    directory: Path, files: Mapping[str, FileContent], *, subdir: str = "migrations"
) -> Path:
    """Write *files* (``{name: text or bytes}``) into ``directory/subdir`` and return it.

    ``str`` content is written as UTF-8 exactly as given (no newline translation, so
    CRLF tests get CRLF); ``bytes`` are written as they are. Calling it again with the
    same directory adds or overwrites files, which is how a test grows a set.
    """
    target = directory / subdir if subdir else directory
    target.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        data = content.encode("utf-8") if isinstance(content, str) else content
        (target / name).write_bytes(data)
    return target


@dataclass(frozen=True)
class Snapshot:
    """Everything a test may want to compare about a database file, as plain data."""

    #: ``(type, name, tbl_name, sql)`` of every sqlite_master row, sorted.
    schema: tuple[tuple[str, str, str, str | None], ...]
    #: Every ledger row as a tuple in column order, by version ([] without a ledger).
    ledger: tuple[tuple[Any, ...], ...]
    #: The ledger's column names (empty without a ledger).
    ledger_columns: tuple[str, ...]
    user_version: int
    #: ``{table: sorted rows}`` for every table, the runner's own included.
    rows: Mapping[str, tuple[tuple[Any, ...], ...]]

    @property
    def tables(self) -> tuple[str, ...]:
        """The names of the tables (not indexes, triggers or views)."""
        return tuple(name for kind, name, _, _ in self.schema if kind == "table")

    @property
    def versions(self) -> tuple[int, ...]:
        """The versions in the ledger."""
        return tuple(int(row[0]) for row in self.ledger)


def read_db(path: Path | str) -> Snapshot:
    """Reopen the database file read-only through a new connection and snapshot it.

    Read-only (``mode=ro``) so that taking a snapshot can never change what it looks at,
    and so that a missing file raises instead of being created.
    """
    uri = Path(path).resolve().as_uri() + "?mode=ro"
    conn = sqlite3.connect(uri, uri=True)
    try:
        schema = tuple(
            sorted(
                conn.execute(
                    "SELECT type, name, tbl_name, sql FROM sqlite_master "
                    "WHERE name NOT LIKE 'sqlite_autoindex%'"
                ),
                key=lambda row: (row[0], row[1]),
            )
        )
        tables = [name for kind, name, _, _ in schema if kind == "table"]
        rows = {
            table: tuple(
                sorted(
                    conn.execute(f'SELECT * FROM "{table}"').fetchall(),
                    key=repr,
                )
            )
            for table in tables
        }
        ledger: tuple[tuple[Any, ...], ...] = ()
        columns: tuple[str, ...] = ()
        if "bootmigrate_ledger" in tables:
            cursor = conn.execute("SELECT * FROM bootmigrate_ledger ORDER BY version")
            ledger = tuple(cursor.fetchall())
            columns = tuple(d[0] for d in cursor.description)
        user_version = int(conn.execute("PRAGMA user_version").fetchone()[0])
    finally:
        conn.close()
    return Snapshot(schema, ledger, columns, user_version, rows)


def file_state(path: Path) -> tuple[bytes, int]:
    """The file's bytes and modification time (ns): what 'unchanged' means for a file."""
    return path.read_bytes(), path.stat().st_mtime_ns


def numbered_set(count: int, *, start: int = 1, triggers: bool = True) -> dict[str, str]:
    """``count`` realistic migrations: tables, rows, indexes and (every 5th) a trigger.

    Migration *n* creates table ``t{n}`` with a row, and every fifth one adds an
    ``AFTER INSERT`` trigger whose body holds several ``;``-terminated statements, so
    statement splitting is exercised at scale.
    """
    files: dict[str, str] = {}
    for n in range(start, start + count):
        body = [
            f"-- migration {n}",
            f"CREATE TABLE t{n} (id INTEGER PRIMARY KEY, label TEXT NOT NULL, n INTEGER);",
            f"INSERT INTO t{n} (label, n) VALUES ('row; of {n}', {n});",
            f"CREATE INDEX t{n}_label ON t{n} (label);",
        ]
        if triggers and n % 5 == 0:
            body += [
                f"CREATE TABLE t{n}_log (id INTEGER PRIMARY KEY, what TEXT);",
                f"CREATE TRIGGER t{n}_ins AFTER INSERT ON t{n}",
                "BEGIN",
                f"    INSERT INTO t{n}_log (what) VALUES ('insert; ' || NEW.label);",
                f"    UPDATE t{n} SET n = CASE WHEN NEW.n IS NULL THEN 0 ELSE NEW.n END",
                "        WHERE id = NEW.id;",
                "END;",
            ]
        files[f"{n:04d}_table_{n}.up.sql"] = "\n".join(body) + "\n"
        files[f"{n:04d}_table_{n}.down.sql"] = f"DROP TABLE t{n};\n" + (
            f"DROP TABLE t{n}_log;\n" if triggers and n % 5 == 0 else ""
        )
    return files
