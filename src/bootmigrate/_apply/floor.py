"""The SQLite floor at run time: refuse, before anything is written, pending migrations
the running SQLite cannot run (:class:`SQLiteTooOld`).

Only the pending scripts are read (:mod:`bootmigrate._source.features`), and only when
something is pending: the no-op boot never imports this module. The running SQLite is
read at one place, :func:`running_sqlite`, which tests replace to pretend to be an
older SQLite.
"""

from __future__ import annotations

from .. import _binding as binding
from .._binding import is_connection
from .._db.connection import describe
from .._errors import SQLiteTooOld
from .._source import features

TYPE_CHECKING = False
if TYPE_CHECKING:
    import sqlite3
    from collections.abc import Iterable

    from .._source.model import Script
    from .._types import DatabaseLike


def running_sqlite(db: DatabaseLike) -> tuple[features.Version, frozenset[str]]:
    """The version and compile options of the SQLite that will run the migrations.

    A borrowed connection is asked (it may be pysqlite3 or SQLCipher, not the
    :mod:`sqlite3` module's library); for a path, the library that opens it (the app's
    ``connect``, or :mod:`sqlite3`), asked on a ``:memory:`` connection so the database
    file is not opened.
    """
    if is_connection(db):
        from .._db.connection import translated
        from .._db.errors import Where

        with translated(Where(describe(db), 0.0, db)):
            return _ask(db)
    # The library that opens the path: sqlite3's, or the app's connect function's.
    memory = binding.connect(":memory:")
    try:
        return _ask(memory)
    finally:
        memory.close()


def _ask(conn: sqlite3.Connection) -> tuple[features.Version, frozenset[str]]:
    cursor = conn.cursor()
    cursor.row_factory = None  # whatever the app set on the connection
    try:
        version = _text(cursor.execute("SELECT sqlite_version()").fetchone()[0])
        options = [_text(row[0]) for row in cursor.execute("PRAGMA compile_options")]
    finally:
        cursor.close()
    return features.parse_version(version), frozenset(options)


def _text(value: object) -> str:
    # The app's text_factory may make bytes of every text value.
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def check(db: DatabaseLike, scripts: Iterable[Script]) -> None:
    """Raise :class:`SQLiteTooOld` for the first pending script whose statements need a
    feature the running SQLite lacks."""
    needed = [need for script in scripts for need in features.needs(script.filename, script.text)]
    if not needed:
        return
    version, options = running_sqlite(db)
    need = features.unmet(needed, version, options)
    if need is None:
        return
    running = f"SQLite {features.format_version(version)}"
    feature = need.feature
    if feature.version is None or version >= feature.version:
        running += " built without " + " or ".join(f"SQLITE_{o}" for o in feature.options)
    raise SQLiteTooOld(
        describe(db), feature.name, need.filename, need.line, feature.needs(), running
    )
