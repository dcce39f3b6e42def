"""The canonical schema's text (:meth:`Schema.to_text`) back into SQL that creates it.

A diagnostic report carries a database's schema as canonical text, not as the SQL that
made it; a test database that reproduces the report needs ``CREATE`` statements whose
canonical schema is that text again. Pure: text in, statements out. Each line is read
with the schema's own tokenizer; a line :meth:`Schema.to_text` does not write is a
:class:`SchemaTextError` naming it. What the text cannot say (a ``DEFERRABLE`` foreign
key, a constraint's name, a column ``UNIQUE`` against a table one) is written the one
way that gives the same canonical schema.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .tokens import Token, closing, quote_name, render, tokenize


class SchemaTextError(ValueError):
    """A line that is not one :meth:`Schema.to_text` writes."""

    def __init__(self, number: int, line: str, problem: str) -> None:
        self.number = number
        self.line = line
        self.problem = problem
        super().__init__(f"schema line {number} ({line!r}): {problem}")


@dataclass
class TableText:
    """One table of the text: its name and ``CREATE TABLE`` statement."""

    name: str
    statement: str


@dataclass
class SchemaStatements:
    """The statements that create a schema, by kind, each list in the text's order."""

    tables: list[TableText] = field(default_factory=list)
    virtual_tables: list[tuple[str, str]] = field(default_factory=list)
    indexes: list[tuple[str, str]] = field(default_factory=list)
    #: ``(name, statement)``; a view may read another view, so the caller retries.
    views: list[tuple[str, str]] = field(default_factory=list)
    #: ``(name, table, statement)``.
    triggers: list[tuple[str, str, str]] = field(default_factory=list)


@dataclass
class _Table:
    name: str
    options: list[str]
    number: int
    columns: list[str] = field(default_factory=list)
    #: ``(position, column)`` of a composite primary key's columns.
    key: list[tuple[int, str]] = field(default_factory=list)
    constraints: list[str] = field(default_factory=list)


_OPTIONS = {"WITHOUT ROWID", "STRICT", "AUTOINCREMENT"}
# Where a column's type ends: the first word of what Column.to_text writes after it.
_AFTER_TYPE = {"PRIMARY", "NOT", "DEFAULT", "COLLATE", "GENERATED"}


def schema_statements(lines: list[str]) -> SchemaStatements:
    """The ``CREATE`` statements of the schema whose canonical text is *lines*."""
    out = SchemaStatements()
    table: _Table | None = None

    def finish() -> None:
        if table is not None:
            out.tables.append(TableText(table.name, _create_table(table)))

    for number, line in enumerate(lines, start=1):
        if line.startswith("  "):
            if table is None:
                raise SchemaTextError(number, line, "an indented line outside a table")
            _table_line(table, number, line[2:])
            continue
        finish()
        table = None
        if line.startswith("table "):
            name, rest = _name(number, line, line[len("table ") :])
            options = [o.strip() for o in rest.strip().strip("()").split(",") if o.strip()]
            if rest.strip() and (
                not (rest.strip().startswith("(") and rest.strip().endswith(")"))
                or not set(options) <= _OPTIONS
            ):
                raise SchemaTextError(number, line, f"unknown table options {rest.strip()!r}")
            table = _Table(name, options, number)
        elif line.startswith(("index ", "unique index ")):
            unique = line.startswith("unique ")
            body = line[len("unique index ") if unique else len("index ") :]
            name, _ = _name(number, line, body)
            out.indexes.append((name, f"CREATE {'UNIQUE ' if unique else ''}INDEX {body}"))
        elif line.startswith("virtual table "):
            name, rest = _name(number, line, line[len("virtual table ") :])
            out.virtual_tables.append((name, _after_colon(number, line, rest)))
        elif line.startswith("view "):
            name, rest = _name(number, line, line[len("view ") :])
            out.views.append((name, _after_colon(number, line, rest)))
        elif line.startswith("trigger "):
            name, rest = _name(number, line, line[len("trigger ") :])
            if not rest.startswith(" ON "):
                raise SchemaTextError(number, line, "a trigger line names its table after ON")
            on, rest = _name(number, line, rest[len(" ON ") :])
            out.triggers.append((name, on, _after_colon(number, line, rest)))
        elif line.strip():
            raise SchemaTextError(number, line, "not a table, index, view or trigger line")
    finish()
    return out


def _name(number: int, line: str, text: str) -> tuple[str, str]:
    """The name *text* starts with (as :func:`quote_name` wrote it) and the rest."""
    if text.startswith('"'):
        position = 1
        while True:
            end = text.find('"', position)
            if end < 0:
                raise SchemaTextError(number, line, "a quoted name is not closed")
            if text[end + 1 : end + 2] == '"':
                position = end + 2
                continue
            return text[1:end].replace('""', '"'), text[end + 1 :]
    size = 0
    while size < len(text) and (text[size].isalnum() or text[size] == "_"):
        size += 1
    if size == 0:
        raise SchemaTextError(number, line, "no name where one belongs")
    return text[:size], text[size:]


def _after_colon(number: int, line: str, rest: str) -> str:
    if not rest.startswith(": "):
        raise SchemaTextError(number, line, "no ': ' before the statement")
    return rest[2:]


def _table_line(table: _Table, number: int, text: str) -> None:
    if text.startswith("column "):
        full = f"  {text}"
        name, rest = _name(number, full, text[len("column ") :])
        table.columns.append(_column(table, number, full, name, rest))
    elif text.startswith(("FOREIGN KEY ", "UNIQUE ", "CHECK ")):
        table.constraints.append(text)  # already SQL
    else:
        raise SchemaTextError(number, f"  {text}", "not a column, key or CHECK of the table")


def _column(table: _Table, number: int, line: str, name: str, rest: str) -> str:
    """A column's definition in ``CREATE TABLE``, from what follows its name."""
    untyped = rest.startswith(" (no type)")
    tokens = tokenize(rest[len(" (no type)") :] if untyped else rest)
    position = 0
    kind: list[Token] = []
    if not untyped:
        while position < len(tokens) and not (
            tokens[position].kind == "word" and tokens[position].text in _AFTER_TYPE
        ):
            if tokens[position] == Token("op", "("):
                position = closing(tokens, position)
            position += 1
        kind = tokens[:position]
    parts = [quote_name(name)] + ([render(kind)] if kind else [])
    tail = tokens[position:]
    if tail[:2] == [Token("word", "PRIMARY"), Token("word", "KEY")]:
        tail = tail[2:]
        if tail[:1] == [Token("op", "#")] and len(tail) > 1 and tail[1].kind == "literal":
            table.key.append((int(tail[1].text), name))
            tail = tail[2:]
        else:
            auto = " AUTOINCREMENT" if "AUTOINCREMENT" in table.options else ""
            parts.append(f"PRIMARY KEY{auto}")
    if tail and tail[-1] == Token("name", "HIDDEN"):
        raise SchemaTextError(number, line, "a hidden column belongs to a virtual table")
    if Token("word", "DEFAULT") in tail:
        start = tail.index(Token("word", "DEFAULT")) + 1
        end = start
        while end < len(tail) and tail[end] not in _AFTER_DEFAULT:
            end = closing(tail, end) if tail[end] == Token("op", "(") else end
            end += 1
        tail = tail[:start] + _default(tail[start:end]) + tail[end:]
    if tail:
        parts.append(render(tail))
    return " ".join(parts)


_AFTER_DEFAULT = (Token("word", "COLLATE"), Token("word", "GENERATED"))


def _default(expression: list[Token]) -> list[Token]:
    """A ``DEFAULT`` as SQL: ``PRAGMA table_info`` drops the parentheses of ``DEFAULT
    (1 + 2)``, which SQL needs around anything but a literal, a signed number or a word."""
    single = len(expression) == 1 or (
        len(expression) == 2
        and expression[0].text in ("-", "+")
        and expression[1].kind == "literal"
    )
    enclosed = (
        bool(expression)
        and expression[0] == Token("op", "(")
        and closing(expression, 0) == len(expression) - 1
    )
    if single or enclosed:
        return expression
    return [Token("op", "("), *expression, Token("op", ")")]


def _create_table(table: _Table) -> str:
    items = list(table.columns)
    if table.key:
        keys = [quote_name(name) for _, name in sorted(table.key)]
        items.append(f"PRIMARY KEY ({', '.join(keys)})")
    items += table.constraints
    options = [o for o in table.options if o != "AUTOINCREMENT"]
    body = ",\n    ".join(items)
    suffix = (" " + ", ".join(options)) if options else ""
    return f"CREATE TABLE {quote_name(table.name)} (\n    {body}\n){suffix}"
