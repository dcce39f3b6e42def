"""The canonical schema of a database: what its tables, indexes, triggers and views are.

Two databases that reach the same schema by different paths (a fresh install and one
upgraded through ten releases) rarely hold the same ``sqlite_master`` text: ``ALTER TABLE
ADD COLUMN`` appends to the ``CREATE TABLE`` text, a rebuilt table is written in another
style, one author quotes identifiers and the next does not. :func:`canonical_schema`
therefore describes a database from SQLite's own catalogue (``PRAGMA table_xinfo``,
``foreign_key_list``, ``index_list``, ``index_xinfo``) and keeps SQL text only where no
pragma says more (triggers, views, virtual tables, ``CHECK`` constraints, partial-index
``WHERE`` clauses), normalised by :func:`normalize_sql` so that whitespace, comments,
identifier quoting and keyword case do not count.

Left out: ``sqlite_*`` internal tables (``sqlite_sequence``, ``sqlite_stat1``...), the
shadow tables of virtual tables (an FTS5 table's ``x_data``, ``x_idx``...), the indexes
SQLite makes for a primary key, and bootmigrate's own ledger tables. Column order is
kept: it is what ``SELECT *`` and ``INSERT INTO t VALUES`` see, so it is a difference.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from .. import _binding as binding
from .._binding import is_connection, sqlite_errors
from .._db import ledger as _ledger
from .._db.connection import DEFAULT_TIMEOUT, describe, for_reading, translated
from .._db.errors import Where
from .._errors import DatabaseUnavailable
from .._types import Connect, DatabaseLike
from .model import Column, ForeignKey, Index, Schema, SqlObject, Table
from .tokens import (
    Token,
    closing,
    first_words,
    normalize_sql,
    quote_name,
    render,
    split_items,
    tokenize,
)

# Internal tables and the shadow tables virtual table modules create ("x_data" for "x").
_SHADOW_SUFFIXES = frozenset(
    {"data", "idx", "content", "docsize", "config", "segments", "segdir", "stat"}
    | {"node", "parent", "rowid"}
)


def canonical_schema(db: DatabaseLike, *, connect: Connect | None = None) -> Schema:
    """The canonical :class:`Schema` of a database (path or open connection); read-only.

    A path is opened read-only and never created: a missing file raises
    :class:`DatabaseUnavailable`. bootmigrate's ledger tables are left out, so a
    database's schema is only what its migrations made.
    *connect* opens *db* and every copy of it the app's own way (an encrypted
    database's key, a newer SQLite): see :data:`Connect`.
    """
    with binding.using(db, connect):
        name = describe(db)
        with for_reading(db) as conn:
            if conn is None:
                raise DatabaseUnavailable(name, "the file does not exist")
            with translated(Where(name, DEFAULT_TIMEOUT, conn)):
                owned = not is_connection(db)
                if owned:
                    # One read transaction: the catalogue cannot change between pragmas.
                    conn.isolation_level = None
                    conn.execute("BEGIN")
                try:
                    return _read(conn)
                finally:
                    if owned:
                        conn.execute("ROLLBACK")


def _read(conn: sqlite3.Connection) -> Schema:
    rows = conn.execute(
        "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name"
    ).fetchall()
    virtual = {
        name: sql
        for kind, name, _, sql in rows
        if kind == "table" and sql and first_words(sql, 2) == ["CREATE", "VIRTUAL"]
    }
    skipped = set(_ledger.OWN_TABLES) | shadow_tables(conn, virtual)
    tables, indexes, triggers, views = [], [], [], []
    for kind, name, table, sql in rows:
        if name.startswith("sqlite_") or name in skipped or table in skipped:
            continue
        if kind == "table" and name not in virtual:
            tables.append(_table(conn, name, sql or ""))
        elif kind == "index" and sql:  # no sql: a primary key or UNIQUE constraint's index
            indexes.append(_index(conn, name, table, sql))
        elif kind == "trigger":
            triggers.append(SqlObject(name, table, normalize_sql(sql or "")))
        elif kind == "view":
            views.append(SqlObject(name, table, normalize_sql(sql or "")))
    return Schema(
        tables=tuple(tables),
        indexes=tuple(sorted(indexes, key=lambda i: (i.table, i.name))),
        triggers=tuple(sorted(triggers, key=lambda t: (t.table, t.name))),
        views=tuple(views),
        virtual_tables=tuple(
            SqlObject(name, name, normalize_sql(sql)) for name, sql in sorted(virtual.items())
        ),
    )


def shadow_tables(conn: sqlite3.Connection, virtual: dict[str, str]) -> set[str]:
    """Tables a virtual table module owns (SQLite 3.37+ says so; older ones are guessed)."""
    if not virtual:
        return set()
    try:
        rows = conn.execute("SELECT name FROM pragma_table_list WHERE type = 'shadow'").fetchall()
        return {str(row[0]) for row in rows}
    except sqlite_errors.OperationalError:
        names = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
        return {
            str(n)
            for (n,) in names
            if any(
                str(n).startswith(v + "_") and str(n)[len(v) + 1 :] in _SHADOW_SUFFIXES
                for v in virtual
            )
        }


_HIDDEN = {0: None, 1: "hidden", 2: "virtual", 3: "stored"}
_GENERATED_KINDS = {"virtual", "stored"}


def _table(conn: sqlite3.Connection, name: str, sql: str) -> Table:
    definition = _Definition(sql)
    columns = []
    for _cid, col, type_, notnull, default, pk, hidden in conn.execute(
        'SELECT cid, name, type, "notnull", dflt_value, pk, hidden '
        "FROM pragma_table_xinfo(?) ORDER BY cid",
        (name,),
    ):
        kind = _HIDDEN.get(int(hidden), f"hidden {hidden}")
        key = str(col).lower()
        columns.append(
            Column(
                name=str(col),
                type=normalize_sql(str(type_ or "")).upper(),
                not_null=bool(notnull),
                default=normalize_sql(str(default)) if default is not None else None,
                primary_key=int(pk),
                collate=definition.collations.get(key),
                hidden=kind,
                generated=definition.generated.get(key) if kind in _GENERATED_KINDS else None,
            )
        )
    return Table(
        name=name,
        columns=tuple(columns),
        foreign_keys=_foreign_keys(conn, name),
        unique=_unique_constraints(conn, name),
        checks=tuple(sorted(definition.checks)),
        without_rowid=definition.without_rowid,
        strict=definition.strict,
        autoincrement=definition.autoincrement,
    )


def _foreign_keys(conn: sqlite3.Connection, table: str) -> tuple[ForeignKey, ...]:
    groups: dict[int, list[tuple[Any, ...]]] = {}
    for row in conn.execute(
        'SELECT id, seq, "table", "from", "to", on_update, on_delete, match '
        "FROM pragma_foreign_key_list(?) ORDER BY id, seq",
        (table,),
    ):
        groups.setdefault(int(row[0]), []).append(row)
    keys = [
        ForeignKey(
            columns=tuple(str(r[3]) for r in rows),
            table=str(rows[0][2]),
            references=tuple(None if r[4] is None else str(r[4]) for r in rows),
            on_update=str(rows[0][5]),
            on_delete=str(rows[0][6]),
            match=str(rows[0][7]),
        )
        for rows in groups.values()
    ]
    # SQLite numbers foreign keys in reverse order of declaration; the order means nothing.
    return tuple(sorted(keys, key=ForeignKey.to_text))


def _unique_constraints(conn: sqlite3.Connection, table: str) -> tuple[tuple[str, ...], ...]:
    found = []
    for _seq, index, _unique, origin, _partial in conn.execute(
        'SELECT seq, name, "unique", origin, partial FROM pragma_index_list(?)', (table,)
    ):
        if origin == "u":
            found.append(tuple(name for name, _ in _index_columns(conn, str(index))))
    return tuple(sorted(found))


def _index_columns(conn: sqlite3.Connection, index: str) -> list[tuple[str, tuple[Any, ...]]]:
    """(column name or ``""`` for an expression, the index_xinfo row) of each key column."""
    rows = conn.execute(
        'SELECT seqno, cid, name, "desc", coll, "key" FROM pragma_index_xinfo(?) '
        'WHERE "key" = 1 ORDER BY seqno',
        (index,),
    ).fetchall()
    return [("" if row[2] is None else str(row[2]), tuple(row)) for row in rows]


def _index(conn: sqlite3.Connection, name: str, table: str, sql: str) -> Index:
    written, where = _index_parts(sql)
    unique = first_words(sql, 2) == ["CREATE", "UNIQUE"]
    columns = []
    for position, (column, row) in enumerate(_index_columns(conn, name)):
        if not column:  # an expression: only the SQL text says what it is
            columns.append(written[position] if position < len(written) else "<expression>")
            continue
        text = quote_name(column)
        collation = str(row[4])
        if collation.upper() != "BINARY":
            text += f" COLLATE {collation}"
        if row[3]:
            text += " DESC"
        columns.append(text)
    return Index(name, table, tuple(columns), unique, where)


def _index_parts(sql: str) -> tuple[list[str], str | None]:
    """The key expressions of ``CREATE INDEX ... ON t (...)`` and its WHERE clause."""
    tokens = tokenize(sql)
    try:
        start = tokens.index(Token("op", "("))
    except ValueError:
        return [], None
    items, end = split_items(tokens, start)
    rest = tokens[end + 1 :]
    while rest and rest[-1] == Token("op", ";"):
        rest.pop()
    where = render(rest[1:]) if rest and rest[0] == Token("word", "WHERE") else None
    return [render(item) for item in items], where


class _Definition:
    """What only a ``CREATE TABLE`` text says: collations, CHECKs, generated expressions,
    AUTOINCREMENT, WITHOUT ROWID, STRICT."""

    def __init__(self, sql: str) -> None:
        self.collations: dict[str, str] = {}
        self.generated: dict[str, str] = {}
        self.checks: list[str] = []
        self.autoincrement = self.without_rowid = self.strict = False
        tokens = tokenize(sql)
        try:
            start = tokens.index(Token("op", "("))
        except ValueError:
            return  # CREATE TABLE ... AS SELECT: columns only
        if Token("word", "AS") in tokens[:start]:
            return
        items, end = split_items(tokens, start)
        options = {t.text.upper() for t in tokens[end + 1 :]}
        self.without_rowid = "ROWID" in options
        self.strict = "STRICT" in options
        for item in items:
            self._item(item)

    def _item(self, item: list[Token]) -> None:
        first = item[0]
        is_constraint = first.kind == "word" and first.text in (
            "CONSTRAINT",
            "PRIMARY",
            "UNIQUE",
            "CHECK",
            "FOREIGN",
        )
        column = None if is_constraint else first.text.lower()
        position = 0 if is_constraint else 1
        while position < len(item):
            token = item[position]
            following = item[position + 1] if position + 1 < len(item) else None
            if token == Token("word", "AUTOINCREMENT"):
                self.autoincrement = True
            elif column and token == Token("word", "COLLATE") and following:
                self.collations[column] = following.text.upper()
                position += 1
            elif token in (Token("word", "CHECK"), Token("word", "AS")) and following == Token(
                "op", "("
            ):
                close = closing(item, position + 1)
                expression = render(item[position + 1 : close + 1])
                if token.text == "CHECK":
                    self.checks.append(f"CHECK {expression}")
                elif column:
                    self.generated[column] = expression
                position = close
            elif token.kind == "op" and token.text == "(":
                position = closing(item, position)  # DEFAULT (...), REFERENCES t (...)
            position += 1
