"""Running one migration script inside the runner's transaction, fast and traceably.

Statements run one at a time (``executescript()`` would commit the runner's transaction
first), except that on Python 3.12+ with ``autocommit=True`` a big script runs in one
``executescript()`` call inside a savepoint. Either way a failure names the file, the
statement number and its line.
"""

from __future__ import annotations

import sqlite3
import sys

from .._db.connection import Database, environmental
from .._errors import ApplyError, StatementError
from .._source import text as _sqltext
from .._source.model import Script


def execute_script(database: Database, script: Script) -> None:
    """Run a script's statements one at a time, so a failure names its statement and line.

    ``executescript()`` commits any open transaction first, except on Python 3.12+ with
    ``autocommit=True``: there a big script runs whole (see :func:`_run_whole`).

    This is :func:`bootmigrate._sqltext.split` fused with execution, the hot loop of a
    big data migration: it makes no ``Statement`` objects and counts no lines (an empty
    statement, ``;`` alone, is a no-op for SQLite). Only when a statement fails is the
    text up to it split again, to name the statement and its line as ``split`` does.
    """
    if (
        sys.version_info >= (3, 12)
        and len(script.text) >= _WHOLE_SCRIPT_CHARS
        and _run_whole(database, script)
    ):
        return
    execute = database.execute
    complete = sqlite3.complete_statement
    leading = _sqltext.LEADING.match
    text = script.text
    find = text.find
    start = pos = 0
    try:
        while True:
            semi = find(";", pos)
            if semi < 0:
                break
            pos = semi + 1
            chunk = text[start:pos]
            if complete(chunk):  # else the ';' is inside a string, comment or trigger
                sql = chunk.lstrip()
                if sql.startswith(("--", "/*")):
                    sql = text[leading(text, start, pos).end() : pos]  # type: ignore[union-attr]
                execute(sql)
                start = pos
        pos = len(text)
        first = leading(text, start).end()  # type: ignore[union-attr]
        if first < pos:
            execute(text[first:])  # a last statement without ';'
    except sqlite3.Error as exc:
        problem = environmental(exc, database.name, database.timeout)
        if problem is not None:
            raise problem from exc
        done = _sqltext.split(text[:pos])  # the failed statement is the last one
        failed = done[-1] if done else _sqltext.Statement(1, 1, text[:pos].strip())
        raise StatementError(
            script.filename, failed.number, failed.line, str(exc), failed.sql
        ) from exc


# Below this size the per-statement loop costs next to nothing; above it, about 20% of a
# data migration's time, which one executescript() call saves.
_WHOLE_SCRIPT_CHARS = 1 << 20
# A failure can end the whole transaction only through ROLLBACK conflict handling
# (INSERT OR ROLLBACK, ON CONFLICT ROLLBACK, RAISE(ROLLBACK) in a trigger): then a failed
# statement could not be located by running the script again, so such scripts and
# schemas keep the per-statement loop.
_SCHEMA_ROLLBACK = (
    "SELECT 1 FROM sqlite_master WHERE sql LIKE '%rollback%' "
    "UNION ALL SELECT 1 FROM sqlite_temp_master WHERE sql LIKE '%rollback%' LIMIT 1"
)


def _run_whole(database: Database, script: Script) -> bool:
    """Run the whole script in one ``executescript()`` call; False if it must go per statement.

    Only inside the runner's transaction on a connection with ``autocommit=True`` (Python
    3.12+), where ``executescript()`` does not commit. The script runs in a savepoint:
    when a statement fails, the savepoint is rolled back and the caller runs the script
    again one statement at a time, which names the statement and its line (a script
    that fails once fails again at the same statement, as nothing else changed).
    """
    conn = database.conn
    if not conn.in_transaction or getattr(conn, "autocommit", None) is not True:
        return False
    if "rollback" in script.text.lower() or conn.execute(_SCHEMA_ROLLBACK).fetchone():
        return False
    conn.execute("SAVEPOINT bootmigrate_script")
    try:
        conn.executescript(script.text)
    except sqlite3.Error as exc:
        problem = environmental(exc, database.name, database.timeout)
        if problem is not None:
            raise problem from exc
        if not conn.in_transaction:  # interrupted: SQLite ended the transaction
            raise ApplyError(
                f"{script.filename!r}: {exc}; the transaction was rolled back, so the "
                "database is unchanged"
            ) from exc
        conn.execute("ROLLBACK TO bootmigrate_script")
        conn.execute("RELEASE bootmigrate_script")
        return False
    conn.execute("RELEASE bootmigrate_script")
    return True
