"""Fingerprints of a database's rows, to prove that a run kept (or changed) them.

Each row becomes a SHA-256 digest of its values with their types (``1``, ``1.0``,
``'1'`` and ``b'1'`` differ), and a table's fingerprint is the digest of its sorted row
digests: independent of row order and of the pages the rows sit on (a ``VACUUM`` or a
table rebuild that keeps the rows keeps the fingerprint), while duplicated, lost or
changed rows change it.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from pathlib import Path

from .. import _binding as binding
from .._binding import is_connection
from .._types import DatabaseLike


def tables(conn: sqlite3.Connection) -> list[str]:
    """The names of the database's tables, sorted (virtual tables included)."""
    rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
    return [str(name) for (name,) in rows]


def row_digests(conn: sqlite3.Connection, table: str) -> list[str]:
    """A SHA-256 digest (hex) of every row of *table*, sorted."""
    quoted = '"' + table.replace('"', '""') + '"'
    return sorted(
        hashlib.sha256(encode_row(row).encode("utf-8")).hexdigest()
        for row in conn.execute(f"SELECT * FROM {quoted}")
    )


def fingerprint(db: DatabaseLike, *, exclude: Collection[str] = ()) -> dict[str, str]:
    """``{table: digest of its sorted row digests}`` for every table not in *exclude*.

    A path is opened read-only, so taking a fingerprint never changes the file.
    """
    with _reading(db) as conn:
        result: dict[str, str] = {}
        for table in tables(conn):
            if table in exclude:
                continue
            digest = hashlib.sha256()
            for row in row_digests(conn, table):
                digest.update(row.encode("ascii"))
            result[table] = digest.hexdigest()
        return result


def encode_row(row: tuple[object, ...]) -> str:
    """A row as text that keeps each value's type (``1``, ``1.0``, ``'1'``, ``b'1'`` differ)."""
    # repr keeps the type: 1, 1.0, '1' and b'1' are four different rows.
    return repr(tuple((type(value).__name__, value) for value in row))


@contextmanager
def _reading(db: DatabaseLike) -> Iterator[sqlite3.Connection]:
    if is_connection(db):
        row_factory, text_factory = db.row_factory, db.text_factory
        db.row_factory, db.text_factory = None, str
        try:
            yield db
        finally:
            db.row_factory, db.text_factory = row_factory, text_factory
        return
    path = Path(db)
    if not path.is_file():
        raise FileNotFoundError(f"no database file at {os.fspath(db)!r}")
    conn = binding.connect(path.resolve().as_uri() + "?mode=ro", uri=True)
    try:
        yield conn
    finally:
        conn.close()
