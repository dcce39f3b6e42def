"""Synthetic rows: values the test kit puts into every table so its checks meet rows.

An app's users hold rows in every table; a migration that only works on empty tables
(``ADD COLUMN ... NOT NULL`` without a default, a rebuild that forgets to copy, a new
foreign key over orphans, a date conversion that cannot read the stored text) works in
CI on empty tables and fails on their machines. The kit therefore writes rows itself,
after each migration of every database it builds, as a user of that release would have.

What the rows honour, read from the canonical schema (:mod:`.._schema.read`):

- foreign keys point at an existing row of the parent (the newest one; in a ``WITHOUT
  ROWID`` parent, the one with the greatest key), at its primary key when the
  ``REFERENCES`` clause names no column (SQLite's rule: the parent's ``PRIMARY KEY``,
  the whole of a composite one); parents are filled first; a self-reference points at
  the table's newest row, or at the row itself. Without a row to point at, a nullable
  key is NULL and a ``NOT NULL`` one skips the row: an orphan would make the runner's
  foreign key check fail a correct migration;
- ``NOT NULL`` (every column gets a value, also one with a default) and ``UNIQUE``:
  each row's values come from a serial number shared by the whole build, so no two
  rows are alike and a ``UNIQUE`` index a later version adds meets no duplicates of the
  kit's making (see :class:`RowWriter` for the populated check's two rows alike, where
  duplicates are the point). Only a column that allows a few values (an IN list, a
  boolean) repeats them, once its table has more rows than values, as a user's would;
- ``CHECK (col IN (...))`` lists (each table's rows take the values in turn, as they
  take 0 and 1 in a boolean) and ``CHECK (json_valid(col))``; a CHECK it cannot read
  refuses the row, which is then skipped and remembered;
- generated and hidden columns are left alone; ``WITHOUT ROWID`` and ``STRICT`` tables
  get values of the declared type;
- date-like declared types (``DATE``, ``DATETIME``, ``TIMESTAMP``, ``TIME`` and names
  containing them) get ISO-8601 text, ``BOOLEAN``/``BOOL`` 0 or 1, ``JSON`` JSON text.

Values are unusual on purpose (keys from 987654321 up, other integers from 123456789 up,
text naming the column), so they meet neither the rows a migration inserts itself (a
version number, a settings row with id 1) nor each other: a column that is not a
foreign key never holds another table's key by chance, so a later migration that adds
a foreign key over it meets orphans, as it would on a user's database.

:func:`write_counted` writes, instead of one row per table, the rows a diagnostic report
counted: per table that many rows, per column as many NULL, INTEGER, REAL, TEXT and BLOB
values as the report says, each the value above when it is of that class and one of the
same ranges otherwise (:func:`classed_value`); a foreign key takes a parent key of the
class counted (see :mod:`._origin`).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from .._binding import sqlite_errors
from .._schema.model import Column, ForeignKey, Table
from .._schema.read import canonical_schema
from .._schema.tokens import Token, closing, quote_name, tokenize

#: The first value of a synthetic integer key (plus the row's serial number): far above
#: the ids migrations insert themselves.
KEY_BASE = 987654321
#: The first value of other synthetic integers: a range no key of the kit's reaches.
INTEGER_BASE = 123456789
#: The first synthetic date-time; later rows are a minute (a day, a second) apart.
EPOCH = datetime(2024, 3, 13, 17, 0, 0)


@dataclass(frozen=True)
class _Link:
    """A foreign key resolved to the parent columns it points at (None: unresolvable)."""

    columns: tuple[str, ...]
    parent: Table | None
    parent_columns: tuple[str, ...] | None
    nullable: tuple[str, ...]


@dataclass(frozen=True)
class _Plan:
    """How to write one table's rows, computed once per schema."""

    table: Table
    #: The columns the kit gives values (not generated, not hidden).
    columns: tuple[Column, ...]
    #: The ``INTEGER PRIMARY KEY`` of a rowid table (the rowid's alias), if any.
    rowid_key: Column | None
    links: tuple[_Link, ...]
    #: ``{column (lowercase): values its CHECK ... IN list allows}``.
    allowed: dict[str, tuple[object, ...]]
    #: Columns a ``CHECK (json_valid(col))`` wants JSON in (lowercase).
    json_columns: frozenset[str]


#: Plans by the text of the catalogue's tables: one cache per kit, shared by every
#: database it builds (they pass through the same schemas).
PlanCache = dict[tuple[tuple[str, str], ...], list[_Plan]]


class RowWriter:
    """The synthetic rows of one database build: a serial number shared by every table
    and version of the build (so rows stay distinct), and what each table refused.

    :meth:`fill` writes one row per table (the convergence rows). ``fill(alike=True)``
    writes two rows per table that differ only in their primary key (the populated
    check's rows: a new ``UNIQUE`` index over the other columns meets duplicates).
    """

    def __init__(self, plans: PlanCache) -> None:
        self._plans = plans
        self._serial = 0
        # {table: rows written}: few-valued columns (IN lists, booleans) take their
        # values in turn per table, so a table's first rows differ there too.
        self._turns: dict[str, int] = {}
        #: ``{table: why SQLite refused its last refused row}``.
        self.refused: dict[str, str] = {}

    def fill(self, conn: sqlite3.Connection, *, alike: bool = False) -> None:
        """Put rows into every table of the database *conn* (parents first), in one
        transaction; a row its table refuses is skipped and remembered in
        :attr:`refused`."""
        plans = self._plans_for(conn)
        conn.execute("BEGIN")
        try:
            for plan in plans:
                shared = self._next()
                turn = self._turns.get(plan.table.name, 0)
                self._turns[plan.table.name] = turn + 1
                for _ in range(2 if alike else 1):
                    own = self._next() if alike else shared
                    self._insert(conn, plan, _Row(shared, own, turn))
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        if conn.in_transaction:
            try:
                conn.execute("COMMIT")
            except sqlite_errors.Error as exc:  # a deferred foreign key: drop this batch
                conn.execute("ROLLBACK")
                for plan in plans:
                    self.refused[plan.table.name] = str(exc)

    def empty_refusals(self, conn: sqlite3.Connection) -> list[str]:
        """``table (why)`` for each table that refused the kit's rows and is empty now."""
        found = []
        for name, reason in sorted(self.refused.items()):
            try:
                row = conn.execute(f"SELECT 1 FROM {quote_name(name)} LIMIT 1").fetchone()
            except sqlite_errors.Error:
                continue  # dropped since
            if row is None:
                found.append(f"{name} ({reason})")
        return found

    def _next(self) -> int:
        serial = self._serial
        self._serial += 1
        return serial

    def _plans_for(self, conn: sqlite3.Connection) -> list[_Plan]:
        # Reading the canonical schema costs a few pragmas per table; the kit fills
        # hundreds of times per run, mostly at schemas it has seen, so plans are kept
        # by the catalogue's text.
        key = tuple(
            (str(name), str(sql or ""))
            for name, sql in conn.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'table' ORDER BY name"
            )
        )
        plans = self._plans.get(key)
        if plans is None:
            plans = plan_rows(canonical_schema(conn).tables)
            self._plans[key] = plans
        return plans

    def _insert(self, conn: sqlite3.Connection, plan: _Plan, row: _Row) -> None:
        first_error: str | None = None
        for attempt in _attempts(plan):
            values = _row_values(conn, plan, attempt, row)
            if isinstance(values, str):
                first_error = first_error or values
                continue
            try:
                conn.execute(_insert_sql(plan.table, list(values)), list(values.values()))
            except sqlite_errors.Error as exc:  # a CHECK, UNIQUE or trigger refuses this row
                first_error = first_error or str(exc)
                if not conn.in_transaction:  # ON CONFLICT ROLLBACK ended the batch
                    conn.execute("BEGIN")
                continue
            return
        self.refused[plan.table.name] = first_error or "refused"


@dataclass(frozen=True)
class _Row:
    """The numbers one row's values come from."""

    #: The serial of the values outside the primary key (shared by two rows alike).
    shared: int
    #: The serial of the primary key's values (the row's own).
    own: int
    #: How many rows this build gave the table before (for few-valued columns).
    turn: int


@dataclass(frozen=True)
class _Attempt:
    #: Give columns that have a default a value too (distinct rows, see the module).
    defaults: bool
    #: Give the rowid's alias a value (else SQLite numbers the row).
    rowid_key: bool


def _attempts(plan: _Plan) -> Iterator[_Attempt]:
    """Every column first; then defaults left to themselves (a CHECK the kit cannot read
    may allow only the default); then the rowid left to SQLite (``CHECK (id = 1)`` on a
    single-row table)."""
    yield _Attempt(defaults=True, rowid_key=True)
    has_defaults = any(c.default is not None and not c.primary_key for c in plan.columns)
    if has_defaults:
        yield _Attempt(defaults=False, rowid_key=True)
    if plan.rowid_key is not None:
        yield _Attempt(defaults=False, rowid_key=False)


def _insert_sql(table: Table, names: list[str]) -> str:
    if not names:
        return f"INSERT INTO {quote_name(table.name)} DEFAULT VALUES"
    return (
        f"INSERT INTO {quote_name(table.name)} ({', '.join(map(quote_name, names))}) "
        f"VALUES ({', '.join('?' * len(names))})"
    )


def _row_values(
    conn: sqlite3.Connection, plan: _Plan, attempt: _Attempt, row: _Row
) -> dict[str, object] | str:
    """``{column: value}`` for one row, or why no row can be written."""
    values: dict[str, object] = {}
    for column in plan.columns:
        if column is plan.rowid_key and not attempt.rowid_key:
            continue
        if column.default is not None and not column.primary_key and not attempt.defaults:
            continue
        # The populated check's two rows share every value but their key.
        values[column.name] = column_value(
            column,
            row.own if column.primary_key else row.shared,
            row.turn,
            plan.allowed.get(column.name.lower()),
            json_text=column.name.lower() in plan.json_columns,
        )
    for link in plan.links:
        found = _parent_values(conn, plan.table, link, values)
        if found is None:
            if not link.nullable:
                parent = link.parent.name if link.parent is not None else "its parent"
                return f"no row in {parent} for the foreign key ({', '.join(link.columns)})"
            # MATCH SIMPLE: one NULL column satisfies the key.
            for name in link.nullable:
                values[name] = None
            continue
        values.update(zip(link.columns, found))
    return values


def _parent_values(
    conn: sqlite3.Connection, table: Table, link: _Link, own: dict[str, object]
) -> tuple[object, ...] | None:
    """The key of the parent row the child row points at: the parent's newest row whose
    key has no NULL, or (a self-reference in an empty table) the row itself."""
    parent, columns = link.parent, link.parent_columns
    if parent is None or columns is None:
        return None
    names = ", ".join(map(quote_name, columns))
    present = " AND ".join(f"{quote_name(c)} IS NOT NULL" for c in columns)
    if parent.without_rowid:
        keys = [c for c in parent.columns if c.primary_key]
        order = ", ".join(f"{quote_name(c.name)} DESC" for c in keys)
    else:
        order = "rowid DESC"
    try:
        row = conn.execute(
            f"SELECT {names} FROM {quote_name(parent.name)} WHERE {present} "
            f"ORDER BY {order} LIMIT 1"
        ).fetchone()
    except sqlite_errors.Error:
        return None
    if row is not None:
        return tuple(row)
    if parent is table:
        by_name = {name.lower(): value for name, value in own.items()}
        mine = tuple(by_name.get(c.lower()) for c in columns)
        if all(value is not None for value in mine):
            return mine
    return None


# -- plans ------------------------------------------------------------------------------


def plan_rows(tables: Sequence[Table]) -> list[_Plan]:
    """How to fill each table, parents before their children."""
    by_name = {t.name.lower(): t for t in tables}
    return [_plan(table, by_name) for table in parents_first(tables)]


def parents_first(tables: Sequence[Table]) -> list[Table]:
    """*tables* ordered so that each comes after the tables its foreign keys point at
    (a cycle is broken where it is met; a self-reference is no dependency)."""
    by_name = {t.name.lower(): t for t in tables}
    ordered: list[Table] = []
    seen: set[str] = set()

    def visit(table: Table, path: frozenset[str]) -> None:
        key = table.name.lower()
        if key in seen or key in path:
            return
        for fk in table.foreign_keys:
            parent = by_name.get(fk.table.lower())
            if parent is not None:
                visit(parent, path | {key})
        seen.add(key)
        ordered.append(table)

    for table in tables:
        visit(table, frozenset())
    return ordered


def _plan(table: Table, by_name: dict[str, Table]) -> _Plan:
    columns = tuple(c for c in table.columns if c.hidden is None)
    keys = [c for c in columns if c.primary_key]
    rowid_key = (
        keys[0]
        if len(keys) == 1 and keys[0].type == "INTEGER" and not table.without_rowid
        else None
    )
    allowed, json_columns = _read_checks(table.checks)
    not_null = {c.name.lower() for c in columns if c.not_null}
    known = {c.name.lower(): c.name for c in columns}
    links = tuple(
        _link(fk, by_name, known, not_null)
        for fk in table.foreign_keys
        if all(c.lower() in known for c in fk.columns)
    )
    return _Plan(table, columns, rowid_key, links, allowed, json_columns)


def _link(
    fk: ForeignKey, by_name: dict[str, Table], known: dict[str, str], not_null: set[str]
) -> _Link:
    columns = tuple(known[c.lower()] for c in fk.columns)
    nullable = tuple(c for c in columns if c.lower() not in not_null)
    parent = by_name.get(fk.table.lower())
    if parent is None:
        return _Link(columns, None, None, nullable)
    if all(name is not None for name in fk.references):
        targets: tuple[str, ...] = tuple(str(name) for name in fk.references)
    else:
        # REFERENCES parent with no column: the parent's PRIMARY KEY, in key order
        # (for a rowid table's INTEGER PRIMARY KEY, that column; never the bare rowid).
        keys = sorted((c for c in parent.columns if c.primary_key), key=lambda c: c.primary_key)
        targets = tuple(c.name for c in keys)
    if len(targets) != len(columns):  # no key, or a mismatch SQLite refuses anyway
        return _Link(columns, parent, None, nullable)
    return _Link(columns, parent, targets, nullable)


def _read_checks(checks: Sequence[str]) -> tuple[dict[str, tuple[object, ...]], frozenset[str]]:
    """The ``col IN (literal, ...)`` lists and ``json_valid(col)`` calls in the table's
    CHECK constraints (anywhere in them: SQLite judges the row, this only guesses)."""
    allowed: dict[str, tuple[object, ...]] = {}
    json_columns: set[str] = set()
    for check in checks:
        tokens = tokenize(check)
        for position, token in enumerate(tokens[:-3]):
            if token.kind not in ("name", "word"):
                continue
            following = tokens[position + 1]
            if (
                following == Token("word", "IN")
                and tokens[position + 2] == Token("op", "(")
                and (position == 0 or tokens[position - 1] != Token("word", "NOT"))
            ):
                values = _literals(tokens[position + 3 : closing(tokens, position + 2)])
                if values:
                    allowed.setdefault(token.text.lower(), values)
            elif (
                token.text.lower() == "json_valid"
                and following == Token("op", "(")
                and tokens[position + 2].kind in ("name", "word")
                and tokens[position + 3] == Token("op", ")")
            ):
                json_columns.add(tokens[position + 2].text.lower())
    return allowed, frozenset(json_columns)


def _literals(tokens: list[Token]) -> tuple[object, ...]:
    """The values of ``'a', 2, -3.5`` (empty when anything else is in the list)."""
    values: list[object] = []
    sign = 1
    for token in tokens:
        if token == Token("op", ","):
            continue
        if token == Token("op", "-"):
            sign = -sign
            continue
        if token.kind != "literal":
            return ()
        text = token.text
        if text.startswith("'"):
            values.append(text[1:-1].replace("''", "'"))
        elif text[:2].upper() == "X'":
            values.append(bytes.fromhex(text[2:-1]))
        elif text[:2].lower() == "0x":
            values.append(sign * int(text, 16))
        elif any(ch in text for ch in ".eE"):
            values.append(sign * float(text))
        else:
            values.append(sign * int(text))
        sign = 1
    return tuple(values)


# -- values -----------------------------------------------------------------------------


def column_value(
    column: Column,
    serial: int,
    turn: int,
    allowed: Sequence[object] | None = None,
    *,
    json_text: bool = False,
) -> object:
    """The value of *column* in the row numbered *serial*, its table's row number *turn*.

    A CHECK's IN list gives the value (in turn); else the declared type does: date-like
    names ISO-8601 text, booleans 0 or 1, JSON JSON text, and the rest a value of the
    type's affinity (https://sqlite.org/datatype3.html#affname), which is also the type
    a ``STRICT`` table requires of ``INT``, ``INTEGER``, ``REAL``, ``TEXT`` and ``BLOB``.
    """
    if allowed:
        return allowed[turn % len(allowed)]
    declared = column.type.upper()
    if "DATETIME" in declared or "TIMESTAMP" in declared:
        return (EPOCH + timedelta(minutes=serial)).strftime("%Y-%m-%d %H:%M:%S")
    if "DATE" in declared:
        return (EPOCH + timedelta(days=serial)).strftime("%Y-%m-%d")
    if "TIME" in declared:
        return (EPOCH + timedelta(seconds=serial)).strftime("%H:%M:%S")
    if "BOOL" in declared:
        return turn % 2
    if "JSON" in declared or json_text:
        return json.dumps({"bootmigrate": serial, "column": column.name})
    if "INT" in declared:
        return (KEY_BASE if column.primary_key else INTEGER_BASE) + serial
    if any(word in declared for word in ("CHAR", "CLOB", "TEXT")):
        return f"{column.name} {serial}"
    if "BLOB" in declared or not declared:
        return f"{column.name} {serial}".encode()
    if any(word in declared for word in ("REAL", "FLOA", "DOUB")):
        return 98765.4321 + serial
    return (KEY_BASE if column.primary_key else INTEGER_BASE) + serial  # NUMERIC, ANY


# -- rows of given storage classes (a diagnostic report's counts) ------------------------

#: The storage classes ``typeof()`` names, in the order a diagnostic report lists them.
STORAGE_CLASSES = ("null", "integer", "real", "text", "blob")


@dataclass(frozen=True)
class TableCounts:
    """How many rows a table holds and, per column, how many values of each class."""

    rows: int
    #: ``{column: {storage class: count}}`` (a missing class counts 0).
    columns: dict[str, dict[str, int]]


class RowsRefused(Exception):
    """Synthetic rows cannot give *table* (and *column*) the counts asked for; the
    caller turns it into its own error (it never leaves the test kit)."""

    def __init__(self, table: str, column: str | None, problem: str) -> None:
        self.table = table
        self.column = column
        self.problem = problem
        super().__init__(problem)


def write_counted(
    conn: sqlite3.Connection, tables: Sequence[Table], counts: dict[str, TableCounts]
) -> None:
    """Put into each table of *tables* exactly ``counts[table].rows`` rows whose columns
    hold values of the storage classes counted (NULL, INTEGER, REAL, TEXT, BLOB), with
    the values the kit's rows have where the class allows (see the module: foreign keys
    point at parent rows of the same class, ``CHECK ... IN`` values, distinct values for
    ``UNIQUE``). Runs in the caller's transaction; raises :class:`RowsRefused` for a row
    no attempt makes the table accept, or a foreign key no parent row can satisfy."""
    serial = 0
    for plan in plan_rows(tables):
        wanted = counts.get(plan.table.name)
        if wanted is None or not wanted.rows:
            continue
        spread = {
            column.name: _spread(wanted.columns.get(column.name, {}), wanted.rows)
            for column in plan.columns
        }
        parents = {
            link: _parent_keys(conn, link) for link in plan.links if link.parent is not plan.table
        }
        defaults = {
            column.name: _default_class(conn, column)
            for column in plan.columns
            if column.default is not None
        }
        for number in range(wanted.rows):
            classes = {name: spread[name][number] for name in spread}
            _insert_counted(conn, plan, classes, parents, defaults, serial, number)
            serial += 1


def _spread(counted: dict[str, int], rows: int) -> list[str]:
    """The storage class of each of *rows* rows: the counted ones in turn (NULL first)."""
    classes = [kind for kind in STORAGE_CLASSES for _ in range(int(counted.get(kind, 0)))]
    return (classes + ["null"] * rows)[:rows]


def _parent_keys(
    conn: sqlite3.Connection, link: _Link
) -> dict[tuple[str, ...], list[tuple[object, ...]]]:
    """The parent's keys (no NULL in them), by the storage classes of their values."""
    found: dict[tuple[str, ...], list[tuple[object, ...]]] = {}
    if link.parent is None or link.parent_columns is None:
        return found
    names = ", ".join(map(quote_name, link.parent_columns))
    present = " AND ".join(f"{quote_name(c)} IS NOT NULL" for c in link.parent_columns)
    for row in conn.execute(f"SELECT {names} FROM {quote_name(link.parent.name)} WHERE {present}"):
        found.setdefault(tuple(_class_of(value) for value in row), []).append(tuple(row))
    return found


def _default_class(conn: sqlite3.Connection, column: Column) -> str | None:
    """The storage class of the column's default (None: it cannot be evaluated alone)."""
    try:
        row = conn.execute(f"SELECT typeof({column.default})").fetchone()
    except sqlite_errors.Error:
        return None
    return str(row[0]) if row else None


def _class_of(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "real"
    if isinstance(value, bytes):
        return "blob"
    return "text"


def classed_value(
    column: Column,
    storage: str,
    serial: int,
    turn: int,
    allowed: Sequence[object] | None = None,
    *,
    json_text: bool = False,
) -> object:
    """A value of the storage class *storage* for *column*: the one :func:`column_value`
    gives when it is of that class (an IN list's value of that class, a date as text),
    else one of the same unusual ranges (integers from 123456789, keys from 987654321,
    reals with a fraction, so that no affinity turns them into integers, text naming the
    column, which no affinity reads as a number)."""
    if storage == "null":
        return None
    if allowed:
        fitting = [value for value in allowed if _class_of(value) == storage]
        if fitting:
            return fitting[turn % len(fitting)]
    natural = column_value(column, serial, turn, json_text=json_text)
    if _class_of(natural) == storage:
        return natural
    if storage == "integer":
        return (KEY_BASE if column.primary_key else INTEGER_BASE) + serial
    if storage == "real":
        return 98765.4321 + serial
    if storage == "text":
        return f"{column.name} {serial}"
    return f"{column.name} {serial}".encode()


def _insert_counted(
    conn: sqlite3.Connection,
    plan: _Plan,
    classes: dict[str, str],
    parents: dict[_Link, dict[tuple[str, ...], list[tuple[object, ...]]]],
    defaults: dict[str, str | None],
    serial: int,
    number: int,
) -> None:
    values: dict[str, object] = {
        column.name: classed_value(
            column,
            classes[column.name],
            serial,
            number,
            plan.allowed.get(column.name.lower()),
            json_text=column.name.lower() in plan.json_columns,
        )
        for column in plan.columns
    }
    for link in plan.links:
        wanted = tuple(classes[name] for name in link.columns)
        if "null" in wanted:
            continue  # MATCH SIMPLE: a key with a NULL in it points at nothing
        if link.parent is plan.table and link.parent_columns is not None:
            by_name = {name.lower(): value for name, value in values.items()}
            own = tuple(by_name.get(c.lower()) for c in link.parent_columns)
            if tuple(map(_class_of, own)) == wanted:
                values.update(zip(link.columns, own))
                continue
        keys = parents.get(link, {}).get(wanted)
        if not keys:
            parent = link.parent.name if link.parent is not None else "its parent table"
            raise RowsRefused(
                plan.table.name,
                link.columns[0],
                f"column {', '.join(link.columns)} of table {plan.table.name} is a foreign key "
                f"to {parent}, and the report counts {'/'.join(wanted).upper()} values in it "
                f"that no row of {parent} has as its key",
            )
        values.update(zip(link.columns, keys[number % len(keys)]))
    # Every value first; then the rowid left to SQLite (CHECK (id = 1)); then the
    # columns whose default has the class asked for left to their default.
    left_to_default = [
        name for name, kind in defaults.items() if kind is not None and kind == classes.get(name)
    ]
    key = plan.rowid_key.name if plan.rowid_key is not None else None
    attempts: list[list[str]] = [[]]
    if key is not None:
        attempts.append([key])
    if left_to_default:
        attempts += [left_to_default, [*left_to_default, *([key] if key else [])]]
    first_error = ""
    for left in attempts:
        row = {name: value for name, value in values.items() if name not in left}
        try:
            conn.execute(_insert_sql(plan.table, list(row)), list(row.values()))
        except sqlite_errors.IntegrityError as exc:
            first_error = first_error or str(exc)
            continue
        return
    raise RowsRefused(
        plan.table.name,
        _named_column(plan.table, first_error),
        f"table {plan.table.name} refuses a synthetic row of the report's storage classes "
        f"({', '.join(f'{name} {kind.upper()}' for name, kind in classes.items())}): "
        f"{first_error}",
    )


def _named_column(table: Table, message: str) -> str | None:
    """The first of *table*'s columns that SQLite's message names (a NOT NULL or UNIQUE
    failure says ``t.col``; a CHECK failure quotes its expression)."""
    words = {token.text.lower() for token in tokenize(message.partition(":")[2])}
    return next((c.name for c in table.columns if c.name.lower() in words), None)
