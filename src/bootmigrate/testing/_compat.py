"""What a ``backward-compatible`` migration may do: add, and nothing else.

A migration declared ``-- bootmigrate: backward-compatible`` promises that the release
before it can keep using the database it leaves (a downgraded app opens it as
``newer-compatible`` and writes to it). The kit proves the promise from the effect,
not the text: :func:`schema_breaks` compares the canonical schema before and after the
migration, :func:`row_breaks` the rows every earlier table held. Reading the effect
rather than the statements means a temporary table dropped again, a view made and
replaced in the same file, or a Python migration are judged by what they leave, and a
statement pattern that SQL can spell ten ways cannot slip through.

What counts as an addition: a new table, index, view, trigger or virtual table; a new
column at the end of a table that is nullable or has a default (what ``ALTER TABLE ...
ADD COLUMN`` makes), with the foreign keys and ``CHECK`` constraints that only name new
columns; new rows. Everything else the older release can trip on: a dropped or renamed
object, a changed column, view or trigger, a rebuilt table whose definition differs, a
new ``NOT NULL`` column without a default (its ``INSERT`` lacks the column), a new
``UNIQUE`` index on an existing table (it can refuse the older release's inserts), a
changed or deleted row.

:func:`offending_statement` names the first statement of an SQL migration that can
cause a break, by the object it names.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .._schema.model import Schema, SqlObject, Table
from .._schema.tokens import quote_name, tokenize
from .._source.text import Statement, first_keyword
from ._fingerprint import encode_row


@dataclass(frozen=True)
class Break:
    """One way a migration does more than add: the object, and what happened to it."""

    #: ``"table"``, ``"index"``, ``"view"``, ``"trigger"`` or ``"virtual table"``.
    kind: str
    #: The object's name.
    name: str
    #: What changed, for people (``column "title" was TEXT NOT NULL, is TEXT``).
    change: str
    #: The statement keywords that can cause it, most likely first (``DROP``...).
    causes: tuple[str, ...] = ("DROP", "ALTER")
    #: Another name the causing statement names (a column), to tell it from the others.
    detail: str | None = None
    #: An index's or trigger's table: dropping the table drops them with it.
    table: str | None = None

    def describe(self) -> str:
        """``table "note": column "title" ...``."""
        return f"{self.kind} {quote_name(self.name)}: {self.change}"


_CHANGE = ("DROP", "ALTER", "CREATE")
_CREATE = ("CREATE", "ALTER")
_ROWS = ("UPDATE", "DELETE", "REPLACE", "INSERT", "DROP", "ALTER")


def schema_breaks(before: Schema, after: Schema) -> list[Break]:
    """Every way *after* is not *before* with things added (empty when it only adds)."""
    breaks: list[Break] = []
    new_tables = {t.name: t for t in after.tables}
    for table in before.tables:
        if table.name not in new_tables:
            breaks.append(Break("table", table.name, "was dropped or renamed"))
        else:
            breaks += _table_breaks(table, new_tables[table.name])
    old_tables = {t.name for t in before.tables}
    old_indexes = {i.name: i for i in before.indexes}
    new_indexes = {i.name: i for i in after.indexes}
    for name, index in old_indexes.items():
        if name not in new_indexes:
            breaks.append(Break("index", name, "was dropped or renamed", table=index.table))
        elif new_indexes[name] != index:
            breaks.append(
                Break(
                    "index",
                    name,
                    f"was {index.to_text()}, is {new_indexes[name].to_text()}",
                    _CHANGE,
                )
            )
    for name, index in new_indexes.items():
        if name not in old_indexes and index.unique and index.table in old_tables:
            breaks.append(
                Break(
                    "index",
                    name,
                    f"is a new UNIQUE index on the existing table {quote_name(index.table)}, "
                    "which can refuse the inserts of the release before",
                    ("CREATE",),
                )
            )
    for kind, old, new in (
        ("view", before.views, after.views),
        ("trigger", before.triggers, after.triggers),
        ("virtual table", before.virtual_tables, after.virtual_tables),
    ):
        breaks += _object_breaks(kind, old, new)
    return breaks


def _table_breaks(old: Table, new: Table) -> list[Break]:
    breaks: list[Break] = []

    def add(
        change: str, causes: tuple[str, ...] = ("DROP", "ALTER"), column: str | None = None
    ) -> None:
        breaks.append(Break("table", old.name, change, causes, column))

    kept = new.columns[: len(old.columns)]
    for before, after in zip(old.columns, kept):
        if before != after:
            composite = sum(1 for c in old.columns if c.primary_key) > 1
            if before.name != after.name:
                add(f"column {quote_name(before.name)} was renamed or moved", column=before.name)
            else:
                add(
                    f"column {before.to_text(composite)} became {after.to_text(composite)}",
                    column=before.name,
                )
    if len(new.columns) < len(old.columns):
        gone = ", ".join(quote_name(c.name) for c in old.columns[len(new.columns) :])
        add(f"column(s) {gone} were dropped")
    added = new.columns[len(old.columns) :]
    new_names = {c.name.lower() for c in added}
    for column in added:
        if column.not_null and column.default is None and column.generated is None:
            add(
                f"the new column {quote_name(column.name)} is NOT NULL without a DEFAULT, so "
                "the inserts of the release before (which do not name it) fail",
                _CREATE,
                column.name,
            )
    old_keys = [fk.to_text() for fk in old.foreign_keys]
    new_keys = {fk.to_text(): fk for fk in new.foreign_keys}
    for text in old_keys:
        if text not in new_keys:
            add(f"FOREIGN KEY constraint {text} was removed or changed")
    for text, key in new_keys.items():
        # A key on new columns only: the older release leaves them NULL, which any key takes.
        if text not in old_keys and not {c.lower() for c in key.columns} <= new_names:
            add(
                f"FOREIGN KEY constraint {text} is new on existing columns", _CHANGE, key.columns[0]
            )
    for check in old.checks:
        if check not in new.checks:
            add(f"constraint {check} was removed or changed")
    existing = {c.name.lower() for c in old.columns}
    for check in new.checks:
        # A CHECK that names no existing column is about the new ones (a NULL passes it).
        if check not in old.checks and _names(check) & existing:
            add(f"constraint {check} is new on existing columns", _CHANGE)
    if old.unique != new.unique:
        add(f"UNIQUE constraints were {list(old.unique)}, are {list(new.unique)}")
    for option in ("without_rowid", "strict", "autoincrement"):
        if getattr(old, option) != getattr(new, option):
            add(f"{option.replace('_', ' ').upper()} was {getattr(old, option)}, is not")
    return breaks


def _names(sql: str) -> set[str]:
    """The identifiers (lower-case) that *sql* mentions."""
    return {t.text.lower() for t in tokenize(sql) if t.kind in ("name", "word")}


def _object_breaks(kind: str, old: Sequence[SqlObject], new: Sequence[SqlObject]) -> list[Break]:
    breaks = []
    found = {o.name: o for o in new}
    for item in old:
        if item.name not in found:
            breaks.append(Break(kind, item.name, "was dropped or renamed", table=item.table))
        elif found[item.name] != item:
            breaks.append(
                Break(kind, item.name, f"was {item.sql}, is {found[item.name].sql}", _CHANGE)
            )
    return breaks


# -- rows ---------------------------------------------------------------------------------


def table_rows(conn: sqlite3.Connection, table: Table) -> Counter[str]:
    """The rows of *table* (the values of its columns), counted.

    Only the columns *table* lists are read, so after a migration that added columns
    the rows read are still the ones the older release sees. A rowid that is not a
    column (no ``INTEGER PRIMARY KEY``) is left out: ``VACUUM`` may renumber it, so no
    release can rely on it.
    """
    names = [quote_name(c.name) for c in table.columns if c.hidden is None]
    rows = conn.execute(f"SELECT {', '.join(names)} FROM {quote_name(table.name)}")
    return Counter(encode_row(row) for row in rows)


def row_breaks(
    before: dict[str, Counter[str]],
    conn: sqlite3.Connection,
    tables: Iterable[Table],
) -> list[Break]:
    """The tables of *tables* whose rows in *conn* lack rows of *before* (rows changed
    or deleted; rows added are an addition)."""
    breaks = []
    for table in tables:
        lost = before[table.name] - table_rows(conn, table)
        if lost:
            count = sum(lost.values())
            breaks.append(
                Break(
                    "table",
                    table.name,
                    f"{count} of its {sum(before[table.name].values())} row(s) were changed "
                    "or deleted (the release before reads its rows as they were)",
                    _ROWS,
                )
            )
    return breaks


# -- which statement --------------------------------------------------------------------


def offending_statement(statements: Sequence[Statement], found: Break) -> Statement | None:
    """The first statement that names *found*'s object, preferring those whose first
    keyword is the likeliest cause (``DROP TABLE note`` over ``INSERT ... FROM note``);
    None when no statement names it (a Python migration has no statements)."""
    name = found.name.lower()
    naming = [s for s in statements if name in _names(s.sql)]
    detail = found.detail.lower() if found.detail is not None else None
    for keyword in found.causes:
        likely = [s for s in naming if first_keyword(s.sql) == keyword]
        # Of those, the one that names the column too (ALTER TABLE notes ADD COLUMN tag).
        also = [s for s in likely if detail is not None and detail in _names(s.sql)]
        if also or likely:
            return (also or likely)[0]
    if naming:
        return naming[0]
    if found.table is not None and found.table != found.name:
        return offending_statement(statements, Break("table", found.table, "", found.causes))
    return None
