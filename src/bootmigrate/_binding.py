"""Which SQLite binding a run talks through: :mod:`sqlite3`, or a DB-API module that copies it.

Apps that encrypt their database use SQLCipher (``sqlcipher3.dbapi2``); apps that need a
newer SQLite than the user's system has use a bundled build (``pysqlite3.dbapi2``). Both
copy the :mod:`sqlite3` API, but they are other modules with their own SQLite library
and their own exception classes, which ``except sqlite3.Error`` does not catch. This
module is the one place that knows that:

- :func:`module_of` recognises a connection of any such module (a subclass too) and
  registers the module, so :data:`sqlite_errors` catches its exceptions as well;
- :class:`using` is entered by each public function for the database it works on:
  it names the app's own ``connect`` function, or the module of a borrowed connection,
  and :func:`connect` opens every connection bootmigrate makes during the call (a
  path, a backup, a scratch copy, a read-only view) through it, so an encrypted
  database's copies are opened with its key by the app's code, which bootmigrate never
  sees, and a pysqlite3 app's copies are read by the same SQLite as its database;
- :func:`module` is the binding in force: its ``complete_statement`` splits the
  migrations (the floor asks its SQLite's version on a connection it opens,
  :mod:`bootmigrate._apply.floor`).

Importing this module imports no binding but :mod:`sqlite3`.
"""

from __future__ import annotations

import sqlite3
import sys
from contextvars import ContextVar

from ._errors import UsageError

TYPE_CHECKING = False
if TYPE_CHECKING:
    import os
    from types import ModuleType, TracebackType
    from typing import Any

    from typing_extensions import TypeIs

    from ._types import Connect


class _Errors:
    """The exception classes of every binding seen in this process, :mod:`sqlite3` first.

    Each attribute is a tuple an ``except`` clause reads when an exception is matched,
    so a binding registered later is caught by code written before it was.
    """

    __slots__ = (
        "DatabaseError",
        "Error",
        "IntegrityError",
        "OperationalError",
        "ProgrammingError",
        "modules",
    )

    def __init__(self) -> None:
        self.modules: tuple[ModuleType, ...] = ()
        self.add(sqlite3)

    def add(self, module: ModuleType) -> None:
        """Catch *module*'s exceptions too."""
        if module in self.modules:
            return
        # Typed as sqlite3's classes, whose API the other modules' classes copy.
        modules = (*self.modules, module)
        # Assigned whole, each at once: a thread matching an exception meanwhile reads
        # either the old tuple or the new one.
        self.Error: tuple[type[sqlite3.Error], ...] = tuple(m.Error for m in modules)
        self.DatabaseError: tuple[type[sqlite3.Error], ...] = tuple(
            m.DatabaseError for m in modules
        )
        self.OperationalError: tuple[type[sqlite3.Error], ...] = tuple(
            m.OperationalError for m in modules
        )
        self.ProgrammingError: tuple[type[sqlite3.Error], ...] = tuple(
            m.ProgrammingError for m in modules
        )
        self.IntegrityError: tuple[type[sqlite3.Error], ...] = tuple(
            m.IntegrityError for m in modules
        )
        self.modules = modules


#: The exception classes of every binding in use: ``except sqlite_errors.Error``.
sqlite_errors = _Errors()

# What a module must have to stand in for sqlite3 here.
_API = (
    "connect",
    "sqlite_version",
    "Error",
    "DatabaseError",
    "OperationalError",
    "ProgrammingError",
    "IntegrityError",
)


def module_of(obj: object) -> ModuleType | None:
    """The DB-API module whose ``Connection`` *obj* is, or None for anything else.

    A module other than :mod:`sqlite3` counts when it has sqlite3's API (pysqlite3,
    sqlcipher3); its exceptions are caught by :data:`sqlite_errors` from then on.
    """
    for cls in type(obj).__mro__:
        if cls is sqlite3.Connection:
            return sqlite3
        module = sys.modules.get(cls.__module__)
        if (
            module is not None
            and getattr(module, "Connection", None) is cls
            and all(hasattr(module, name) for name in _API)
        ):
            sqlite_errors.add(module)
            return module
    return None


def is_connection(obj: object) -> TypeIs[sqlite3.Connection]:
    """True when *obj* is an open-able connection of :mod:`sqlite3` or a module copying it."""
    return module_of(obj) is not None


# The binding in force for this call (a context variable: threads and tasks each have
# their own, and a call nested in another sees the outer one unless it names its own).
_connect: ContextVar[Connect | None] = ContextVar("bootmigrate_connect", default=None)
_module: ContextVar[ModuleType] = ContextVar("bootmigrate_module", default=sqlite3)


class using:
    """The binding for one public call on *db*: the app's *connect*, if it gives one (else
    the outer call's), and the module of *db* when it is a connection (else the outer
    call's, or :mod:`sqlite3`)."""

    __slots__ = ("_connect_fn", "_db", "_tokens")

    def __init__(self, db: object, connect: Connect | None = None) -> None:
        if connect is not None and not callable(connect):
            raise UsageError(
                f"connect must be a function called like sqlite3.connect, not {connect!r}"
            )
        self._db = db
        self._connect_fn = connect
        self._tokens: tuple[Any, ...] = ()

    def __enter__(self) -> None:
        module = module_of(self._db)
        app_connect = self._connect_fn
        if app_connect is None:
            # The outer call's, if any: a public function calling another on the same
            # database (verify's dry run) keeps the app's connect for its copies.
            app_connect = _connect.get()
        # Both are always set, so whatever connect() learns is forgotten at the end.
        self._tokens = (_connect.set(app_connect), _module.set(module or _module.get()))

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        for token in reversed(self._tokens):
            token.var.reset(token)


def module() -> ModuleType:
    """The DB-API module in force: the borrowed connection's, or the module of the
    connections the app's ``connect`` made, or :mod:`sqlite3`."""
    return _module.get()


def connect(database: str | os.PathLike[str], **options: Any) -> sqlite3.Connection:
    """Open *database* (a path, ``:memory:`` or a ``file:`` URI with ``uri=True``) with
    the binding in force; *options* are :func:`sqlite3.connect`'s."""
    app_connect = _connect.get()
    if app_connect is None:
        conn: sqlite3.Connection = _module.get().connect(database, **options)
        return conn
    try:
        conn = app_connect(database, **options)
    except sqlite_errors.Error:
        raise  # SQLite's own refusal (a damaged file, a wrong key): the caller translates it
    except Exception as exc:
        raise UsageError(
            f"the connect function {_name(app_connect)} raised {type(exc).__name__}: {exc}",
            "it is called as sqlite3.connect is: connect(database, **options), with "
            "options among timeout=, isolation_level= and uri=",
        ) from exc
    found = module_of(conn)
    if found is None:
        raise UsageError(
            f"the connect function {_name(app_connect)} returned {type(conn).__name__}, "
            "not a connection of sqlite3 or a module that copies it (pysqlite3, sqlcipher3)"
        )
    if found is not _module.get():
        _module.set(found)  # reset with the rest when the call's binding ends
    return conn


def _name(function: object) -> str:
    module_name = getattr(function, "__module__", None)
    qualname = getattr(function, "__qualname__", None) or repr(function)
    return f"{module_name}.{qualname}" if module_name else str(qualname)


__all__ = [
    "using",
    "connect",
    "sqlite_errors",
    "is_connection",
    "module",
    "module_of",
]
