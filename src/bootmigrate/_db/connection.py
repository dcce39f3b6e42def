"""Opening, borrowing and giving back the connection a run works on.

A path is opened by bootmigrate and closed at the end. A connection the app passes in
is *borrowed*: the run changes what it must (no implicit transactions, its busy timeout,
foreign key enforcement off, a journal that can roll back) and gives every setting back
afterwards, also when the run fails; what a migration attached or created in ``temp``
is removed. :func:`peek` is the boot's one query, made without importing anything the
common case does not need (see :mod:`bootmigrate._apply.boot`).

Errors: everything here raises :class:`MigrationError`s through the one translator,
:mod:`bootmigrate._db.errors`.
"""

from __future__ import annotations

import os
import sqlite3
import sys

from .. import _binding as binding
from .._binding import is_connection, sqlite_errors
from .._errors import DatabaseUnavailable, ReadOnlyDatabase, UsageError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence
    from types import TracebackType
    from typing import Any

    from .._types import DatabaseLike
    from .errors import Where

#: How long to wait for another connection's lock, in seconds.
DEFAULT_TIMEOUT = 30.0
# SQLite's busy timeout is an int of milliseconds; longer waits are this one.
_MAX_BUSY_MS = 2**31 - 1
# Journal modes in which a failed or killed transaction cannot be rolled back safely.
_UNSAFE_JOURNALS = ("off", "memory")


def check_timeout(timeout: object) -> float:
    """*timeout* as seconds, or :class:`UsageError` (``inf`` waits as long as SQLite can)."""
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout != timeout:
        raise UsageError(f"timeout must be a number of seconds, not {timeout!r}")
    if timeout < 0:
        raise UsageError(f"timeout must be 0 or more seconds, not {timeout!r}")
    return float(min(timeout, _MAX_BUSY_MS / 1000))


def describe(db: DatabaseLike) -> str:
    """How messages name the database: its path, or the path of a connection's main file."""
    if is_connection(db):
        try:
            cursor = db.cursor()
            cursor.row_factory = None  # whatever the app set on the connection
            row = cursor.execute("PRAGMA database_list").fetchone()
        except sqlite_errors.Error:
            return "<connection>"
        path = row[2] if row else None
        if isinstance(path, bytes):  # the app's text_factory
            path = os.fsdecode(path)
        return str(path) if path else ":memory:"
    return os.fspath(db)


def _path(db: object) -> str:
    """The path *db* names, or :class:`UsageError` for something that is not one."""
    if isinstance(db, str):
        return db
    if isinstance(db, os.PathLike):
        path = os.fspath(db)
        if isinstance(path, str):
            return path
    if isinstance(db, (bytes, os.PathLike)):
        raise UsageError(
            f"a database path must be text, not bytes ({db!r}); decode it with os.fsdecode()"
        )
    raise UsageError(
        f"a database is a path or an open sqlite3.Connection, not {type(db).__name__} {db!r}"
    )


def _usable(conn: sqlite3.Connection) -> None:
    try:
        conn.total_changes  # noqa: B018 - raises on a closed connection
    except sqlite_errors.ProgrammingError as exc:
        raise UsageError(f"the connection passed to bootmigrate is closed ({exc})") from exc


def peek(db: DatabaseLike, sql: str, parameters: Sequence[object], timeout: float) -> list[Any]:
    """The rows of one read-only query, or ``[]`` when the database cannot answer it.

    The boot's fast path: any problem (no file, no table, a locked or damaged file) is
    left to the full path, which reports it. Imports nothing beyond :mod:`sqlite3`.
    """
    if is_connection(db):
        try:
            factories = db.row_factory, db.text_factory
            db.row_factory, db.text_factory = None, str
            # The app's functions are registered on its connection: a view planted in
            # place of the ledger must not reach them (SQLite 3.31+; older ignore it).
            trusted = db.execute("PRAGMA trusted_schema").fetchone()
            db.execute("PRAGMA trusted_schema = OFF")
        except sqlite_errors.Error:
            return []  # closed, or inside the app's transaction: the full path says so
        try:
            return db.execute(sql, parameters).fetchall()
        except sqlite_errors.Error:
            return []
        finally:
            db.row_factory, db.text_factory = factories
            if trusted is not None:
                db.execute(f"PRAGMA trusted_schema = {int(trusted[0])}")
    if not isinstance(db, (str, os.PathLike)) or not os.path.isfile(db):
        return []
    try:
        conn = binding.connect(db, timeout=timeout)
    except (ValueError, TypeError):
        return []
    except sqlite_errors.Error:
        return []
    try:
        return conn.execute(sql, parameters).fetchall()
    except sqlite_errors.Error:
        return []
    finally:
        conn.close()


class translated:
    """Turn :mod:`sqlite3` errors raised inside the block into :class:`MigrationError`.

    *where* says where the block runs, or *database* does, asked only when something
    failed (the runner enters such a block around every ledger write).
    """

    __slots__ = ("_database", "_where")

    def __init__(self, where: Where | None = None, database: Database | None = None) -> None:
        self._where = where
        self._database = database

    def __enter__(self) -> None:
        return None

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if isinstance(exc, sqlite_errors.Error):
            from .errors import translate

            where = self._where
            if where is None:
                assert self._database is not None
                where = self._database.where()
            raise translate(exc, where) from exc


class Database:
    """The connection a run works on, with what it takes to give it back unchanged."""

    def __init__(self, conn: sqlite3.Connection, name: str, timeout: float, owned: bool) -> None:
        #: The connection.
        self.conn = conn
        #: How messages name the database (its path).
        self.name = name
        #: The busy timeout in force, in seconds.
        self.timeout = timeout
        #: True when bootmigrate opened the connection (and closes it).
        self.owned = owned
        #: The runner's cursor, reused for every statement (measurably cheaper).
        self.cursor = conn.cursor()
        self._settings: dict[str, Any] = {}
        #: The journal mode the run started in (after making it safe).
        self.journal_mode = ""
        self._app_journal_mode = ""
        self._attached: set[str] = set()
        self._temp_objects: set[tuple[str, str]] = set()

    @property
    def is_file(self) -> bool:
        """True when the database is a file (not ``:memory:`` or a temporary database)."""
        return self.name not in ("", ":memory:", "<connection>")

    def where(self, *, at_begin: bool = False) -> Where:
        """What the error translator needs to name a failure on this connection."""
        from .errors import Where

        return Where(self.name, self.timeout, self.conn, at_begin=at_begin, writing=True)

    def translated(self) -> translated:
        """A block whose :mod:`sqlite3` errors become :class:`MigrationError` s."""
        return translated(database=self)

    def execute(self, sql: str, parameters: Sequence[object] = ()) -> sqlite3.Cursor:
        """Run one statement on the runner's cursor (reused: it is measurably cheaper)."""
        return self.cursor.execute(sql, parameters)

    def begin(self) -> None:
        """``BEGIN IMMEDIATE``: take the write lock, waiting up to the timeout."""
        with translated(self.where(at_begin=True)):
            self.conn.execute("BEGIN IMMEDIATE")

    def commit(self) -> None:
        """``COMMIT`` the runner's transaction."""
        with self.translated():
            self.conn.execute("COMMIT")

    def rollback(self) -> None:
        """Roll back the runner's transaction, if one is open."""
        if self.conn.in_transaction:
            self.conn.execute("ROLLBACK")

    def foreign_key_violations(self) -> set[tuple[str, int | None, str, int]]:
        """``PRAGMA foreign_key_check``: (table, rowid, parent, foreign-key index) rows."""
        rows = self.conn.execute("PRAGMA foreign_key_check").fetchall()
        return {(str(t), r, str(p), int(i)) for t, r, p, i in rows}

    def pragma(self, name: str) -> Any:
        """The value of a pragma that returns one."""
        row = self.conn.execute(f"PRAGMA {name}").fetchone()
        return row[0] if row else None

    def check_writable(self) -> None:
        """Raise :class:`ReadOnlyDatabase` before any work if the run could not write.

        Called only when something is pending: an up-to-date database may be read-only.
        SQLite writes a journal next to the file, so the directory must be writable too.
        A connection opened read-only (``mode=ro``) is caught by its first ``BEGIN
        IMMEDIATE``, which comes before any change as well.
        """
        if self.pragma("query_only"):
            raise ReadOnlyDatabase(
                self.name,
                "the connection has PRAGMA query_only = ON",
                "migrate through a connection that may write, or turn query_only off first",
            )
        if not self.is_file or not os.path.isfile(self.name):
            return
        if not os.access(self.name, os.W_OK):
            raise ReadOnlyDatabase(self.name, "the file is read-only")
        directory = os.path.dirname(os.path.abspath(self.name))
        if not os.access(directory, os.W_OK | os.X_OK):
            raise ReadOnlyDatabase(
                self.name,
                f"its directory {directory!r} is read-only, and SQLite writes its journal there",
            )

    def reset_journal_mode(self) -> None:
        """Put back the journal mode the run started in (a failed step may have changed it)."""
        if self.journal_mode and self.pragma("journal_mode") != self.journal_mode:
            self.conn.execute(f"PRAGMA journal_mode = {self.journal_mode}")

    # -- taking the connection and giving it back -------------------------------------

    def _prepare(self) -> None:
        conn = self.conn
        if not self.owned:
            self._remember_borrowed()
        elif self.pragma("foreign_keys"):
            self._settings["foreign_keys"] = 1  # SQLITE_DEFAULT_FOREIGN_KEYS=1 builds
        # A migration may rebuild a table, which needs enforcement off; it cannot change
        # inside a transaction, so it is switched for the whole run.
        conn.execute("PRAGMA foreign_keys = OFF")
        if self._settings.get("writable_schema"):
            # Only a migration may turn it on: the executor watches for that (and then
            # checks the runner's tables after each file).
            conn.execute("PRAGMA writable_schema = OFF")
        mode = str(self.pragma("journal_mode")).lower()
        self._app_journal_mode = mode
        if mode in _UNSAFE_JOURNALS:
            # OFF cannot roll back at all; MEMORY cannot after a crash. A run needs both.
            safe = "delete" if self.is_file else "memory"
            mode = str(conn.execute(f"PRAGMA journal_mode = {safe}").fetchone()[0]).lower()
            if mode != safe:
                raise UsageError(
                    f"the connection uses PRAGMA journal_mode = {self._app_journal_mode}, "
                    "in which a failed migration cannot be rolled back, and it could not "
                    f"be switched to {safe}; migrate before setting it"
                )
        self.journal_mode = mode

    def _remember_borrowed(self) -> None:
        conn = self.conn
        self._attached = {str(row[1]) for row in conn.execute("PRAGMA database_list")}
        self._temp_objects = _temp_objects(conn)
        # Everything the run or a migration may change on the app's connection.
        for name in _CONNECTION_SETTINGS:
            self._settings[name] = self.pragma(name)
        conn.execute(f"PRAGMA busy_timeout = {int(self.timeout * 1000)}")

    def give_back(self) -> None:
        """Undo what :meth:`_prepare` changed and what the run left on the connection."""
        conn = self.conn
        self.rollback()  # only after an interrupt between BEGIN and ROLLBACK
        if not self.owned:
            for name in sorted({str(row[1]) for row in conn.execute("PRAGMA database_list")}):
                if name not in self._attached and name not in ("main", "temp"):
                    conn.execute(f'DETACH DATABASE "{name}"')
            for kind, name in sorted(_temp_objects(conn) - self._temp_objects):
                if kind in ("table", "view", "trigger"):
                    conn.execute(f'DROP {kind.upper()} IF EXISTS temp."{name}"')
        mode = str(self.pragma("journal_mode")).lower()
        # WAL or not is the file's (a migration may switch it on purpose); which of the
        # rollback journals is used is the connection's, and the app's choice.
        if mode != self._app_journal_mode and "wal" not in (mode, self._app_journal_mode):
            conn.execute(f"PRAGMA journal_mode = {self._app_journal_mode}")
        for name, value in self._settings.items():
            if value is not None and self.pragma(name) != value:  # None: an older SQLite
                conn.execute(f"PRAGMA {name} = {int(value)}")


# Connection settings a run or a migration may change, given back to a borrowed
# connection as they were (all hold an integer).
_CONNECTION_SETTINGS = (
    "foreign_keys",
    "busy_timeout",
    "query_only",
    "recursive_triggers",
    "defer_foreign_keys",
    "reverse_unordered_selects",
    "ignore_check_constraints",
    "legacy_alter_table",
    "cell_size_check",
    "automatic_index",
    "cache_size",
    "temp_store",
    "synchronous",
    "trusted_schema",
    "writable_schema",
)


def _temp_objects(conn: sqlite3.Connection) -> set[tuple[str, str]]:
    rows = conn.execute("SELECT type, name FROM sqlite_temp_master").fetchall()
    return {(str(kind), str(name)) for kind, name in rows}


class for_writing:
    """Open (or borrow) the database for a migration run and give it back as it was.

    A path is opened with no implicit transactions (``autocommit=True`` on Python 3.12+,
    where ``executescript()`` then does not commit; ``isolation_level=None`` before) and
    created if missing. *create* False refuses a missing file instead.
    """

    __slots__ = ("_create", "_database", "_db", "_settings", "_timeout")

    def __init__(self, db: DatabaseLike, timeout: float, *, create: bool = True) -> None:
        self._db = db
        self._timeout = check_timeout(timeout)
        self._create = create
        self._database: Database | None = None
        self._settings: tuple[Any, ...] = ()

    def __enter__(self) -> Database:
        db = self._db
        borrowed = is_connection(db)
        database = self._borrow(db) if borrowed else self._open(_path(db))  # type: ignore[arg-type]
        self._database = database
        try:
            with database.translated():
                database._prepare()
        except BaseException:
            self._close()
            raise
        return database

    def _open(self, name: str) -> Database:
        from .errors import Where

        _check_directory(name, create=self._create)
        with translated(Where(name, self._timeout)):
            conn = binding.connect(name, timeout=self._timeout, isolation_level=None)
        if hasattr(conn, "autocommit"):  # Python 3.12+'s sqlite3; not pysqlite3, sqlcipher3
            conn.autocommit = True  # opened in no transaction: this commits nothing
        return Database(conn, name, self._timeout, owned=True)

    def _borrow(self, conn: sqlite3.Connection) -> Database:
        _usable(conn)
        if conn.in_transaction:
            raise UsageError(
                "the connection passed to bootmigrate is inside a transaction; commit or roll "
                "back first (a connection opened with autocommit=False is always in one: use "
                "the default or autocommit=True)"
            )
        settings: list[Any] = [conn.row_factory, conn.text_factory, conn.isolation_level]
        # Rows as tuples of str whatever factories the app set; given back at the end.
        conn.row_factory, conn.text_factory = None, str
        # None: Python issues no implicit BEGIN/COMMIT; the runner owns the transaction.
        conn.isolation_level = None
        if hasattr(conn, "autocommit"):  # Python 3.12+'s sqlite3
            settings.append(conn.autocommit)
            conn.autocommit = True  # not in a transaction, so this commits nothing
        self._settings = tuple(settings)
        return Database(conn, describe(conn), self._timeout, owned=False)

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._close()

    def _close(self) -> None:
        database = self._database
        if database is None:
            return
        conn = database.conn
        try:
            with database.translated():
                database.give_back()
        finally:
            # An error's traceback keeps the run's frames, and with them this cursor,
            # alive; on Python 3.11+ its statement would keep a closed connection open
            # (and its locks held) until the garbage collector ran.
            database.cursor.close()
            if database.owned:
                conn.close()
            else:
                conn.row_factory, conn.text_factory, conn.isolation_level = self._settings[:3]
                if sys.version_info >= (3, 12) and len(self._settings) > 3:
                    conn.autocommit = self._settings[3]


def _check_directory(name: str, *, create: bool) -> None:
    if name in ("", ":memory:") or name.startswith("file:"):
        return
    if os.path.isdir(name):
        raise DatabaseUnavailable(name, "it is a directory, not a database file")
    directory = os.path.dirname(os.path.abspath(name))
    if not os.path.isdir(directory):
        raise DatabaseUnavailable(
            name, f"the directory {directory!r} does not exist; create it first"
        )
    if os.path.exists(name):
        return
    if not create:
        raise DatabaseUnavailable(name, "the file does not exist")
    if not os.access(directory, os.W_OK):
        raise ReadOnlyDatabase(
            name, f"the file does not exist and its directory {directory!r} is read-only"
        )


class for_reading:
    """A read-only view of the database; None when the file does not exist.

    A path is opened with ``mode=ro``, so nothing (not even an empty file) is created.
    Two cases need more than that, and both leave the file's logical content as it was:

    - a *hot journal* (a crashed write in rollback-journal mode): the main file holds
      half a transaction until a writer rolls it back, so a writable file is opened
      read-write once, which makes SQLite roll it back, as any program opening it would;
    - a WAL database in a folder that cannot be written, without ``-shm``: SQLite cannot
      make its shared-memory file, and as no one can write the database there (no one can
      create its ``-wal``), it is read as immutable.
    """

    __slots__ = ("_conn", "_db", "_owned", "_settings", "_timeout")

    def __init__(self, db: DatabaseLike, timeout: float = DEFAULT_TIMEOUT) -> None:
        self._db = db
        self._timeout = check_timeout(timeout)
        self._conn: sqlite3.Connection | None = None
        self._owned = False
        self._settings: tuple[Any, ...] = ()

    def __enter__(self) -> sqlite3.Connection | None:
        db = self._db
        if is_connection(db):
            _usable(db)
            self._settings = (db.row_factory, db.text_factory)
            db.row_factory, db.text_factory = None, str
            self._conn = db
            return db
        name = _path(db)
        if os.path.isdir(name):
            raise DatabaseUnavailable(name, "it is a directory, not a database file")
        if not os.path.exists(name):
            return None
        self._conn = open_read_only(name, self._timeout)
        self._owned = True
        return self._conn

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        conn = self._conn
        if conn is None:
            return
        if self._owned:
            conn.close()
        else:
            conn.row_factory, conn.text_factory = self._settings


def open_read_only(name: str, timeout: float) -> sqlite3.Connection:
    """A ``mode=ro`` connection to the file *name* (see :class:`for_reading`)."""
    from .errors import Where, translate

    where = Where(name, timeout)
    if hot_journal(name) and os.access(name, os.W_OK):
        with translated(where):
            writer = binding.connect(name, timeout=timeout)
            try:
                writer.execute("SELECT count(*) FROM sqlite_master").fetchone()
            finally:
                writer.close()
    uri = _file_uri(name)
    conn: sqlite3.Connection | None = None
    try:
        conn = binding.connect(uri + "?mode=ro", uri=True, timeout=timeout)
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite_errors.Error as exc:
        if conn is not None:
            conn.close()
        directory = os.path.dirname(os.path.abspath(name))
        if hot_journal(name) or os.path.exists(name + "-wal") or os.access(directory, os.W_OK):
            raise translate(exc, where) from exc
        # WAL mode, no -wal, a folder no one may write: nothing can change the file.
        with translated(where):
            conn = binding.connect(uri + "?mode=ro&immutable=1", uri=True, timeout=timeout)
    return conn


def hot_journal(name: str) -> bool:
    """True when *name* has a hot journal beside it: a ``-journal`` whose first byte is
    not zero (an empty or zeroed one, as ``journal_mode=PERSIST`` leaves, is cold: the
    test SQLite's pager applies, hasHotJournal in pager.c)."""
    try:
        with open(name + "-journal", "rb") as journal:
            return journal.read(1) not in (b"", b"\0")
    except OSError:
        return False


def _file_uri(name: str) -> str:
    from urllib.parse import quote

    path = os.path.abspath(name)
    if os.name == "nt":  # pragma: no cover - exercised on Windows only
        path = "/" + path.replace("\\", "/")
    return "file:" + quote(path)


__all__ = [
    "DEFAULT_TIMEOUT",
    "Database",
    "check_timeout",
    "describe",
    "for_reading",
    "for_writing",
    "hot_journal",
    "open_read_only",
    "peek",
    "translated",
]
