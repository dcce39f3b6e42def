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

import dataclasses
import difflib
import os
import re
import sqlite3
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .._apply.runner import migrate
from .._db import ledger as _ledger
from .._db.connection import DatabaseLike, describe, for_reading, translated
from .._errors import DatabaseUnavailable
from .._source.locate import SourceLike, load

# SQLite's keywords (https://sqlite.org/lang_keywords.html); they are upper-cased when
# normalising, since SQL keywords and identifiers are both case-insensitive.
# NEW and OLD, the trigger pseudo-tables, are not keywords but are treated alike.
_KEYWORD_LIST = """ABORT ACTION ADD AFTER ALL ALTER ALWAYS ANALYZE AND AS ASC ATTACH
    AUTOINCREMENT BEFORE BEGIN BETWEEN BY CASCADE CASE CAST CHECK COLLATE COLUMN COMMIT
    CONFLICT CONSTRAINT CREATE
    CROSS CURRENT CURRENT_DATE CURRENT_TIME CURRENT_TIMESTAMP DATABASE DEFAULT DEFERRABLE
    DEFERRED DELETE DESC DETACH DISTINCT DO DROP EACH ELSE END ESCAPE EXCEPT EXCLUDE EXCLUSIVE
    EXISTS EXPLAIN FAIL FILTER FIRST FOLLOWING FOR FOREIGN FROM FULL GENERATED GLOB GROUP GROUPS
    HAVING IF IGNORE IMMEDIATE IN INDEX INDEXED INITIALLY INNER INSERT INSTEAD INTERSECT INTO IS
    ISNULL JOIN KEY LAST LEFT LIKE LIMIT MATCH MATERIALIZED NATURAL NEW NO NOT NOTHING NOTNULL NULL
    NULLS OF OFFSET OLD ON OR ORDER OTHERS OUTER OVER PARTITION PLAN PRAGMA PRECEDING PRIMARY QUERY
    RAISE RANGE RECURSIVE REFERENCES REGEXP REINDEX RELEASE RENAME REPLACE RESTRICT RETURNING
    RIGHT ROLLBACK ROW ROWS SAVEPOINT SELECT SET TABLE TEMP TEMPORARY THEN TIES TO TRANSACTION
    TRIGGER UNBOUNDED UNION UNIQUE UPDATE USING VACUUM VALUES VIEW VIRTUAL WHEN WHERE WINDOW
    WITH WITHOUT"""
_KEYWORDS = frozenset(_KEYWORD_LIST.split())

_TOKEN = re.compile(
    r"""
    (?P<space>\s+|--[^\n]*|/\*.*?(?:\*/|\Z))
    | (?P<blob>[xX]'[^']*')
    | (?P<string>'(?:[^']|'')*'?)
    | (?P<quoted>"(?:[^"]|"")*"?|`(?:[^`]|``)*`?|\[[^\]]*\]?)
    | (?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|0[xX][0-9A-Fa-f]+)
    | (?P<word>[A-Za-z_\u0080-\uffff][A-Za-z0-9_$\u0080-\uffff]*)
    | (?P<op>\|\||<=|>=|==|!=|<>|<<|>>|->>|->|.)
    """,
    re.VERBOSE | re.DOTALL,
)
_PLAIN_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

# Internal tables and the shadow tables virtual table modules create ("x_data" for "x").
_SHADOW_SUFFIXES = frozenset(
    {"data", "idx", "content", "docsize", "config", "segments", "segdir", "stat"}
    | {"node", "parent", "rowid"}
)


@dataclass(frozen=True)
class _Token:
    kind: str  # "word" (keyword or identifier), "name" (identifier), "literal", "op"
    text: str


def _tokens(sql: str) -> list[_Token]:
    """SQL as tokens, with comments and whitespace gone and identifiers unquoted."""
    tokens: list[_Token] = []
    for match in _TOKEN.finditer(sql):
        kind = match.lastgroup
        text = match.group()
        if kind == "space":
            continue
        if kind in ("quoted", "word"):
            name = _unquote(text) if kind == "quoted" else text
            # A name that spells a keyword is the keyword's case-insensitive twin:
            # "order", ORDER and order all become ORDER.
            upper = name.upper()
            tokens.append(_Token("word", upper) if upper in _KEYWORDS else _Token("name", name))
        elif kind in ("string", "number", "blob"):
            tokens.append(_Token("literal", text.upper() if kind == "blob" else text))
        else:
            tokens.append(_Token("op", text))
    return tokens


def _unquote(text: str) -> str:
    if text[0] == "[":
        return text[1:].rstrip("]")
    quote = text[0]
    inner = text[1:-1] if len(text) > 1 and text[-1] == quote else text[1:]
    return inner.replace(quote * 2, quote)


def quote_name(name: str) -> str:
    """*name* as SQL: bare when it is a plain identifier, else in double quotes."""
    if _PLAIN_NAME.fullmatch(name) and name.upper() not in _KEYWORDS:
        return name
    return '"' + name.replace('"', '""') + '"'


def _render(tokens: list[_Token]) -> str:
    """Tokens as text, spaced by a fixed rule (so input spacing does not matter)."""
    out: list[str] = []
    previous: _Token | None = None
    for token in tokens:
        text = quote_name(token.text) if token.kind == "name" else token.text
        if previous is not None and _spaced(previous, token):
            out.append(" ")
        out.append(text)
        previous = token
    return "".join(out)


def _spaced(previous: _Token, token: _Token) -> bool:
    if "." in (previous.text, token.text) and "literal" in (previous.kind, token.kind):
        return True  # "1 . 5" must not become the number "1.5"
    if token.kind == "op" and token.text in (")", ",", ";", "."):
        return False
    if previous.kind == "op" and previous.text in ("(", "."):
        return False
    # f(x), t(a): no space after a name; IN (1, 2), AS (...): a space after a keyword.
    return not (token.kind == "op" and token.text == "(" and previous.kind == "name")


def normalize_sql(sql: str) -> str:
    """SQL text with whitespace, comments, identifier quoting, keyword case and a trailing
    ``;`` normalised, so two texts that differ only in those compare equal.

    String literals are kept exactly; identifiers keep their case (except ones spelled
    like a keyword), because a reader of a diff wants to see the names as written.
    """
    tokens = _tokens(sql)
    while tokens and tokens[-1] == _Token("op", ";"):
        tokens.pop()
    return _render(tokens)


# -- the structure ------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """One column as ``PRAGMA table_xinfo`` and the table's definition describe it."""

    name: str
    type: str
    not_null: bool
    default: str | None
    #: Position in the primary key (1-based), 0 when not part of it.
    primary_key: int
    collate: str | None = None
    #: ``"virtual"`` or ``"stored"`` for a generated column, ``"hidden"`` for a hidden one.
    hidden: str | None = None
    generated: str | None = None

    def to_text(self, composite_key: bool) -> str:
        """``name TYPE NOT NULL DEFAULT ...``: one line of :meth:`Schema.to_text`."""
        parts = [quote_name(self.name), self.type or "(no type)"]
        if self.primary_key:
            parts.append(f"PRIMARY KEY #{self.primary_key}" if composite_key else "PRIMARY KEY")
        if self.not_null:
            parts.append("NOT NULL")
        if self.default is not None:
            parts.append(f"DEFAULT {self.default}")
        if self.collate:
            parts.append(f"COLLATE {self.collate}")
        if self.generated is not None:
            parts.append(f"GENERATED ALWAYS AS {self.generated}")
        if self.hidden:
            parts.append(self.hidden.upper())
        return " ".join(parts)


@dataclass(frozen=True)
class ForeignKey:
    """A foreign key: child columns, parent table and columns, actions."""

    columns: tuple[str, ...]
    table: str
    references: tuple[str | None, ...]
    on_update: str
    on_delete: str
    match: str

    def to_text(self) -> str:
        """``FOREIGN KEY (a) REFERENCES t (b) ON DELETE CASCADE``."""
        parent = quote_name(self.table)
        if any(name is not None for name in self.references):
            parent += " (" + ", ".join(quote_name(n or "?") for n in self.references) + ")"
        text = f"FOREIGN KEY ({', '.join(map(quote_name, self.columns))}) REFERENCES {parent}"
        for event, action in (("UPDATE", self.on_update), ("DELETE", self.on_delete)):
            if action != "NO ACTION":
                text += f" ON {event} {action}"
        if self.match != "NONE":
            text += f" MATCH {self.match}"
        return text


@dataclass(frozen=True)
class Table:
    """A table: columns in order, keys, constraints and storage options."""

    name: str
    columns: tuple[Column, ...]
    foreign_keys: tuple[ForeignKey, ...] = ()
    #: Column lists of ``UNIQUE`` constraints (their automatic indexes), sorted.
    unique: tuple[tuple[str, ...], ...] = ()
    #: ``CHECK (...)`` constraints, normalised and sorted.
    checks: tuple[str, ...] = ()
    without_rowid: bool = False
    strict: bool = False
    autoincrement: bool = False

    def lines(self) -> list[str]:
        """This table's lines of :meth:`Schema.to_text`."""
        options = [
            word
            for word, on in (
                ("WITHOUT ROWID", self.without_rowid),
                ("STRICT", self.strict),
                ("AUTOINCREMENT", self.autoincrement),
            )
            if on
        ]
        head = f"table {quote_name(self.name)}"
        lines = [head + (f" ({', '.join(options)})" if options else "")]
        composite = sum(1 for c in self.columns if c.primary_key) > 1
        lines += [f"  column {c.to_text(composite)}" for c in self.columns]
        lines += [f"  {fk.to_text()}" for fk in self.foreign_keys]
        lines += [f"  UNIQUE ({', '.join(map(quote_name, u))})" for u in self.unique]
        lines += [f"  {check}" for check in self.checks]
        return lines


@dataclass(frozen=True)
class Index:
    """An index made by ``CREATE INDEX``: table, key columns or expressions, partial WHERE."""

    name: str
    table: str
    columns: tuple[str, ...]
    unique: bool
    where: str | None = None

    def to_text(self) -> str:
        """``UNIQUE INDEX name ON table (a, b DESC) WHERE ...``."""
        text = (
            f"{'unique index' if self.unique else 'index'} {quote_name(self.name)} "
            f"ON {quote_name(self.table)} ({', '.join(self.columns)})"
        )
        return text + (f" WHERE {self.where}" if self.where else "")


@dataclass(frozen=True)
class SqlObject:
    """A trigger, view or virtual table: its name, table, and normalised SQL."""

    name: str
    table: str
    sql: str


@dataclass(frozen=True)
class Schema:
    """The canonical schema of a database; ``==`` compares schemas, not SQL text.

    Build it with :func:`canonical_schema`; show it with :meth:`to_text` (one line per
    column, key, index, trigger...) or :meth:`to_dict` (JSON-ready); compare two with
    :func:`schema_diff`.
    """

    tables: tuple[Table, ...] = ()
    indexes: tuple[Index, ...] = ()
    triggers: tuple[SqlObject, ...] = ()
    views: tuple[SqlObject, ...] = ()
    virtual_tables: tuple[SqlObject, ...] = ()

    def to_text(self) -> str:
        """The schema as deterministic text, one line per item, ending in a newline."""
        lines: list[str] = []
        for table in self.tables:
            lines += table.lines()
        lines += [index.to_text() for index in self.indexes]
        lines += [f"virtual table {quote_name(v.name)}: {v.sql}" for v in self.virtual_tables]
        lines += [f"view {quote_name(v.name)}: {v.sql}" for v in self.views]
        lines += [
            f"trigger {quote_name(t.name)} ON {quote_name(t.table)}: {t.sql}" for t in self.triggers
        ]
        return "".join(line + "\n" for line in lines)

    def to_dict(self) -> dict[str, Any]:
        """The schema as plain dicts and lists (for ``json.dumps``)."""
        return dataclasses.asdict(self)

    def __str__(self) -> str:
        return self.to_text()


def schema_diff(
    expected: Schema | str,
    actual: Schema | str,
    *,
    expected_label: str = "expected",
    actual_label: str = "actual",
) -> str:
    """A unified diff of two schemas' texts (``-`` expected, ``+`` actual); ``""`` if equal.

    Either side may be a :class:`Schema` or its :meth:`Schema.to_text` (e.g. read from a
    committed ``schema.sql`` with :func:`read_snapshot`).
    """
    expected_text = expected.to_text() if isinstance(expected, Schema) else expected
    actual_text = actual.to_text() if isinstance(actual, Schema) else actual
    if expected_text == actual_text:
        return ""
    return "".join(
        difflib.unified_diff(
            expected_text.splitlines(keepends=True),
            actual_text.splitlines(keepends=True),
            expected_label,
            actual_label,
            n=1,
        )
    )


# -- the committed snapshot ---------------------------------------------------------

#: The snapshot file beside the migrations: the canonical text of a fresh head database.
SNAPSHOT_FILENAME = "schema.sql"
_SNAPSHOT_HEADER = (
    "-- The canonical schema of a database migrated from empty to version {head}.\n"
    "-- Written by `bootmigrate schema --write`; CI compares it with the migrations.\n"
    "-- Not SQL to run: one line per column, key, index, trigger, view.\n"
)


def render_snapshot(schema: Schema, head: int | None) -> str:
    """The text of ``schema.sql`` for *schema*, the schema at version *head*."""
    return _SNAPSHOT_HEADER.format(head=head or 0) + schema.to_text()


def read_snapshot(text: str) -> str:
    """The canonical text held in a ``schema.sql`` (its ``--`` comment lines dropped)."""
    text = text.replace("\r\n", "\n")
    return "".join(line + "\n" for line in text.splitlines() if not line.startswith("--"))


def schema_at(
    source: SourceLike,
    version: int | None = None,
    *,
    prepare: Callable[[sqlite3.Connection], object] | None = None,
) -> Schema:
    """The canonical schema of a new database file migrated from empty to *version*.

    *version* None means the head; 0 means no migration (an empty schema). *prepare* is
    called with the connection first, to register the functions or collations the
    migrations use.
    """
    migrations = load(source)
    if version == 0 or not migrations.migrations:
        return Schema()
    with tempfile.TemporaryDirectory(prefix="bootmigrate-") as directory:
        path = os.path.join(directory, "fresh.db")
        conn = sqlite3.connect(path)
        try:
            conn.execute("PRAGMA synchronous = OFF")  # a throwaway file: no fsync
            if prepare is not None:
                prepare(conn)
            migrate(conn, migrations, target=version)
            return canonical_schema(conn)
        finally:
            conn.close()


# -- reading a database -------------------------------------------------------------


def canonical_schema(db: DatabaseLike) -> Schema:
    """The canonical :class:`Schema` of a database (path or open connection); read-only.

    A path is opened read-only and never created: a missing file raises
    :class:`DatabaseUnavailable`. bootmigrate's ledger tables are left out, so a
    database's schema is only what its migrations made.
    """
    name = describe(db)
    with for_reading(db) as conn:
        if conn is None:
            raise DatabaseUnavailable(name, "the file does not exist")
        with translated(name):
            owned = not isinstance(db, sqlite3.Connection)
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
        if kind == "table" and sql and _first_words(sql, 2) == ["CREATE", "VIRTUAL"]
    }
    skipped = set(_ledger.OWN_TABLES) | _shadow_tables(conn, virtual)
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


def _shadow_tables(conn: sqlite3.Connection, virtual: dict[str, str]) -> set[str]:
    """Tables a virtual table module owns (SQLite 3.37+ says so; older ones are guessed)."""
    if not virtual:
        return set()
    try:
        rows = conn.execute("SELECT name FROM pragma_table_list WHERE type = 'shadow'").fetchall()
        return {str(row[0]) for row in rows}
    except sqlite3.OperationalError:
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
    unique = _first_words(sql, 2) == ["CREATE", "UNIQUE"]
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


def _first_words(sql: str, count: int) -> list[str]:
    return [t.text for t in _tokens(sql)[:count]]


def _index_parts(sql: str) -> tuple[list[str], str | None]:
    """The key expressions of ``CREATE INDEX ... ON t (...)`` and its WHERE clause."""
    tokens = _tokens(sql)
    try:
        start = tokens.index(_Token("op", "("))
    except ValueError:
        return [], None
    items, end = _split_items(tokens, start)
    rest = tokens[end + 1 :]
    while rest and rest[-1] == _Token("op", ";"):
        rest.pop()
    where = _render(rest[1:]) if rest and rest[0] == _Token("word", "WHERE") else None
    return [_render(item) for item in items], where


def _split_items(tokens: list[_Token], start: int) -> tuple[list[list[_Token]], int]:
    """The comma-separated items inside the parentheses opened at *start*, and the index
    of the closing parenthesis."""
    items: list[list[_Token]] = [[]]
    depth = 0
    for position in range(start + 1, len(tokens)):
        token = tokens[position]
        if token.kind == "op" and token.text == "(":
            depth += 1
        elif token.kind == "op" and token.text == ")":
            if depth == 0:
                return [item for item in items if item], position
            depth -= 1
        elif depth == 0 and token == _Token("op", ","):
            items.append([])
            continue
        items[-1].append(token)
    return [item for item in items if item], len(tokens)


class _Definition:
    """What only a ``CREATE TABLE`` text says: collations, CHECKs, generated expressions,
    AUTOINCREMENT, WITHOUT ROWID, STRICT."""

    def __init__(self, sql: str) -> None:
        self.collations: dict[str, str] = {}
        self.generated: dict[str, str] = {}
        self.checks: list[str] = []
        self.autoincrement = self.without_rowid = self.strict = False
        tokens = _tokens(sql)
        try:
            start = tokens.index(_Token("op", "("))
        except ValueError:
            return  # CREATE TABLE ... AS SELECT: columns only
        if _Token("word", "AS") in tokens[:start]:
            return
        items, end = _split_items(tokens, start)
        options = {t.text.upper() for t in tokens[end + 1 :]}
        self.without_rowid = "ROWID" in options
        self.strict = "STRICT" in options
        for item in items:
            self._item(item)

    def _item(self, item: list[_Token]) -> None:
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
            if token == _Token("word", "AUTOINCREMENT"):
                self.autoincrement = True
            elif column and token == _Token("word", "COLLATE") and following:
                self.collations[column] = following.text.upper()
                position += 1
            elif token in (_Token("word", "CHECK"), _Token("word", "AS")) and following == _Token(
                "op", "("
            ):
                close = _closing(item, position + 1)
                expression = _render(item[position + 1 : close + 1])
                if token.text == "CHECK":
                    self.checks.append(f"CHECK {expression}")
                elif column:
                    self.generated[column] = expression
                position = close
            elif token.kind == "op" and token.text == "(":
                position = _closing(item, position)  # DEFAULT (...), REFERENCES t (...)
            position += 1


def _closing(tokens: list[_Token], start: int) -> int:
    """The index of the ``)`` that closes the ``(`` at *start*."""
    depth = 0
    for position in range(start, len(tokens)):
        if tokens[position].kind == "op" and tokens[position].text == "(":
            depth += 1
        elif tokens[position].kind == "op" and tokens[position].text == ")":
            depth -= 1
            if depth == 0:
                return position
    return len(tokens) - 1
