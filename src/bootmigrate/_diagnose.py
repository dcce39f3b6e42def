"""A privacy-safe diagnostic report of one database, for a bug report or telemetry.

:func:`diagnose` gathers what a developer needs to see a user's database without seeing
the user's data: the ledger, the canonical schema with its literal values blanked, per
table the row count and per column how many values of each storage class, the file's
format (page size, journal mode, encoding), the SQLite, Python and bootmigrate in use,
the doctor's findings, and for a failed run where it failed. No row value, no literal of
the schema, no statement text and no path but the database's own file name is in it.
"""

from __future__ import annotations

import os
import re
import sqlite3
import sys
from typing import Any

from . import _binding as binding
from ._binding import sqlite_errors
from ._db import ledger
from ._db.connection import DEFAULT_TIMEOUT, check_timeout, open_read_only
from ._errors import MigrationError, UsageError
from ._types import Connect, SourceLike
from ._version import __version__

#: The layout of :func:`diagnose`'s report; a reader checks it before the other keys.
REPORT_FORMAT = 1

# String and blob literals (SQLite's quoting: '' inside a string), in schema text: a
# column's DEFAULT, a CHECK, a view or trigger may hold a value that is the user's.
_LITERAL = re.compile(r"[xX]?'(?:[^']|'')*'")
_STORAGE_CLASSES = ("null", "integer", "real", "text", "blob")


def diagnose(
    db: str | os.PathLike[str],
    source: SourceLike,
    *,
    error: BaseException | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    connect: Connect | None = None,
) -> dict[str, Any]:
    """A JSON-serialisable report of the database file *db* against the app's
    migrations, that holds none of the user's data; never writes to the file.

    Keys (``report_format`` 1): ``database`` (the file name only), ``versions``
    (bootmigrate, Python, SQLite, the platform), ``sqlite_compile_options``, ``file``
    (page size and count, free pages, journal mode, encoding, ``user_version``,
    ``application_id``; ``None`` when the file is missing or unreadable), ``ledger``
    (version, name, checksum, applied_at, backward_compatible of each row),
    ``schema`` (the canonical schema's lines, string and blob literals shown as
    ``'?'``), ``tables`` (per table ``rows`` and, per column, how many values of each
    storage class), ``findings`` (what :func:`bootmigrate.doctor` found: code and
    severity; their messages can quote schema text, so they are left out) and
    ``error`` (for *error*, a :class:`MigrationError` of a failed run: its class,
    file, statement number and line; never its message, which may quote SQL).
    *connect* opens *db* and every copy of it the app's own way (an encrypted
    database's key, a newer SQLite): see :data:`Connect`.
    """
    with binding.using(db, connect):
        if not isinstance(db, (str, os.PathLike)):
            raise UsageError(f"diagnose reads a database file: give its path, not {db!r}")
        timeout = check_timeout(timeout)
        from ._apply import floor
        from ._doctor import doctor, readable

        name = os.fspath(db)
        health = doctor(name, source, timeout=timeout)
        version, options = floor.running_sqlite(name)
        report: dict[str, Any] = {
            "report_format": REPORT_FORMAT,
            "database": os.path.basename(name),
            "versions": {
                "bootmigrate": __version__,
                "python": ".".join(map(str, sys.version_info[:3])),
                "sqlite": ".".join(map(str, version)),
                "platform": sys.platform,
            },
            "sqlite_compile_options": sorted(options),
            "file": None,
            "ledger": [],
            "schema": [],
            "tables": {},
            "findings": [{"code": f.code, "severity": f.severity} for f in health.findings],
            "error": _error(error),
        }
        if os.path.isfile(name):
            try:
                with readable(name) as path:
                    conn = open_read_only(path, timeout)
                    try:
                        report.update(contents(conn, name))
                    finally:
                        conn.close()
            except MigrationError:
                pass  # the doctor's findings say why the file could not be read
            except sqlite_errors.Error:
                pass  # as above
        return report


def _error(error: BaseException | None) -> dict[str, Any] | None:
    if error is None:
        return None
    found: dict[str, Any] = {"class": type(error).__name__}
    for key in ("filename", "statement", "line"):
        value = getattr(error, key, None)
        if isinstance(value, (str, int)) and not isinstance(value, bool):
            # A migration's file name, never a path: sources name files by their name.
            found["file" if key == "filename" else key] = (
                os.path.basename(value) if isinstance(value, str) else value
            )
    return found


def blank_literals(line: str) -> str:
    """A line of schema text with its string and blob literals shown as ``'?'``."""
    return _LITERAL.sub("'?'", line)


def contents(conn: sqlite3.Connection, name: str) -> dict[str, Any]:
    """The report's ``file``, ``ledger``, ``schema`` and ``tables`` of the database
    open on *conn* (named *name* in messages)."""
    from ._schema.read import canonical_schema

    def pragma(key: str) -> Any:
        row = conn.execute(f"PRAGMA main.{key}").fetchone()
        return row[0] if row else None

    file = {
        key: pragma(key)
        for key in (
            "page_size",
            "page_count",
            "freelist_count",
            "journal_mode",
            "encoding",
            "user_version",
            "application_id",
        )
    }
    rows = ledger.read(conn, name) if ledger.exists(conn, name) else []
    applied = [
        {
            "version": row.version,
            "name": row.name,
            "checksum": row.checksum,
            "applied_at": row.applied_at,
            "backward_compatible": row.backward_compatible,
        }
        for row in rows
    ]
    schema = canonical_schema(conn)
    lines = [blank_literals(line) for line in schema.to_text().splitlines()]
    return {
        "file": file,
        "ledger": applied,
        "schema": lines,
        "tables": {table.name: _table(conn, table.name) for table in schema.tables},
    }


def _table(conn: sqlite3.Connection, table: str) -> dict[str, Any]:
    """Row count and, per column, the count of each storage class: what synthetic rows
    need to look like the user's, without one of their values."""
    quoted = '"' + table.replace('"', '""') + '"'
    count = conn.execute(f"SELECT count(*) FROM main.{quoted}").fetchone()[0]
    columns: dict[str, dict[str, int]] = {}
    for row in conn.execute(f"SELECT name FROM pragma_table_info({_text(table)})"):
        column = '"' + str(row[0]).replace('"', '""') + '"'
        classes = dict.fromkeys(_STORAGE_CLASSES, 0)
        for kind, number in conn.execute(
            f"SELECT typeof({column}), count(*) FROM main.{quoted} GROUP BY 1"
        ):
            classes[str(kind)] = int(number)
        columns[str(row[0])] = classes
    return {"rows": int(count), "columns": columns}


def _text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"
