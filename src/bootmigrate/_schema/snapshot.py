"""The committed snapshot (``schema.sql``) and the schema a version should have.

``schema.sql`` beside the migrations holds the canonical text of a new database at the
head, so a review shows what a migration does to the schema and CI can compare the two.
:func:`schema_at` builds a throwaway database with the runner to learn a version's
schema; it is the one part of the schema tools that runs migrations.
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from .. import _binding as binding
from .._apply.boot import migrate
from .._source.locate import load
from .._types import SourceLike
from .model import Schema
from .read import canonical_schema

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
    if version == 0 or not (migrations.migrations or migrations.squashes):
        return Schema()
    with fresh_database(migrations, version, prepare=prepare) as conn:
        return canonical_schema(conn)


@contextmanager
def fresh_database(
    source: SourceLike,
    version: int | None = None,
    *,
    prepare: Callable[[sqlite3.Connection], object] | None = None,
) -> Iterator[sqlite3.Connection]:
    """A new database file, in a temporary directory removed afterwards, migrated from
    empty to *version* (None: the head) by the runner, as a user's new install is (from
    a squashed baseline when the set has one; :meth:`MigrationSet.without_baseline`
    gives the set that builds a version by the files)."""
    migrations = load(source)
    with tempfile.TemporaryDirectory(prefix="bootmigrate-") as directory:
        path = os.path.join(directory, "fresh.db")
        conn = binding.connect(path)
        try:
            conn.execute("PRAGMA synchronous = OFF")  # a throwaway file: no fsync
            if prepare is not None:
                prepare(conn)
            migrate(conn, migrations, target=version)
            yield conn
        finally:
            conn.close()
