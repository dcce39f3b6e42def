"""A database as SQL that builds it again: schema and rows, for a squashed baseline.

:func:`dump` reads a database (a new one, migrated from empty by the files) and writes
statements that, run on an empty database inside one transaction, give the same
canonical schema and the same rows: ``PRAGMA application_id`` when a migration set it,
the tables (``sqlite_master``'s own text), virtual tables and the rows of their shadow
tables, every table's rows (with their rowids), the ``AUTOINCREMENT`` counters, then the
indexes, views and triggers (after the rows, so no trigger fires while they load).

The output is deterministic: objects and rows in a fixed order, values spelled one way,
so the same files give the same bytes. ``PRAGMA user_version`` is left out: the runner
keeps it equal to the ledger's version. bootmigrate's own tables are left out.
"""

from __future__ import annotations

import math
import sqlite3

from .._binding import sqlite_errors
from .._db.ledger import OWN_TABLES
from .read import shadow_tables
from .tokens import first_words, quote_name

# SQLite's internal tables that hold rows a database needs (the others, such as
# sqlite_stat1, are statistics: see _refuse_internal).
_SEQUENCE = "sqlite_sequence"


def dump(conn: sqlite3.Connection) -> list[str]:
    """The statements that rebuild the database of *conn*, each ending in ``;``."""
    rows = conn.execute(
        "SELECT type, name, tbl_name, sql FROM main.sqlite_master ORDER BY rowid"
    ).fetchall()
    own = {name.lower() for name in OWN_TABLES}
    shadow = shadow_tables(
        conn,
        {
            name: sql
            for kind, name, _, sql in rows
            if kind == "table" and sql and first_words(sql, 2) == ["CREATE", "VIRTUAL"]
        },
    )
    tables, virtual, indexes, views, triggers = [], [], [], [], []
    for kind, name, table, sql in rows:
        if name.lower() in own or table.lower() in own or sql is None:
            continue  # an automatic index, or bootmigrate's own
        if name.startswith("sqlite_") or name in shadow:
            continue
        if kind == "table" and first_words(sql, 2) == ["CREATE", "VIRTUAL"]:
            virtual.append((name, sql))
        elif kind == "table":
            tables.append((name, sql))
        elif kind == "index":
            indexes.append((name, sql))
        elif kind == "view":
            views.append(sql)  # creation order: a view may read an earlier view
        elif kind == "trigger":
            triggers.append((name, sql))
    out: list[str] = []
    application_id = int(conn.execute("PRAGMA main.application_id").fetchone()[0])
    if application_id:
        out.append(f"PRAGMA application_id = {application_id};")
    out += [_statement(sql) for _, sql in sorted(tables)]
    out += [_statement(sql) for _, sql in sorted(virtual)]
    for name, _ in sorted(tables):
        out += _inserts(conn, name)
    for name in sorted(shadow):
        # What CREATE VIRTUAL TABLE wrote into them is replaced by what they held.
        out.append(f"DELETE FROM {quote_name(name)};")
        out += _inserts(conn, name)
    if conn.execute(f"SELECT 1 FROM main.sqlite_master WHERE name = '{_SEQUENCE}'").fetchone():
        out.append(f"DELETE FROM {_SEQUENCE};")
        for name, seq in conn.execute(f"SELECT name, seq FROM {_SEQUENCE} ORDER BY name, seq"):
            out.append(
                f"INSERT INTO {_SEQUENCE} (name, seq) VALUES ({literal(name)}, {literal(seq)});"
            )
    out += [_statement(sql) for _, sql in sorted(indexes)]
    out += [_statement(sql) for sql in views]
    out += [_statement(sql) for _, sql in sorted(triggers)]
    return out


def internal_tables(conn: sqlite3.Connection) -> list[str]:
    """SQLite's internal tables a baseline cannot rebuild (``sqlite_stat1`` and the
    other statistics ``ANALYZE`` writes)."""
    return [
        str(name)
        for (name,) in conn.execute(
            "SELECT name FROM main.sqlite_master WHERE type = 'table' "
            "AND name LIKE 'sqlite\\_%' ESCAPE '\\' AND name != ? ORDER BY name",
            (_SEQUENCE,),
        )
    ]


def _statement(sql: str) -> str:
    return sql.rstrip().rstrip(";") + ";"


def _inserts(conn: sqlite3.Connection, table: str) -> list[str]:
    """``INSERT`` statements for every row of *table*, in rowid (or primary key) order,
    with the rowid when the table has one that no column name hides."""
    quoted = quote_name(table)
    columns = [
        str(name)
        for name, hidden in conn.execute(
            "SELECT name, hidden FROM pragma_table_xinfo(?) ORDER BY cid", (table,)
        )
        if int(hidden) == 0  # generated columns cannot be written
    ]
    lowered = {c.lower() for c in columns}
    keys = conn.execute(
        "SELECT upper(type) FROM pragma_table_info(?) WHERE pk > 0", (table,)
    ).fetchall()
    # An INTEGER PRIMARY KEY is the rowid itself (in a table with a rowid).
    alias = keys == [("INTEGER",)] and _readable(conn, f"SELECT rowid FROM {quoted} LIMIT 0")
    rowid = (
        None
        if alias
        else next(
            (
                alias
                for alias in ("rowid", "_rowid_", "oid")
                if alias not in lowered and _readable(conn, f"SELECT {alias} FROM {quoted} LIMIT 0")
            ),
            None,
        )
    )
    selected = ([rowid] if rowid else []) + [quote_name(c) for c in columns]
    if not selected:
        return []
    names = ", ".join(selected)
    order = f" ORDER BY {rowid}" if rowid else " ORDER BY rowid" if alias else ""
    statements = []
    for row in conn.execute(f"SELECT {names} FROM {quoted}{order}"):
        values = ", ".join(map(literal, row))
        statements.append(f"INSERT INTO {quoted} ({names}) VALUES ({values});")
    # Without a rowid (WITHOUT ROWID) the scan is in primary key order: stable too.
    return statements


def _readable(conn: sqlite3.Connection, sql: str) -> bool:
    """True when *sql* prepares (a table without a rowid has no ``rowid`` to select)."""
    try:
        conn.execute(sql).fetchall()
    except sqlite_errors.OperationalError:
        return False
    return True


def literal(value: object) -> str:
    """*value* as an SQL literal that reads back as the same value and storage class.

    Text that the file's normalisation or SQLite's parser would change (a carriage
    return, a NUL, a lone surrogate) is written as its UTF-8 bytes cast to text.
    """
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isinf(value):
            return "1e999" if value > 0 else "-1e999"
        return repr(value)
    if isinstance(value, bytes):
        return f"X'{value.hex().upper()}'"
    text = str(value)
    if "\r" in text or "\x00" in text or "\ufeff" in text or not _encodable(text):
        data = text.encode("utf-8", "surrogatepass")
        return f"CAST(X'{data.hex().upper()}' AS TEXT)"
    return "'" + text.replace("'", "''") + "'"


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
