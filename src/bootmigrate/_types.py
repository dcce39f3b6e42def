"""The type aliases of the public signatures: what a database and a source may be given as.

Kept apart so that only type checkers and callers who ask for them pay for
:mod:`typing`; bootmigrate's own modules import them under ``TYPE_CHECKING``.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable
from typing import TYPE_CHECKING, Union

if TYPE_CHECKING:
    from ._source.model import MigrationSet

#: A database: a path (``str`` or path-like; created by ``migrate`` if missing) or an
#: open :class:`sqlite3.Connection` (borrowed, and given back with its settings).
DatabaseLike = Union[str, "os.PathLike[str]", sqlite3.Connection]

#: A migration source: ``"pkg:folder"`` (package resources), a directory, or a
#: :class:`MigrationSet` already loaded with :func:`bootmigrate.load`.
SourceLike = Union[str, "os.PathLike[str]", "MigrationSet"]

#: The app's own way to open its database, called as :func:`sqlite3.connect` is
#: (``connect(database, timeout=..., isolation_level=..., uri=...)``) for every
#: connection bootmigrate opens to it or to a copy of it: ``sqlcipher3.dbapi2.connect``
#: followed by ``PRAGMA key``, or ``pysqlite3.dbapi2.connect``.
Connect = Callable[..., sqlite3.Connection]
