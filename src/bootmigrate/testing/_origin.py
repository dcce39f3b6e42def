"""A diagnostic report turned back into a database: a failure seen in the field as a test.

:func:`origin_from_report` reads what :func:`bootmigrate.diagnose` wrote on a user's
machine and builds a database file with the same schema, ledger, ``user_version``,
page size, encoding and journal mode, and in each table as many rows as the user's, of
the same storage classes per column (values made up by the kit's row writer,
:mod:`._rows`). Migrating it then meets what the user's database met: a ``NOT NULL``
column over NULLs, a ``CHECK`` over text where numbers were expected.

The order matters. Tables, virtual tables and indexes are created first; then the
ledger; then the rows, with foreign keys enforced (parents first); then views and
triggers, so that no trigger adds rows the report did not count (an audit trigger's
rows are counted in its own table already). The file is built beside the target and
moved there only when its own report (schema, ledger, counts) equals the one given:
a database that differs is never left behind, the difference is an error.
"""

from __future__ import annotations

import collections
import json
import os
import sqlite3
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Callable

from .. import _binding as binding
from .._binding import sqlite_errors
from .._db import ledger
from .._db.connection import DEFAULT_TIMEOUT, open_read_only, translated
from .._db.errors import Where
from .._diagnose import REPORT_FORMAT, blank_literals, contents
from .._errors import InvalidReport, MigrationError, UnreproducibleReport, UsageError
from .._schema.model import schema_diff
from .._schema.read import canonical_schema
from .._schema.rebuild import SchemaStatements, SchemaTextError, schema_statements
from .._schema.tokens import quote_name
from .._types import Connect, SourceLike
from ._rows import STORAGE_CLASSES, RowsRefused, TableCounts, write_counted

_AS_WRITTEN = (
    "give the report as bootmigrate.diagnose() or `bootmigrate diagnose` wrote it, unedited"
)
_JOURNAL_MODES = {"delete", "truncate", "persist", "memory", "wal", "off"}
_ENCODINGS = {"UTF-8", "UTF-16le", "UTF-16be"}


class _Parsed:
    """The parts of a report the database is built from, checked."""

    def __init__(
        self,
        file: dict[str, Any],
        applied: list[ledger.AppliedMigration],
        schema: list[str],
        counts: dict[str, TableCounts],
    ) -> None:
        self.file = file
        self.applied = applied
        self.schema = schema
        self.counts = counts


def origin_from_report(
    report: Mapping[str, Any] | str | os.PathLike[str],
    path: str | os.PathLike[str],
    source: SourceLike,
    *,
    prepare: Callable[[sqlite3.Connection], object] | None = None,
    connect: Connect | None = None,
) -> Path:
    """Build the database file *path* from a report of :func:`bootmigrate.diagnose`: its
    schema, its ledger and ``user_version``, its page size, encoding and (WAL) journal
    mode, and per table its row count, each column holding values of the storage
    classes the report counted (the values are synthetic). Returns *path*.

    *report* is the dict ``diagnose`` returned or the path of the JSON file it was saved
    as. *source* is the app's migrations (``"pkg:folder"``, a directory or a loaded
    set); they give back the literals the report hides (``'?'``): where a line of the
    report's schema is a line of the schema its ledger's newest version has, that line is
    used, with its ``DEFAULT``, ``CHECK ... IN`` list, view and trigger text and virtual
    table arguments as the migrations wrote them (a line changed outside the migrations
    keeps its ``'?'``).
    *prepare* is called with the connection first (functions and collations the schema
    uses). *connect*, the app's own function to open its database (see
    :data:`bootmigrate.Connect`: SQLCipher with its key, pysqlite3), opens the file.

    *path* must not exist: nothing is ever written over. Raises
    :class:`~bootmigrate.InvalidReport` for a report it cannot read (which key, why) and
    :class:`~bootmigrate.UnreproducibleReport` when synthetic rows cannot give a table the
    report's counts (a ``CHECK`` or foreign key they cannot satisfy, a class the column's
    type does not keep); nothing is left at *path* then. Virtual tables are created empty
    (the report counts no rows in them).
    """
    with binding.using(None, connect):
        return _origin(report, path, source, prepare)


def _origin(
    report: Mapping[str, Any] | str | os.PathLike[str],
    path: str | os.PathLike[str],
    source: SourceLike,
    prepare: Callable[[sqlite3.Connection], object] | None,
) -> Path:
    name, data = _read(report)
    parsed = _parse(name, data)
    target = Path(path)
    if os.path.lexists(target):
        raise UsageError(
            f"{target} exists; origin_from_report builds a new database file and never "
            "writes over one: give a path that does not exist"
        )
    if not target.parent.is_dir():
        raise UsageError(f"{target}: the directory {target.parent} does not exist")
    lines = _with_literals(parsed.schema, source, parsed.applied, prepare)
    try:
        statements = schema_statements(lines)
    except SchemaTextError as exc:
        raise InvalidReport(
            name, f"'schema' line {exc.number} ({exc.line!r}): {exc.problem}", _AS_WRITTEN
        ) from None
    _check_tables(name, statements, parsed.counts)
    try:
        handle, building = tempfile.mkstemp(
            prefix=f".{target.name}.", suffix=".building", dir=target.parent
        )
    except OSError as exc:
        raise UsageError(
            f"{target}: cannot create a file in {target.parent} ({exc.strerror or exc})"
        ) from None
    os.close(handle)
    try:
        # What is not the report's doing (a full disk) is named as any run names it.
        with translated(Where(str(target), DEFAULT_TIMEOUT)):
            _build(name, Path(building), parsed, statements, prepare)
            _compare(name, Path(building), parsed, prepare)
            if str(parsed.file["journal_mode"]).lower() == "wal":
                conn = binding.connect(building)
                try:
                    conn.execute("PRAGMA journal_mode = WAL")
                finally:
                    conn.close()
        os.replace(building, target)
    finally:
        for leftover in (building, *(building + s for s in ("-journal", "-wal", "-shm"))):
            if os.path.exists(leftover):
                os.remove(leftover)
    return target


# -- reading the report ------------------------------------------------------------------


def _read(report: Mapping[str, Any] | str | os.PathLike[str]) -> tuple[str, Mapping[str, Any]]:
    if isinstance(report, Mapping):
        return "the report", report
    if not isinstance(report, (str, os.PathLike)):
        raise UsageError(
            "origin_from_report reads a report: give the dict bootmigrate.diagnose() "
            f"returned or the path of its JSON file, not {type(report).__name__}"
        )
    name = os.fspath(report)
    try:
        text = Path(name).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        problem = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise InvalidReport(
            name,
            f"cannot read the report ({problem})",
            "give the path of the JSON file `bootmigrate diagnose` wrote",
        ) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidReport(
            name, f"not JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})", _AS_WRITTEN
        ) from None
    if not isinstance(data, dict):
        raise InvalidReport(name, f"the JSON is {_kind(data)}, not an object", _AS_WRITTEN)
    return name, data


def _kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, (list, tuple)):
        return "a list"
    return "an object"


def _need(
    name: str, holder: Mapping[str, Any], key: str, where: str, kind: type | tuple[type, ...]
) -> Any:
    """``holder[key]``, checked to be of *kind*; an :class:`InvalidReport` otherwise."""
    shown = f"{where}.{key}" if where else key
    if key not in holder:
        raise InvalidReport(name, f"the key {shown!r} is missing", _AS_WRITTEN)
    value = holder[key]
    kinds = kind if isinstance(kind, tuple) else (kind,)
    wrong_bool = isinstance(value, bool) and bool not in kinds
    if wrong_bool or not isinstance(value, kinds):
        expected = " or ".join(_KIND_NAMES[k] for k in kinds)
        raise InvalidReport(
            name, f"{shown!r} is {_kind(value)} ({value!r:.60}), not {expected}", _AS_WRITTEN
        )
    return value


_KIND_NAMES: dict[type, str] = {
    int: "a whole number",
    str: "a string",
    bool: "a boolean",
    list: "a list",
    dict: "an object",
}


def _parse(name: str, data: Mapping[str, Any]) -> _Parsed:
    if "report_format" not in data:
        raise InvalidReport(
            name,
            "the key 'report_format' is missing, so this is not a report of bootmigrate.diagnose()",
            _AS_WRITTEN,
        )
    found = _need(name, data, "report_format", "", int)
    if found != REPORT_FORMAT:
        newer = found > REPORT_FORMAT
        raise InvalidReport(
            name,
            f"report_format {found} is {'newer than the' if newer else 'not a'} format this "
            f"bootmigrate reads ({REPORT_FORMAT})",
            "upgrade bootmigrate where the tests run" if newer else _AS_WRITTEN,
        )
    if "file" in data and data["file"] is None:
        codes = [str(f.get("code")) for f in data.get("findings") or [] if isinstance(f, Mapping)]
        raise UnreproducibleReport(
            name,
            "the report holds no database: its file was missing or could not be read when "
            f"the report was made (findings: {', '.join(codes) or 'none'})",
            "ask for a report of the database file itself, made with the app closed",
        )
    file = dict(_need(name, data, "file", "", dict))
    for key in ("page_size", "user_version", "application_id"):
        _need(name, file, key, "file", int)
    encoding = _need(name, file, "encoding", "file", str)
    if encoding not in _ENCODINGS:
        raise InvalidReport(name, f"file.encoding {encoding!r} is not one SQLite has", _AS_WRITTEN)
    mode = _need(name, file, "journal_mode", "file", str)
    if mode.lower() not in _JOURNAL_MODES:
        raise InvalidReport(name, f"file.journal_mode {mode!r} is not one SQLite has", _AS_WRITTEN)
    versions = data.get("versions")
    written_by = versions.get("bootmigrate") if isinstance(versions, Mapping) else None
    applied = []
    for number, row in enumerate(_need(name, data, "ledger", "", list)):
        where = f"ledger[{number}]"
        if not isinstance(row, Mapping):
            raise InvalidReport(name, f"{where!r} is {_kind(row)}, not an object", _AS_WRITTEN)
        version = _need(name, row, "version", where, int)
        if version < 1:
            raise InvalidReport(name, f"'{where}.version' is {version}, not positive", _AS_WRITTEN)
        applied.append(
            ledger.AppliedMigration(
                version,
                _need(name, row, "name", where, str),
                _need(name, row, "checksum", where, str),
                _need(name, row, "applied_at", where, str),
                0.0,  # the report leaves it out: the user's timings are not the point
                str(written_by) if written_by else "unknown",
                _need(name, row, "backward_compatible", where, bool),
            )
        )
    schema = _need(name, data, "schema", "", list)
    for number, line in enumerate(schema):
        if not isinstance(line, str):
            raise InvalidReport(
                name, f"'schema[{number}]' is {_kind(line)}, not a string", _AS_WRITTEN
            )
    counts = {}
    for table, entry in _need(name, data, "tables", "", dict).items():
        where = f"tables.{table}"
        if not isinstance(entry, Mapping):
            raise InvalidReport(name, f"{where!r} is {_kind(entry)}, not an object", _AS_WRITTEN)
        rows = _need(name, entry, "rows", where, int)
        columns: dict[str, dict[str, int]] = {}
        for column, classes in _need(name, entry, "columns", where, dict).items():
            at = f"{where}.columns.{column}"
            if not isinstance(classes, Mapping):
                raise InvalidReport(name, f"{at!r} is {_kind(classes)}, not an object", _AS_WRITTEN)
            columns[column] = {
                kind: _need(name, classes, kind, at, int) for kind in STORAGE_CLASSES
            }
            if rows < 0 or sum(columns[column].values()) != rows:
                raise InvalidReport(
                    name,
                    f"the storage classes of {at!r} add up to {sum(columns[column].values())}, "
                    f"and the table has {rows} rows",
                    _AS_WRITTEN,
                )
        counts[str(table)] = TableCounts(rows, columns)
    return _Parsed(file, applied, list(schema), counts)


def _check_tables(name: str, statements: SchemaStatements, counts: dict[str, TableCounts]) -> None:
    in_schema = {table.name for table in statements.tables}
    if in_schema != set(counts):
        only_schema = sorted(in_schema - set(counts))
        only_counts = sorted(set(counts) - in_schema)
        raise InvalidReport(
            name,
            "'schema' and 'tables' name different tables"
            + (f" (only in 'schema': {', '.join(only_schema)})" if only_schema else "")
            + (f" (only in 'tables': {', '.join(only_counts)})" if only_counts else ""),
            _AS_WRITTEN,
        )


# -- the literals the report hides ---------------------------------------------------------


def _with_literals(
    lines: list[str],
    source: SourceLike,
    applied: list[ledger.AppliedMigration],
    prepare: Callable[[sqlite3.Connection], object] | None,
) -> list[str]:
    """*lines* with each line that is, literals blanked, a line of the schema the
    ledger's newest version has (in the same table) replaced by that line."""
    from .._schema.snapshot import schema_at
    from .._source.locate import load

    migrations = load(source)  # a source that cannot be read is the caller's to fix
    version = max((row.version for row in applied), default=0)
    if version not in migrations.versions:
        return lines  # nothing to compare with: the literals stay '?'
    try:
        expected = schema_at(migrations, version, prepare=prepare).to_text().splitlines()
    except MigrationError:
        return lines  # the migrations do not build here (an old SQLite): keep '?'
    known: dict[tuple[str, str], collections.deque[str]] = {}
    for context, line in _in_context(expected):
        known.setdefault((context, blank_literals(line)), collections.deque()).append(line)
    restored = []
    for context, line in _in_context(lines):
        found = known.get((context, line))
        restored.append(found.popleft() if found else line)
    return restored


def _in_context(lines: list[str]) -> list[tuple[str, str]]:
    """Each line with the table line it belongs to (``""`` for a line of its own)."""
    context = ""
    out = []
    for line in lines:
        if not line.startswith("  "):
            context = blank_literals(line) if line.startswith("table ") else ""
        out.append((context, line))
    return out


# -- building and comparing ------------------------------------------------------------------


def _build(
    name: str,
    path: Path,
    parsed: _Parsed,
    statements: SchemaStatements,
    prepare: Callable[[sqlite3.Connection], object] | None,
) -> None:
    conn = binding.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA synchronous = OFF")  # a test's file: no fsync
        if prepare is not None:
            prepare(conn)
        # Page size and encoding hold only before the first table is created.
        conn.execute(f"PRAGMA page_size = {int(parsed.file['page_size'])}")
        conn.execute(f"PRAGMA encoding = '{parsed.file['encoding']}'")
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("BEGIN")
        conn.execute(f"PRAGMA application_id = {int(parsed.file['application_id'])}")
        for table in statements.tables:
            _create(name, conn, "table", table.name, table.statement)
        for object_name, text in statements.virtual_tables:
            _create(name, conn, "virtual table", object_name, text)
        for object_name, text in statements.indexes:
            _create(name, conn, "index", object_name, text)
        if parsed.applied:
            ledger.ensure(conn)
        ledger.record_rows(conn, parsed.applied, user_version=int(parsed.file["user_version"]))
        try:
            write_counted(conn, canonical_schema(conn).tables, parsed.counts)
        except RowsRefused as exc:
            raise UnreproducibleReport(
                name,
                exc.problem,
                "build this database with an origin of your own (a function that writes rows "
                "the constraint accepts; see MigrationKit's origins), or edit that table's "
                "counts in the report if it is safe to leave those rows out",
                table=exc.table,
                column=exc.column,
            ) from None
        _create_views(name, conn, statements.views)
        for object_name, on, text in statements.triggers:
            _create(name, conn, "trigger", object_name, text, table=on)
        conn.execute("COMMIT")
    finally:
        conn.close()


def _create(
    name: str,
    conn: sqlite3.Connection,
    kind: str,
    object_name: str,
    text: str,
    *,
    table: str | None = None,
) -> None:
    try:
        conn.execute(text)
    except sqlite_errors.Error as exc:
        hidden = "'?'" in text
        raise UnreproducibleReport(
            name,
            f"SQLite refuses the {kind} {quote_name(object_name)} of the report's schema: {exc}",
            "give the migrations the database was made by as the source: the report shows "
            "literals as '?', and only schema lines that match the schema of its version "
            "get them back (a line changed outside the migrations keeps '?')"
            if hidden
            else "pass prepare= a function that registers the functions and collations the "
            "schema uses",
            table=table if table is not None else object_name if kind == "table" else None,
        ) from None


def _create_views(name: str, conn: sqlite3.Connection, views: list[tuple[str, str]]) -> None:
    """Create the views, each after the views it reads (the report sorts them by name)."""
    waiting = list(views)
    while waiting:
        failed = []
        for object_name, text in waiting:
            try:
                conn.execute(text)
            except sqlite_errors.Error:
                failed.append((object_name, text))
        if len(failed) == len(waiting):  # no progress: the first one's error is the answer
            _create(name, conn, "view", *failed[0])
        waiting = failed


def _compare(
    name: str, path: Path, parsed: _Parsed, prepare: Callable[[sqlite3.Connection], object] | None
) -> None:
    """The report of the database built equals the one given (schema, ledger, counts)."""
    conn = open_read_only(str(path), DEFAULT_TIMEOUT)
    try:
        if prepare is not None:
            prepare(conn)
        found = contents(conn, str(path))
    finally:
        conn.close()
    advice = (
        "build this database with an origin of your own (see MigrationKit's origins); "
        "please report the difference to bootmigrate"
    )
    if found["schema"] != parsed.schema:
        diff = schema_diff(
            "".join(line + "\n" for line in parsed.schema),
            "".join(line + "\n" for line in found["schema"]),
            expected_label="the report",
            actual_label="the database built",
        )
        raise UnreproducibleReport(
            name,
            f"the schema built differs from the report's ('-' report, '+' built):\n{diff}",
            advice,
        )
    wanted = [(r.version, r.name, r.checksum, r.applied_at) for r in parsed.applied]
    built = [(r["version"], r["name"], r["checksum"], r["applied_at"]) for r in found["ledger"]]
    if wanted != built:
        raise UnreproducibleReport(name, "the ledger built differs from the report's", advice)
    for table, counted in parsed.counts.items():
        got = found["tables"].get(table, {"rows": 0, "columns": {}})
        if set(got["columns"]) != set(counted.columns):
            raise InvalidReport(
                name,
                f"'tables.{table}.columns' names {', '.join(sorted(counted.columns)) or 'none'}, "
                f"and the schema's table {table} has {', '.join(sorted(got['columns']))}",
                _AS_WRITTEN,
            )
        if got["rows"] != counted.rows:
            raise UnreproducibleReport(
                name,
                f"table {table} holds {got['rows']} rows, and the report counts {counted.rows}",
                advice,
                table=table,
            )
        for column, classes in counted.columns.items():
            have = got["columns"].get(column)
            if have != classes:
                raise UnreproducibleReport(
                    name,
                    f"column {column} of table {table} holds {_classes(have or {})}, and the "
                    f"report counts {_classes(classes)}: the column's type affinity or "
                    "generated expression decides the class of what it stores",
                    "build this database with an origin of your own (see MigrationKit's "
                    "origins), whose rows have the classes the user's had",
                    table=table,
                    column=column,
                )


def _classes(counted: Mapping[str, int]) -> str:
    shown = [
        f"{counted.get(kind, 0)} {kind.upper()}" for kind in STORAGE_CLASSES if counted.get(kind)
    ]
    return ", ".join(shown) or "nothing"
