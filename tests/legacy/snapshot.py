"""Read every row of every table of a database file, through a new connection."""

from __future__ import annotations

import os
import sqlite3
from typing import Any

#: table -> {row key: {column: value}}
Rows = dict[str, dict[tuple[Any, ...], dict[str, Any]]]

# Not data: bootmigrate's ledger, and the search index (checked on its own).
_SKIP_PREFIXES = ("bootmigrate_", "sessions_search")


def read_rows(path: str | os.PathLike[str]) -> Rows:
    """Every table's rows keyed by primary key (by rowid for tables without one).

    sqlite_sequence is included: a takeover must keep each AUTOINCREMENT counter.
    """
    conn = sqlite3.connect(f"file:{os.fspath(path)}?mode=ro", uri=True)
    try:
        tables = [
            name
            for (name,) in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
            )
            if name == "sqlite_sequence"
            or not (name.startswith("sqlite_") or name.startswith(_SKIP_PREFIXES))
        ]
        rows: Rows = {}
        for table in tables:
            info = conn.execute(f'PRAGMA table_info("{table}")').fetchall()
            columns = [row[1] for row in info]
            key = [row[1] for row in sorted(info, key=lambda r: r[5]) if row[5]] or ["name"]
            listed = ", ".join(f'"{c}"' for c in columns)
            rows[table] = {}
            for values in conn.execute(f'SELECT {listed} FROM "{table}"'):
                row = dict(zip(columns, values))
                rows[table][tuple(row[k] for k in key)] = row
        return rows
    finally:
        conn.close()
