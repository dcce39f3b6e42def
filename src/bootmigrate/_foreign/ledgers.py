"""Each tool's version table, read as the tool reads it, for :meth:`Baseline.from_tool`.

:class:`ToolLedger` gives a :class:`bootmigrate.Baseline` its two callbacks: ``detect``
(the highest version the tool applied, None for a database it never migrated) and
``applied`` (exactly the versions it applied, checked against the migration files).
A database the tool left dirty or failed, or whose applied versions are not the files'
versions up to the highest of them, is refused before anything is written. The table
is only read: it stays as the tool left it.

The tables, as each tool creates and fills them for SQLite:

- golang-migrate (database/sqlite3/sqlite3.go): ``schema_migrations (version uint64,
  dirty bool)``, one row, the current version; ``SetVersion`` writes it dirty before a
  migration runs and clean after it succeeded. Every file up to it was applied, in order.
- goose (internal/dialect/dialectquery/sqlite3.go): ``goose_db_version (id INTEGER
  PRIMARY KEY AUTOINCREMENT, version_id, is_applied, tstamp)``, a row per applied
  version after the row of version 0 made with the table; old releases recorded a
  rollback as a later row with is_applied false, newer ones delete the row. The latest
  row of a version says whether it is applied.
- dbmate (pkg/driver/sqlite/sqlite.go): ``schema_migrations (version varchar(128)
  primary key)``, a row per applied version, the version as the file name's digits.
- sqlx (sqlx-sqlite/src/migrate.rs): ``_sqlx_migrations (version BIGINT PRIMARY KEY,
  description, installed_on, success BOOLEAN, checksum, execution_time)``, a row per
  version; sqlx refuses to run while a row has success false (``dirty_version``).
- diesel (diesel_migrations setup_migration_table.sql): ``__diesel_schema_migrations
  (version VARCHAR(50) PRIMARY KEY, run_on)``, a row per applied version, the folder's
  version with its ``-`` removed.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from .._errors import LegacyVersionTooNew, UnrecognizedDatabase, UsageError
from . import check_tool

#: Each tool's table, and the columns bootmigrate reads from it.
TABLES = {
    "golang-migrate": ("schema_migrations", ("version", "dirty")),
    "goose": ("goose_db_version", ("id", "version_id", "is_applied")),
    "dbmate": ("schema_migrations", ("version",)),
    "sqlx": ("_sqlx_migrations", ("version", "success")),
    "diesel": ("__diesel_schema_migrations", ("version",)),
}

_AGAIN = "then start again"


@dataclass(frozen=True)
class _Applied:
    """What the table says: the versions applied, or (golang-migrate) the current one."""

    versions: tuple[int, ...] | None
    current: int


@dataclass(frozen=True)
class ToolLedger:
    """The version table *table* of *tool*; its methods are a Baseline's callbacks."""

    tool: str
    table: str

    @classmethod
    def of(cls, tool: str, table: str | None = None) -> ToolLedger:
        """The ledger of *tool*, in its default table unless *table* is given."""
        tool = check_tool(tool)
        if table is not None and (not isinstance(table, str) or not table):
            raise UsageError(f"table must be the name of the {tool} table, not {table!r}")
        return cls(tool, table or TABLES[tool][0])

    @property
    def label(self) -> str:
        """How messages name what the table says: ``goose version``."""
        return f"{self.tool} version"

    def detect(self, conn: sqlite3.Connection) -> int | None:
        """The highest version the tool applied; None for a database it never migrated.

        Raises :class:`UnrecognizedDatabase` for a dirty or failed migration, a table
        that is not the tool's, or a database with tables but without the tool's table.
        """
        read = self._read(conn)
        return None if read is None else read.current

    def applied(self, conn: sqlite3.Connection, versions: Sequence[int]) -> tuple[int, ...]:
        """The versions the tool applied, which must be the migration files' *versions*
        up to the highest of them; refused otherwise, naming the versions."""
        read = self._read(conn)
        if read is None:
            return ()
        files = sorted(versions)
        head = files[-1] if files else 0
        name = _name(conn)
        where = f"{name}: {self.tool}'s {self.table} table"
        if read.versions is None:  # golang-migrate: everything up to the current version
            if read.current > head:
                raise LegacyVersionTooNew(name, self.label, read.current, head)
            if read.current not in files:
                raise UnrecognizedDatabase(
                    f"{where} says the database is at version {read.current}, and no "
                    "migration file has that version: the files were renumbered or deleted "
                    "after it ran, or they are not this database's. It was left unchanged",
                    f"restore the migration files as they were released, {_AGAIN}",
                )
            return tuple(v for v in files if v <= read.current)
        applied = set(read.versions)
        unknown = sorted(applied.difference(files))
        if unknown and all(v > head for v in unknown):
            raise LegacyVersionTooNew(name, self.label, read.current, head)
        if unknown:
            raise UnrecognizedDatabase(
                f"{where} records version(s) {_listed(unknown)}, which no migration file "
                "has: the files were renumbered or deleted after they ran, or they are not "
                "this database's. It was left unchanged",
                f"restore the migration files as they were released, {_AGAIN}",
            )
        missing = [v for v in files if v < read.current and v not in applied]
        if missing:
            raise UnrecognizedDatabase(
                f"{where} records versions up to {read.current} but not "
                f"{_listed(missing)}, which have migration files: {self.tool} applied them "
                "out of order or some were rolled back, and bootmigrate applies the files "
                "in version order, so it cannot tell what the schema is. It was left "
                "unchanged",
                f"apply the missing migration(s) with {self.tool} (or roll back the ones "
                f"after them), {_AGAIN}",
            )
        return tuple(sorted(applied))

    # -- reading the table ---------------------------------------------------------------

    def _read(self, conn: sqlite3.Connection) -> _Applied | None:
        columns = {
            str(row[0]).lower()
            for row in conn.execute(
                "SELECT name FROM pragma_table_info(?, 'main')", (self.table,)
            ).fetchall()
        }
        if not columns:
            tables = conn.execute(
                "SELECT count(*) FROM main.sqlite_master "
                "WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'"
            ).fetchone()[0]
            if tables:
                raise UnrecognizedDatabase(
                    f"{_name(conn)}: it has tables but no {self.table} table, where "
                    f"{self.tool} records the versions it applied: {self.tool} did not "
                    "migrate it (or kept its versions in a table of another name). It was "
                    "left unchanged",
                    "pass the table's name (Baseline.from_tool(tool, table=...)), or the "
                    "baseline of the tool that made it",
                )
            return None
        self._check_columns(conn, columns)
        quoted = '"' + self.table.replace('"', '""') + '"'
        reader = {
            "golang-migrate": self._golang_migrate,
            "goose": self._goose,
            "dbmate": self._versions,
            "sqlx": self._sqlx,
            "diesel": self._versions,
        }[self.tool]
        return reader(conn, f"main.{quoted}")

    def _check_columns(self, conn: sqlite3.Connection, columns: set[str]) -> None:
        needed = TABLES[self.tool][1]
        missing = [c for c in needed if c not in columns]
        table = f"{_name(conn)}: its {self.table} table"
        # golang-migrate and dbmate both default to schema_migrations: golang-migrate's
        # has a dirty column, dbmate's does not.
        if self.tool == "dbmate" and "dirty" in columns:
            problem, other = "has a dirty column, which dbmate's has not", "golang-migrate"
        elif self.tool == "golang-migrate" and missing == ["dirty"]:
            problem, other = "has no dirty column, which golang-migrate's has", "dbmate"
        elif missing:
            problem, other = f"has no {', '.join(missing)} column, which {self.tool} writes", ""
        else:
            return
        raise UnrecognizedDatabase(
            f"{table} {problem}: "
            + (f"it looks like {other}'s" if other else f"it is not {self.tool}'s")
            + ". It was left unchanged",
            f"take it over with Baseline.from_tool({other!r}) (up --baseline {other})"
            if other
            else "pass the tool that made the table",
        )

    def _rows(self, conn: sqlite3.Connection, sql: str) -> list[tuple[object, ...]]:
        return [tuple(row) for row in conn.execute(sql).fetchall()]

    def _bad_value(self, conn: sqlite3.Connection, column: str, value: object) -> Exception:
        return UnrecognizedDatabase(
            f"{_name(conn)}: its {self.table} table holds {value!r} in {column}, which "
            f"{self.tool} does not write there. It was left unchanged",
            f"fix the row by hand (or with {self.tool}), {_AGAIN}",
        )

    def _number(self, conn: sqlite3.Connection, column: str, value: object) -> int:
        # An integer column; dbmate and diesel keep the version as text of digits.
        if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            return value
        if isinstance(value, str) and value.isascii() and value.isdigit():
            return int(value)
        raise self._bad_value(conn, column, value)

    def _flag(self, conn: sqlite3.Connection, column: str, value: object) -> bool:
        # Go's database/sql and sqlx bind a boolean as the integer 1 or 0.
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
        raise self._bad_value(conn, column, value)

    def _golang_migrate(self, conn: sqlite3.Connection, table: str) -> _Applied | None:
        rows = self._rows(conn, f"SELECT version, dirty FROM {table}")
        if not rows:
            return None  # golang-migrate's NilVersion: nothing applied yet
        if len(rows) > 1:
            raise UnrecognizedDatabase(
                f"{_name(conn)}: its {self.table} table holds {len(rows)} rows, and "
                "golang-migrate keeps one (the current version). It was left unchanged",
                f"keep the row golang-migrate wrote last, {_AGAIN}",
            )
        version, dirty = rows[0]
        if self._flag(conn, "dirty", dirty):
            at = "no version (a failed down migration of the first one)"
            if isinstance(version, int) and version >= 0:
                at = f"version {version}"
            raise UnrecognizedDatabase(
                f"{_name(conn)}: golang-migrate's {self.table} table says {at} is dirty: "
                "golang-migrate was migrating to it (up, or down from the version after it) "
                "when a migration failed part-way, so the schema is somewhere between two "
                "versions. It was left unchanged",
                "finish or undo that migration by hand, mark the version clean with "
                f"golang-migrate ('migrate force N', N the version the schema is at), {_AGAIN}",
            )
        return _Applied(None, self._number(conn, "version", version))

    def _goose(self, conn: sqlite3.Connection, table: str) -> _Applied | None:
        latest: dict[int, bool] = {}
        for version, applied in self._rows(
            conn, f"SELECT version_id, is_applied FROM {table} ORDER BY id"
        ):
            latest[self._number(conn, "version_id", version)] = self._flag(
                conn, "is_applied", applied
            )
        versions = tuple(sorted(v for v, applied in latest.items() if applied and v != 0))
        return _Applied(versions, versions[-1]) if versions else None

    def _sqlx(self, conn: sqlite3.Connection, table: str) -> _Applied | None:
        rows = self._rows(conn, f"SELECT version, success FROM {table} ORDER BY version")
        versions = []
        for version, success in rows:
            number = self._number(conn, "version", version)
            if not self._flag(conn, "success", success):
                raise UnrecognizedDatabase(
                    f"{_name(conn)}: sqlx's {self.table} table records version {number} "
                    "as failed (success = false): sqlx started it and it did not finish, so "
                    "the schema is somewhere between the version before it and that one. "
                    "It was left unchanged",
                    f"finish or undo migration {number} by hand, then delete its row from "
                    f"{self.table} (or run it to the end with sqlx), {_AGAIN}",
                )
            versions.append(number)
        return _Applied(tuple(versions), versions[-1]) if versions else None

    def _versions(self, conn: sqlite3.Connection, table: str) -> _Applied | None:
        numbers = sorted(
            {
                self._number(conn, "version", row[0])
                for row in self._rows(conn, f"SELECT version FROM {table}")
            }
        )
        return _Applied(tuple(numbers), numbers[-1]) if numbers else None


def _name(conn: sqlite3.Connection) -> str:
    """The database's file, as messages name it."""
    for _, schema, path in conn.execute("PRAGMA database_list").fetchall():
        if schema == "main":
            return str(path) or "the database"
    return "the database"  # pragma: no cover - every connection has a main database


def _listed(versions: Collection[int]) -> str:
    shown = [str(v) for v in sorted(versions)]
    return ", ".join(shown[:10]) + (f" and {len(shown) - 10} more" if len(shown) > 10 else "")
