"""Foreign key checks that cost what a step could have broken.

A run refuses foreign key violations that it adds (a migration may rebuild tables with
enforcement off, but may not leave orphans behind), and lets through those that were
there before it: the app's data is not the migration's doing. A full
``PRAGMA foreign_key_check`` reads every row of every child table, so running one around
every step makes a set of thirty table rebuilds on a big database several times slower
than the rebuilds themselves. :class:`Orphans` therefore checks the whole database once,
when a run first needs it (and not at all when no table declares a foreign key), and
after each step only the tables the step wrote (as SQLite's authorizer reported them to
the executor) and the tables that reference them: no other table's violations can have
changed.
"""

from __future__ import annotations

import sqlite3

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable

    #: (child table, rowid, parent table, foreign key index), as foreign_key_check says.
    Violation = tuple[str, "int | None", str, int]


def _rows(conn: sqlite3.Connection, table: str | None) -> set[Violation]:
    # The table-valued form takes the table as a bound parameter (a PRAGMA takes none).
    sql = (
        "PRAGMA main.foreign_key_check"
        if table is None
        else "SELECT \"table\", rowid, parent, fkid FROM pragma_foreign_key_check(?, 'main')"
    )
    parameters = () if table is None else (table,)
    return {(str(t), r, str(p), int(i)) for t, r, p, i in conn.execute(sql, parameters)}


def all_violations(conn: sqlite3.Connection) -> set[Violation]:
    """Every foreign key violation in the database (``PRAGMA foreign_key_check``)."""
    return _rows(conn, None)


def _declares_foreign_keys(conn: sqlite3.Connection) -> bool:
    # A cheap first look: a table without REFERENCES in its text has no foreign key.
    row = conn.execute(
        "SELECT 1 FROM main.sqlite_master WHERE type = 'table' AND sql LIKE '%REFERENCES%' LIMIT 1"
    ).fetchone()
    return row is not None


class Orphans:
    """The foreign key violations of one database, known table by table."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        self._known: set[Violation] | None = None

    def known(self) -> frozenset[Violation]:
        """The violations the database has now (checked in full the first time)."""
        if self._known is None:
            self._known = _rows(self._conn, None) if _declares_foreign_keys(self._conn) else set()
        return frozenset(self._known)

    def assume(self, violations: Iterable[Violation]) -> None:
        """Take *violations* as what the database had (a step's note from an earlier run)."""
        self._known = set(violations)

    def added_by(self, tables: Iterable[str] | None) -> list[Violation]:
        """The violations a change to *tables* added (None: any table may have changed),
        sorted; what is known is brought up to date."""
        before = self.known()
        conn = self._conn
        if tables is None:
            now = _rows(conn, None)
            self._known = now
        else:
            affected = _with_children(conn, {t.lower() for t in tables})
            if not affected:
                return []
            now = set()
            existing = {
                str(name).lower(): str(name)
                for (name,) in conn.execute(
                    "SELECT name FROM main.sqlite_master WHERE type = 'table'"
                )
            }
            for table in sorted(affected):
                if table in existing:
                    now |= _rows(conn, existing[table])
            kept = {v for v in before if v[0].lower() not in affected}
            self._known = kept | now
        return sorted(now - before, key=lambda v: (v[0], v[1] or 0, v[2], v[3]))


def _with_children(conn: sqlite3.Connection, tables: set[str]) -> set[str]:
    """*tables* and every table whose foreign keys point at one of them (lower case)."""
    if not tables or not _declares_foreign_keys(conn):
        return set()  # no table declares a foreign key: none can be broken
    affected = set(tables)
    for (name,) in conn.execute(
        "SELECT name FROM main.sqlite_master WHERE type = 'table' AND sql LIKE '%REFERENCES%'"
    ).fetchall():
        parents = conn.execute(
            'SELECT "table" FROM pragma_foreign_key_list(?)', (str(name),)
        ).fetchall()
        if any(str(parent).lower() in tables for (parent,) in parents):
            affected.add(str(name).lower())
    return affected
