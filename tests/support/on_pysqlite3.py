"""Run pytest with pysqlite3 standing in for the standard sqlite3 module.

``make test-pysqlite3`` runs the core file-level tests once more this way: the same
tests, on the SQLite pysqlite3-binary bundles (a newer release than the interpreter's).
The swap is the one apps make themselves (``sys.modules["sqlite3"] =
pysqlite3.dbapi2``), done before anything imports sqlite3, so bootmigrate and the tests
both talk to that SQLite. Processes the tests start use the interpreter's own module.
"""

from __future__ import annotations

import sys

import pysqlite3.dbapi2 as dbapi2

if "sqlite3" in sys.modules:
    raise SystemExit("on_pysqlite3: sqlite3 was imported before the swap")
sys.modules["sqlite3"] = dbapi2
sys.modules["sqlite3.dbapi2"] = dbapi2

import sqlite3  # noqa: E402

import pytest  # noqa: E402

assert sqlite3 is dbapi2
print(f"on_pysqlite3: sqlite3 is pysqlite3 with SQLite {sqlite3.sqlite_version}", flush=True)
raise SystemExit(pytest.main(sys.argv[1:]))
