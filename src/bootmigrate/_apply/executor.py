"""The one place where SQL from a migration runs, and the guard it runs under.

Every piece of migration SQL goes through an :class:`Executor`: the up and down files of
a run (:meth:`~Executor.run` inside the runner's transaction, :meth:`~Executor.run_alone`
for a ``no-transaction`` file), the functions of Python migrations
(:meth:`~Executor.run_python`, :meth:`~Executor.run_python_alone`: called with a
:class:`GuardedConnection`, their failures named by file and line), the test kit's
fixture files, the replay of the files that :func:`bootmigrate.additive_repair` makes,
and the app's callbacks that run inside the transaction (:meth:`~Executor.call`: a
:class:`Baseline`'s ``detect`` and ``repair``). It splits with
:func:`bootmigrate._source.text.statement_spans`, names a failing statement by file,
number and line, and, for a ``no-transaction`` file, knows whether anything it ran took
effect for good.

The guard is the connection's *authorizer*, which SQLite calls for every action of every
statement it prepares, whatever the text looked like (a byte-order mark before
``COMMIT``, a statement cached from earlier, a trigger's body). While migration SQL or a
callback runs inside the runner's transaction, it refuses transaction control
(``BEGIN``, ``COMMIT``, ``ROLLBACK``, ``SAVEPOINT``, ``RELEASE``, and what opens one,
such as ``VACUUM``), which would end the runner's transaction behind its back; and at
all times it refuses writes to bootmigrate's own tables (the ledger must say what ran).
A ``no-transaction`` file may manage its own transactions, and the guard records what
each of its statements does.

Python cannot read an authorizer back, so a borrowed connection is given back with none
(on Python 3.9 and 3.10, which cannot clear one, with one that allows everything).
"""

from __future__ import annotations

import sqlite3
import sys

from .._binding import module_of, sqlite_errors
from .._db.errors import Where, environmental, opens_a_transaction
from .._db.ledger import OWN_TABLES
from .._errors import (
    ApplyError,
    MigrationError,
    PythonMigrationError,
    StatementError,
    TransactionControlError,
)
from .._source import text as sql_text
from .._source.python import calling_line

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable
    from types import TracebackType
    from typing import Any, TypeVar

    from .._db.connection import Database
    from .._source.model import Script

    _T = TypeVar("_T")
    Authorizer = Callable[[int, "str | None", "str | None", "str | None", "str | None"], int]

# Authorizer action codes (sqlite3.h).
_CREATE_INDEX, _CREATE_TABLE, _CREATE_TEMP_INDEX = 1, 2, 3
_CREATE_TEMP_TRIGGER, _CREATE_TRIGGER, _CREATE_VIEW = 5, 7, 8
_DELETE, _DROP_TABLE, _INSERT, _PRAGMA, _READ, _SELECT = 9, 11, 18, 19, 20, 21
_TRANSACTION, _UPDATE, _ALTER_TABLE, _FUNCTION, _SAVEPOINT, _RECURSIVE = 22, 23, 26, 31, 32, 33
_OK, _DENY = 0, 1
# Actions that write a table: arg1 is the table (ALTER TABLE: arg2).
_TABLE_WRITES = frozenset({_INSERT, _UPDATE, _DELETE, _DROP_TABLE, _CREATE_TABLE, _CREATE_VIEW})
# Actions that attach an object to a table named in arg2.
_ON_TABLE = frozenset(
    {_CREATE_INDEX, _CREATE_TEMP_INDEX, _CREATE_TRIGGER, _CREATE_TEMP_TRIGGER, _ALTER_TABLE}
)
_OWN = frozenset(OWN_TABLES)
# Actions on rows, whose arg1 is the table as the schema names it.
_DML = frozenset({_INSERT, _UPDATE, _DELETE})
# Every other action the guard looks at.
_WATCHED = frozenset({_TRANSACTION, _SAVEPOINT, _PRAGMA}) | (_TABLE_WRITES - _DML) | _ON_TABLE
# Actions after which a table's rows (or the table) may break or mend a foreign key.
_CHANGES_A_TABLE = _DML | {_CREATE_TABLE, _DROP_TABLE, _ALTER_TABLE}
# Actions that only read; any other action (or none reported) may have written.
_READS = frozenset({_SELECT, _READ, _FUNCTION, _RECURSIVE})
# Pragmas that set a property of the connection, not of the file.
_CONNECTION_PRAGMAS = frozenset(
    {
        "analysis_limit",
        "automatic_index",
        "busy_timeout",
        "cache_size",
        "cache_spill",
        "case_sensitive_like",
        "cell_size_check",
        "defer_foreign_keys",
        "foreign_keys",
        "hard_heap_limit",
        "ignore_check_constraints",
        "legacy_alter_table",
        "mmap_size",
        "query_only",
        "read_uncommitted",
        "recursive_triggers",
        "reverse_unordered_selects",
        "soft_heap_limit",
        "synchronous",
        "temp_store",
        "threads",
        "trusted_schema",
    }
)


class Guard:
    """The authorizer: what migration SQL may do, and what it did.

    Modes: ``"runner"`` (bootmigrate's own statements: anything goes), ``"transaction"``
    (inside the runner's transaction: no transaction control, no writes to the runner's
    tables), ``"alone"`` (a no-transaction file: its own transaction control is allowed,
    and each statement's actions are recorded).
    """

    __slots__ = ("_conn", "actions", "authorize", "denied", "mode", "schema_editable", "written")

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        self.mode = "runner"
        #: What the last refused action was: (action, arg1, arg2), or None.
        self.denied: tuple[int, str | None, str | None] | None = None
        #: The actions recorded in mode "alone" (the executor empties it per statement).
        self.actions: list[tuple[int, str | None, str | None]] = []
        #: The tables migration SQL wrote since :meth:`Executor.start_batch` (rows, or
        #: the table itself), for the foreign key check.
        self.written: set[str] = set()
        #: True once migration SQL set ``PRAGMA writable_schema`` in this run: from then
        #: on a write to ``sqlite_master`` may be an edit of it, not only what DDL does.
        self.schema_editable = False
        #: What SQLite calls: :meth:`__call__`'s fast path as a closure (no attribute
        #: lookups: it runs for every action of every statement a migration prepares).
        self.authorize = _fast_path(self)

    def __call__(
        self, action: int, arg1: str | None, arg2: str | None, schema: str | None, _: str | None
    ) -> int:
        # The hot path: one call per action of every statement a migration prepares (an
        # INSERT of a data migration is one INSERT action), so the common answer is first:
        # a table already written in this batch (SQLite gives the table's own name here).
        if action in _DML:
            if arg1 in self.written:
                return _OK
        elif action not in _WATCHED:
            return _OK
        return self._decide(action, arg1, arg2, schema)

    def _decide(self, action: int, arg1: str | None, arg2: str | None, schema: str | None) -> int:
        if self.mode == "runner":
            return _OK
        if action in (_TRANSACTION, _SAVEPOINT):
            if self.mode == "alone":
                return _OK
            self.denied = (action, arg1, arg2)
            return _DENY
        if action == _PRAGMA:
            name = (arg1 or "").lower()
            # A migration that turned query_only on would make every later write fail,
            # and the app's borrowed connection keep it.
            if name == "query_only" and arg2 is not None:
                self.denied = (action, arg1, arg2)
                return _DENY
            if name == "writable_schema" and arg2 is not None:
                self.schema_editable = True
            return _OK
        # A trigger or index on a table of that name, made in main or in temp (a TEMP
        # trigger may be on main.bootmigrate_ledger); a write to a temp table of that
        # name is the migration's own business, and VACUUM's copies ("vacuum_db") are
        # SQLite's.
        table = arg2 if action in _ON_TABLE else arg1
        schemas = ("main", "temp", None) if action in _ON_TABLE else ("main", None)
        if table is not None and schema in schemas and table.lower() in _OWN:
            self.denied = (action, arg1, arg2)
            return _DENY
        if table is not None and action in _CHANGES_A_TABLE and schema in ("main", None):
            self.written.add(table)
        return _OK

    def _record(
        self, action: int, arg1: str | None, arg2: str | None, schema: str | None, _: str | None
    ) -> int:
        """Mode "alone": note every action of the statement, then decide as usual."""
        self.actions.append((action, arg1, arg2))
        return self._decide(action, arg1, arg2, schema)

    def enter(self, mode: str, *, expire: bool = True) -> None:
        """Switch mode. Setting the authorizer again expires the connection's prepared
        statements, so a statement cached under a laxer mode is checked again.

        *expire* False keeps them: only for statements whose text cannot be one the
        runner prepared (see :meth:`Executor.run`).
        """
        self.mode = mode
        self.denied = None
        self.actions = []
        if expire:
            self._conn.set_authorizer(self._record if mode == "alone" else self.authorize)

    def leave(self) -> None:
        """Back to mode ``"runner"`` (and to the callback that records nothing)."""
        if self.mode == "alone":
            self._conn.set_authorizer(self.authorize)
        self.mode = "runner"


def _fast_path(
    guard: Guard,
) -> Callable[[int, str | None, str | None, str | None, str | None], int]:
    """:meth:`Guard.__call__` as a closure over the guard's set and its slow path."""
    written = guard.written  # the same set: start_batch() clears it, never replaces it
    decide = guard._decide
    dml, watched = _DML, _WATCHED

    def authorize(
        action: int, arg1: str | None, arg2: str | None, schema: str | None, _: str | None
    ) -> int:
        if action in dml:
            if arg1 in written:
                return _OK
        elif action not in watched:
            return _OK
        return decide(action, arg1, arg2, schema)

    return authorize


def _allow_everything(*_: object) -> int:
    return _OK


class StepFailed(Exception):
    """A ``no-transaction`` file failed; :attr:`changed` says whether it took effect."""

    def __init__(self, error: MigrationError, changed: bool) -> None:
        super().__init__(str(error))
        #: The error to report.
        self.error = error
        #: True when something the file ran was committed (for good) before it failed.
        self.changed = changed


class Executor:
    """Runs migration SQL on one :class:`Database`; a context manager around the guard."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self.guard = Guard(database.conn)

    def __enter__(self) -> Executor:
        self.database.conn.set_authorizer(self.guard.authorize)
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        conn = self.database.conn
        try:
            if sys.version_info >= (3, 11):
                conn.set_authorizer(None)
            else:  # pragma: no cover - exercised by the 3.9/3.10 runs of the matrix
                conn.set_authorizer(_allow_everything)
        except sqlite_errors.ProgrammingError:
            pass  # a callback closed the connection; the run reports that

    def start_batch(self) -> None:
        """Forget the tables written so far. Setting the authorizer again expires the
        connection's prepared statements, so a statement of an earlier batch that is run
        again is reported again (and its table counted)."""
        self.guard.written.clear()
        self.database.conn.set_authorizer(self.guard.authorize)

    def written(self) -> set[str]:
        """The tables migration SQL wrote since :meth:`start_batch`."""
        return set(self.guard.written)

    def wrote_the_schema(self) -> bool:
        """True when migration SQL may have edited ``sqlite_master`` itself since
        :meth:`start_batch`: it wrote that table (as every CREATE, DROP and ALTER does)
        after a migration of this run set ``PRAGMA writable_schema``. Which rows, the
        authorizer does not say."""
        return self.guard.schema_editable and "sqlite_master" in self.guard.written

    # -- a file inside the runner's transaction ----------------------------------------

    def run(self, script: Script) -> None:
        """Run *script* inside the open transaction; raise the error that names a failure.

        Statements run one at a time (``executescript()`` would commit the runner's
        transaction first), except that on Python 3.12+, where connections run with
        ``autocommit=True``, a big script runs in one ``executescript()`` call inside a
        savepoint (see :meth:`_run_whole`).
        """
        # A no-transaction file that is one explicit transaction: its body only.
        start, stop = script.transaction_body or (0, len(script.text))
        text = script.text[start:stop] if stop - start < len(script.text) else script.text
        if (
            sys.version_info >= (3, 12)
            and len(text) >= _WHOLE_SCRIPT_CHARS
            and self._run_whole(script.filename, text)
        ):
            return
        execute = self.database.cursor.execute
        end = 0
        # Python caches prepared statements by their text, and a statement the runner
        # prepared was authorized in mode "runner". Migration SQL always runs with a
        # final ';', which no statement of the runner has, so none of those can be
        # reused here, and the switch need not expire the cache (re-preparing the
        # ledger's INSERT after every migration costs 7% of a run of small ones).
        self.guard.enter("transaction", expire=False)
        try:
            for _first, stop, sql in sql_text.statement_spans(text):
                end = stop
                execute(sql if sql[-1] == ";" else sql + "\n;")
        except sqlite_errors.Error as exc:
            # Named by its place in the file: the text before the body counts.
            end += start
            raise self._failure(exc, script, sql_text.statement_at(script.text, end)) from exc
        finally:
            self.guard.leave()
        self._check_still_in_transaction(script)

    def _failure(
        self, exc: sqlite3.Error, script: Script, failed: sql_text.Statement
    ) -> MigrationError:
        """The error for the statement *failed* of *script*: the migration's (a statement
        the guard refused, or SQLite's own complaint about it) or the environment's."""
        denied = self.guard.denied
        if denied is not None:
            action, arg1, arg2 = denied
            if action in (_TRANSACTION, _SAVEPOINT):
                return TransactionControlError(
                    script.filename, failed.line, sql_text.first_keyword(failed.sql) or "it"
                )
            if action == _PRAGMA:
                problem = (
                    "a migration may not turn on PRAGMA query_only: every write after it "
                    "would fail, and the app's connection would keep it"
                )
            else:
                problem = (
                    f"{arg2 if action in _ON_TABLE else arg1} is bootmigrate's own table, "
                    "and a migration may not change it (the ledger must say what ran)"
                )
            return StatementError(script.filename, failed.number, failed.line, problem, failed.sql)
        message = str(exc)
        if opens_a_transaction(exc):
            return TransactionControlError(script.filename, failed.line, "VACUUM")
        around = environmental(exc, self.database.where(), statement=True)
        if around is not None:
            return around
        return StatementError(script.filename, failed.number, failed.line, message, failed.sql)

    def _check_still_in_transaction(self, script: Script) -> None:
        if not self.database.conn.in_transaction:
            # Only a conflict clause can end it without an error (ON CONFLICT ROLLBACK
            # fails its statement, so this is a last line of defence, not a path).
            raise ApplyError(
                f"{script.filename!r} ended the runner's transaction",
                "remove the statement that ends it",
            )

    def _run_whole(self, filename: str, text: str) -> bool:
        """Run the whole script in one ``executescript()`` call; False if it must go per
        statement.

        Only inside the runner's transaction on a connection with ``autocommit=True``
        (Python 3.12+), where ``executescript()`` does not commit. The script runs in a
        savepoint: when a statement fails, the savepoint is rolled back and the caller
        runs the script again one statement at a time, which names the statement and
        its line (a script that fails once fails again at the same statement, as nothing
        else changed). A failure can end the whole transaction only through ROLLBACK
        conflict handling, after which the failed statement could not be found by running
        again: such scripts and schemas keep the per-statement loop.
        """
        conn = self.database.conn
        if not conn.in_transaction or getattr(conn, "autocommit", None) is not True:
            return False
        if "rollback" in text.lower() or conn.execute(_SCHEMA_ROLLBACK).fetchone():
            return False
        conn.execute("SAVEPOINT bootmigrate_script")
        self.guard.enter("transaction")
        try:
            conn.executescript(text)
        except sqlite_errors.Error as exc:
            self.guard.leave()
            problem = environmental(exc, self.database.where())
            if problem is not None:
                raise problem from exc
            if not conn.in_transaction:  # pragma: no cover - see the docstring
                raise ApplyError(
                    f"{filename!r}: {exc}; the transaction was ended by it",
                ) from exc
            conn.execute("ROLLBACK TO bootmigrate_script")
            conn.execute("RELEASE bootmigrate_script")
            return False
        finally:
            self.guard.leave()
        conn.execute("RELEASE bootmigrate_script")
        return True

    # -- a no-transaction file --------------------------------------------------------

    def run_alone(self, script: Script) -> None:
        """Run a ``no-transaction`` file outside any transaction of the runner's.

        Its statements run in autocommit mode, or in the transactions the file opens
        itself. Raises :class:`StepFailed` carrying the error and whether anything the
        file ran was committed: a statement that may have written, run in autocommit
        mode or in a transaction the file committed, counts (what each statement did is
        what SQLite's authorizer reported when it prepared it; a statement that reported
        nothing, as a cached one does not, counts as a write).
        """
        conn = self.database.conn
        guard = self.guard
        changed = False  # something committed for good
        pending = False  # writes inside a transaction the file opened itself
        failure: MigrationError | None = None
        seen: dict[str, tuple[bool, str | None]] = {}
        statements = sql_text.split(script.text)
        guard.enter("alone")
        try:
            for statement in statements:
                guard.actions = []
                try:
                    # Read to the end: an unfinished statement (PRAGMA journal_mode
                    # returns a row) would keep the next COMMIT from committing.
                    self.database.execute(statement.sql).fetchall()
                except sqlite_errors.Error as exc:
                    failure = self._failure(exc, script, statement)
                    failure.__cause__ = exc
                    break
                if guard.actions or statement.sql not in seen:
                    seen[statement.sql] = _effect(guard.actions)
                writes, ends = seen[statement.sql]
                if conn.in_transaction:
                    pending = pending or writes
                else:
                    changed = changed or writes or (pending and ends != "ROLLBACK")
                    pending = False
        finally:
            guard.leave()
        if failure is None and conn.in_transaction:
            last = statements[-1]
            failure = StatementError(
                script.filename,
                last.number,
                last.line,
                "the file left a transaction open, and it was rolled back; a no-transaction "
                "migration that opens a transaction must commit it",
                last.sql,
            )
        self.database.rollback()
        if failure is not None:
            raise StepFailed(failure, changed)

    # -- a Python migration -----------------------------------------------------------

    def run_python(self, script: Script) -> None:
        """Call a Python migration's function inside the open transaction, on the runner's
        connection behind a :class:`GuardedConnection`, under the guard in mode
        ``"transaction"``; raise the error that names a failure (the file and line, the
        exception), also when the function caught a refusal."""
        self._call_python(script, alone=False)
        self._check_still_in_transaction(script)

    def run_python_alone(self, script: Script) -> None:
        """Call a ``no-transaction`` Python migration's function outside any transaction of
        the runner's (it may commit its own). Raises :class:`StepFailed` as
        :meth:`run_alone` does: *changed* when the authorizer saw the function write (also
        inside a transaction it then rolled back: the count errs on the side of caution)."""
        conn = self.database.conn
        failure: MigrationError | None = None
        try:
            self._call_python(script, alone=True)
        except MigrationError as error:
            failure = error
        changed = bool(self.guard.actions) and _effect(self.guard.actions)[0]
        if failure is None and conn.in_transaction:
            failure = PythonMigrationError(
                script.filename,
                None,
                f"{_python_name(script)}() left a transaction open, and it was rolled back",
                "a no-transaction migration that opens a transaction must commit it",
            )
        self.database.rollback()
        if failure is not None:
            raise StepFailed(failure, changed)

    def _call_python(self, script: Script, *, alone: bool) -> None:
        conn = self.database.conn
        location = script.location or script.filename
        # The top level ran when the set was loaded; should it fail now (it reads a file
        # that went away), its InvalidPythonMigration names the line.
        function = script.function()
        proxy = GuardedConnection(conn, location, alone=alone)
        # The function may set them on the connection; the runner reads its ledger after.
        factories = conn.row_factory, conn.text_factory
        self.guard.enter("alone" if alone else "transaction")
        try:
            function(proxy)  # type: ignore[arg-type]
        except Exception as exc:
            raise self._python_failure(script, proxy, exc) from exc
        finally:
            proxy.finish()
            self.guard.leave()
            conn.row_factory, conn.text_factory = factories
        if proxy.refused is not None or (self.guard.denied is not None):
            raise self._python_failure(script, proxy, None)  # the function caught a refusal

    def _python_failure(
        self, script: Script, proxy: GuardedConnection, exc: Exception | None
    ) -> MigrationError:
        """The error for a Python migration that raised *exc* (None: it returned, having
        caught a refusal): named by file, line (the innermost frame in the file) and what
        it did."""
        from .._source import python as _python

        name = _python_name(script)
        location = script.location or script.filename
        line = _python.line_in(exc.__traceback__ if exc else None, location)
        if proxy.refused is not None:
            what, at, effect = proxy.refused
            return PythonMigrationError(
                script.filename,
                at if at is not None else line,
                f"{name}() tried to {what}, which "
                + (effect or "would end or leave the run's transaction"),
                "remove the call" + ("" if effect else ": " + _OWNED_TRANSACTION),
            )
        denied = self.guard.denied
        if denied is not None:
            action, arg1, arg2 = denied
            if action in (_TRANSACTION, _SAVEPOINT):
                what = (arg1 or "") if action == _TRANSACTION else "SAVEPOINT"
                problem = f"{name}() ran {what or 'transaction control'}, which is refused"
                advice = "remove the statement: " + _OWNED_TRANSACTION
            elif action == _PRAGMA:
                problem = f"{name}() turned on PRAGMA query_only, which is refused"
                advice = "every write after it would fail, and the app's connection keep it"
            else:
                problem = (
                    f"{name}() wrote {arg2 if action in _ON_TABLE else arg1}, bootmigrate's "
                    "own table, which a migration may not change"
                )
                advice = "the ledger must say what ran: remove that statement"
            return PythonMigrationError(script.filename, line, problem, advice)
        assert exc is not None
        if isinstance(exc, sqlite_errors.Error):
            if opens_a_transaction(exc):
                return PythonMigrationError(
                    script.filename,
                    line,
                    f"{name}() ran VACUUM, which cannot run inside a transaction",
                    "put '# bootmigrate: no-transaction' on the file's first line",
                )
            around = environmental(exc, self.database.where(), statement=True)
            if around is not None:
                return around
        return PythonMigrationError(
            script.filename,
            line,
            f"{name}() raised {_python.describe(exc)}",
            "fix the migration; the exception's traceback (chained) shows where",
        )

    # -- a callback inside the runner's transaction --------------------------------------

    def call(self, doing: str, function: Callable[..., _T], *args: object) -> _T:
        """Run an app callback under the transactional guard; name what failed."""
        self.guard.enter("transaction")
        try:
            return function(*args)
        except MigrationError:
            raise
        except sqlite_errors.Error as exc:
            denied = self.guard.denied
            if denied is not None and denied[0] in (_TRANSACTION, _SAVEPOINT):
                raise ApplyError(
                    f"{self.database.name}: {doing} tried to {denied[1] or 'end'} a transaction "
                    f"({exc}); it runs inside bootmigrate's transaction and must leave it alone",
                    "remove the commit, rollback or savepoint from the callback",
                ) from exc
            raise (
                environmental(exc, self.database.where())
                or ApplyError(f"{self.database.name}: {doing} failed ({exc})")
            ) from exc
        finally:
            self.guard.leave()


# -- the connection a Python migration is given ------------------------------------
#
# The runner's own connection, behind a thin proxy that refuses what would end or leave
# the run's transaction.
#
# Inside the runner's transaction SQLite's authorizer (the executor's guard) already
# refuses ``BEGIN``, ``COMMIT``, ``ROLLBACK`` and ``SAVEPOINT`` statements, but not every
# way out goes through a statement: on Python 3.12+ the runner's connection has
# ``autocommit=True``, where ``conn.commit()`` and ``conn.rollback()`` do nothing at all
# (the function would believe it committed); on 3.9-3.11 ``executescript()`` commits first;
# ``close()`` ends the run; setting ``isolation_level`` or ``autocommit`` changes when
# Python itself opens and commits transactions; a new authorizer would switch the guard
# off. The proxy forwards everything else to the connection (``execute``, ``executemany``,
# ``cursor``, ``create_function``, ``row_factory``, ``in_transaction``, ...), so the
# function uses it as a :class:`sqlite3.Connection`, and refuses those with
# :class:`sqlite3.ProgrammingError`, the same on every Python version. A refusal the
# function catches still fails the run: the proxy remembers it.
#
# In a ``no-transaction`` migration the function may manage its own transactions:
# ``commit()`` and ``rollback()`` then run ``COMMIT``/``ROLLBACK`` when a transaction is
# open (also on 3.12+, where the connection is in autocommit mode), and ``with conn:``
# commits or rolls back as it does on a connection of Python 3.11.


class _Guarded:
    """What makes a cursor guarded: its ``connection`` is the proxy, and its
    ``executescript`` is refused in a transaction. Mixed into the binding's own cursor
    class (sqlite3's, pysqlite3's, SQLCipher's), whose cursors only it can make."""

    _proxy: GuardedConnection

    @property
    def connection(self) -> GuardedConnection:
        """The guarded connection (not the runner's connection behind it)."""
        return self._proxy

    def executescript(self, sql_script: str, /) -> sqlite3.Cursor:
        """Refused inside the run's transaction (it commits first on Python 3.9-3.11)."""
        self._proxy._check_script()
        cursor: sqlite3.Cursor = super().executescript(sql_script)  # type: ignore[misc]
        return cursor


class GuardedCursor(_Guarded, sqlite3.Cursor):  # type: ignore[misc]
    """A cursor of the guarded connection on a :mod:`sqlite3` connection: a real
    :class:`sqlite3.Cursor` whose ``connection`` is the proxy."""


# The guarded class made for each cursor class (a binding's own, or an app's factory).
_GUARDED: dict[type, type] = {sqlite3.Cursor: GuardedCursor}


def _guarded(base: type) -> type:
    kind = _GUARDED.get(base)
    if kind is None:
        kind = _GUARDED[base] = type(base.__name__, (_Guarded, base), {})
    return kind


class GuardedConnection:
    """What a Python migration's ``up(conn)`` receives (see the module docstring)."""

    __slots__ = ("_alone", "_conn", "_done", "_location", "refused")

    def __init__(self, conn: sqlite3.Connection, location: str, *, alone: bool) -> None:
        object.__setattr__(self, "_conn", conn)
        object.__setattr__(self, "_location", location)
        object.__setattr__(self, "_alone", alone)
        object.__setattr__(self, "_done", False)
        #: The first thing refused, the line of the file that asked for it, and what it
        #: would have done when that is not ending the run's transaction.
        object.__setattr__(self, "refused", None)

    refused: tuple[str, int | None, str | None] | None
    _conn: sqlite3.Connection
    _location: str
    _alone: bool
    _done: bool

    # -- what is refused ------------------------------------------------------------

    def _refuse(self, what: str, why: str, effect: str | None = None) -> None:
        """Refuse *what* (``call conn.commit()``), remembering it and the file's line."""
        if self.refused is None:
            object.__setattr__(self, "refused", (what, calling_line(self._location), effect))
        raise _module(self._conn).ProgrammingError(f"a migration may not {what}: {why}")

    def _live(self) -> sqlite3.Connection:
        if self._done:
            raise _module(self._conn).ProgrammingError(
                "the connection bootmigrate passed to a migration is usable only while the "
                "migration's function runs"
            )
        return self._conn

    def _check_script(self) -> None:
        if not self._alone:
            self._refuse(
                "call conn.executescript()",
                "it commits the run's transaction on Python 3.9-3.11; run the statements "
                "one at a time with execute()",
            )

    def close(self) -> None:
        """Refused: the runner owns the connection."""
        self._refuse("call conn.close()", "the connection is the runner's, and it closes it")

    def commit(self) -> None:
        """Refused inside the run's transaction; in a no-transaction migration, commits
        the transaction the function opened (if one is open)."""
        conn = self._live()
        if not self._alone:
            self._refuse("call conn.commit()", _OWNED)
        if conn.in_transaction:
            conn.execute("COMMIT")

    def rollback(self) -> None:
        """Refused inside the run's transaction; in a no-transaction migration, rolls
        back the transaction the function opened (if one is open)."""
        conn = self._live()
        if not self._alone:
            self._refuse("call conn.rollback()", _OWNED)
        if conn.in_transaction:
            conn.execute("ROLLBACK")

    def __enter__(self) -> GuardedConnection:
        if not self._alone:
            self._refuse(
                "use 'with conn:'", "it commits or rolls back as the block ends; " + _OWNED
            )
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if kind is None:
            self.commit()
        else:
            self.rollback()

    def set_authorizer(self, *_: object, **__: object) -> None:
        """Refused: bootmigrate's authorizer guards the run."""
        self._refuse(
            "call conn.set_authorizer()",
            "bootmigrate's authorizer guards the run",
            "would switch off bootmigrate's guard",
        )

    def set_progress_handler(self, *_: object, **__: object) -> None:
        """Refused: bootmigrate's progress handler reports the run."""
        self._refuse(
            "call conn.set_progress_handler()",
            "bootmigrate's progress handler reports the run",
            "would replace bootmigrate's progress handler",
        )

    def deserialize(self, *_: object, **__: object) -> None:
        """Refused: it would replace the database under the run."""
        self._refuse(
            "call conn.deserialize()",
            "it replaces the database the run is migrating",
            "would replace the database under the run",
        )

    # -- what is forwarded ----------------------------------------------------------

    def cursor(self, factory: type[sqlite3.Cursor] | None = None) -> sqlite3.Cursor:
        """A cursor on the runner's connection: a guarded cursor of the connection's own
        module, or with *factory* (a subclass of that module's ``Cursor``) one of a class
        made of both, so that its ``connection`` is this guarded one too."""
        conn = self._live()
        base: type = _module(conn).Cursor
        chosen: object = base if factory is None else factory
        if not (isinstance(chosen, type) and issubclass(chosen, base)):
            raise TypeError(f"factory must be a {base.__module__}.Cursor subclass, not {factory!r}")
        kind = chosen if issubclass(chosen, _Guarded) else _guarded(chosen)
        cursor: Any = conn.cursor(kind)
        cursor._proxy = self
        return cursor  # type: ignore[no-any-return]

    def execute(self, sql: str, parameters: Any = (), /) -> sqlite3.Cursor:
        """As :meth:`sqlite3.Connection.execute`, under bootmigrate's guard."""
        return self.cursor().execute(sql, parameters)

    def executemany(self, sql: str, parameters: Iterable[Any], /) -> sqlite3.Cursor:
        """As :meth:`sqlite3.Connection.executemany`, under bootmigrate's guard."""
        return self.cursor().executemany(sql, parameters)

    def executescript(self, sql_script: str, /) -> sqlite3.Cursor:
        """Refused inside the run's transaction (see :class:`GuardedCursor`)."""
        self._check_script()
        return self.cursor().executescript(sql_script)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._live(), name)

    def __setattr__(self, name: str, value: object) -> None:
        if name in ("isolation_level", "autocommit"):
            self._refuse(
                f"set conn.{name}", "it changes when Python opens and commits transactions"
            )
        setattr(self._live(), name, value)

    def __repr__(self) -> str:
        return f"<bootmigrate guarded connection to {self._conn!r}>"

    def finish(self) -> None:
        """The function returned: later use (a connection kept in a global) is refused."""
        object.__setattr__(self, "_done", True)


def _module(conn: sqlite3.Connection) -> Any:
    """The DB-API module of *conn* (sqlite3, or a module copying it)."""
    return module_of(conn) or sqlite3


_OWNED = (
    "the migration runs inside bootmigrate's transaction, which commits with the ledger row "
    "or rolls back; put '# bootmigrate: no-transaction' on the file's first line if it must "
    "manage its own transactions"
)


def _effect(actions: list[tuple[int, str | None, str | None]]) -> tuple[bool, str | None]:
    """(may have written, "COMMIT"/"ROLLBACK" if it ended a transaction) of one statement."""
    if not actions:
        return True, None  # nothing reported (a statement prepared earlier): assume a write
    writes = False
    ends = None
    for action, arg1, arg2 in actions:
        if action == _TRANSACTION:
            ends = arg1 if arg1 in ("COMMIT", "ROLLBACK") else ends
        elif action == _SAVEPOINT:
            continue
        elif action == _PRAGMA:
            if arg2 is not None and (arg1 or "").lower() not in _CONNECTION_PRAGMAS:
                writes = True
        elif action not in _READS:
            writes = True
    return writes, ends


def replay(database: Database, script: Script) -> None:
    """Run *script* on a scratch database, each kind of file the way a run would."""
    python = script.language == "python"
    with Executor(database) as executor:
        if script.transactional:
            database.execute("BEGIN")
            try:
                (executor.run_python if python else executor.run)(script)
            except BaseException:
                database.rollback()
                raise
            database.execute("COMMIT")
        else:
            try:
                (executor.run_python_alone if python else executor.run_alone)(script)
            except StepFailed as failed:
                raise failed.error from failed.error.__cause__


def _python_name(script: Script) -> str:
    return "down" if script.filename.endswith(".down.py") else "up"


_OWNED_TRANSACTION = (
    "a Python migration runs inside bootmigrate's transaction, which commits with its "
    "ledger row or rolls back; put '# bootmigrate: no-transaction' on the file's first "
    "line if it must manage its own transactions"
)

# Below this size the per-statement loop costs next to nothing; above it, about 20% of a
# data migration's time, which one executescript() call saves.
_WHOLE_SCRIPT_CHARS = 1 << 20
_SCHEMA_ROLLBACK = (
    "SELECT 1 FROM sqlite_master WHERE sql LIKE '%rollback%' "
    "UNION ALL SELECT 1 FROM sqlite_temp_master WHERE sql LIKE '%rollback%' LIMIT 1"
)

__all__ = [
    "Executor",
    "Guard",
    "GuardedConnection",
    "GuardedCursor",
    "StepFailed",
    "Where",
    "replay",
]
