"""The canonical schema as data: tables, columns, keys, indexes, triggers, views.

Pure: no database here. :mod:`.read` builds a :class:`Schema` from a database's
catalogue; :func:`schema_diff` compares two of them (or their texts) for people.
"""

from __future__ import annotations

import dataclasses
import difflib
from dataclasses import dataclass
from typing import Any

from .tokens import quote_name


@dataclass(frozen=True)
class Column:
    """One column as ``PRAGMA table_xinfo`` and the table's definition describe it."""

    name: str
    #: The declared type, upper-case (``""`` when the column has none).
    type: str
    not_null: bool
    #: The ``DEFAULT`` expression as SQL text (None: no default).
    default: str | None
    #: Position in the primary key (1-based), 0 when not part of it.
    primary_key: int
    #: The ``COLLATE`` name the definition gives (None: none).
    collate: str | None = None
    #: ``"virtual"`` or ``"stored"`` for a generated column, ``"hidden"`` for a hidden one.
    hidden: str | None = None
    #: A generated column's expression (None for other columns).
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

    #: The child table's columns.
    columns: tuple[str, ...]
    #: The parent table.
    table: str
    #: The parent's columns; None where the declaration names none (the parent's key).
    references: tuple[str | None, ...]
    #: ``"NO ACTION"``, ``"CASCADE"``, ``"SET NULL"``, ``"SET DEFAULT"`` or ``"RESTRICT"``.
    on_update: str
    #: As :attr:`on_update`.
    on_delete: str
    #: ``"NONE"`` unless the declaration says ``MATCH``.
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
    #: In the table's order.
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
    #: Each key column (with ``COLLATE`` and ``DESC`` when declared) or expression.
    columns: tuple[str, ...]
    unique: bool
    #: A partial index's ``WHERE`` expression (None: the index covers every row).
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
    #: The table a trigger is on; a view's or a virtual table's own name.
    table: str
    #: Its ``CREATE`` statement, normalised.
    sql: str


@dataclass(frozen=True)
class Schema:
    """The canonical schema of a database; ``==`` compares schemas, not SQL text.

    Build it with :func:`canonical_schema`; show it with :meth:`to_text` (one line per
    column, key, index, trigger...) or :meth:`to_dict` (JSON-ready); compare two with
    :func:`schema_diff`.
    """

    #: By name; bootmigrate's own tables and SQLite's internal ones are left out.
    tables: tuple[Table, ...] = ()
    #: By table, then name (``CREATE INDEX`` only; a constraint's index is its table's).
    indexes: tuple[Index, ...] = ()
    #: By table, then name.
    triggers: tuple[SqlObject, ...] = ()
    #: By name.
    views: tuple[SqlObject, ...] = ()
    #: By name (their shadow tables are left out).
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

    Either side may be a :class:`Schema` or its :meth:`Schema.to_text` (e.g. the text of
    a committed ``schema.sql``, as ``bootmigrate schema --write`` writes it).
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
