"""Migrate, and die at a chosen moment: ``worker_promise.py SPEC`` (a JSON file).

SPEC holds ``db``, ``source``, ``backup``, ``keep`` and ``access`` (how the app opened the
database: ``borrowed``, ``pragmas``, ``exclusive``, ``row_factory``, ``text_bytes``,
``isolation_none``; see promise.Access.spec), and when to die:

- ``kill_at``: N: SIGKILL itself at the N-th *tick* of the run; None: run to the end.
  A tick is a Python call (or a call of a C function) while ``migrate()`` runs, or 10
  SQLite VM steps on any connection the run uses (a progress handler), so a kill lands
  between any two calls or inside a long statement, and the same N lands at the same
  moment in every run of the same scenario (``PYTHONHASHSEED`` fixed by the caller).
- ``kill_on``: [event, name, n]: SIGKILL itself just before the n-th call of that name:
  event ``call`` for a Python function (its code's name: ``mkstemp``), ``c_call`` for a
  C one (its qualified name: ``chmod``, ``replace``, ``Connection.backup``).

Prints ``{"ticks": count, ...the report or the error...}``; exit status 0, or 1 on a
MigrationError. Imports only the standard library and bootmigrate, as every worker.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import sys
from typing import Any

import bootmigrate

_VM_STEPS = 10


def _dict_row(cursor: sqlite3.Cursor, row: tuple[Any, ...]) -> dict[str, Any]:
    return {d[0]: value for d, value in zip(cursor.description, row)}


def main() -> int:
    with open(sys.argv[1], encoding="utf-8") as file:
        spec = json.load(file)
    access = spec["access"]
    migrations = bootmigrate.load(spec["source"])
    # Import what a run needs before the ticks start counting (status reads only).
    bootmigrate.status(spec["db"], migrations)
    db: Any = spec["db"]
    if access["borrowed"]:
        conn = (
            sqlite3.connect(db, isolation_level=None)
            if access["isolation_none"]
            else sqlite3.connect(db)
        )
        for pragma in access["pragmas"]:
            conn.execute(pragma).fetchall()
        if access["exclusive"]:
            conn.execute("PRAGMA locking_mode = EXCLUSIVE").fetchall()
        conn.execute("SELECT count(*) FROM sqlite_master").fetchall()
        if access["row_factory"] == "row":
            conn.row_factory = sqlite3.Row
        elif access["row_factory"] == "dict":
            conn.row_factory = _dict_row
        if access["text_bytes"]:
            conn.text_factory = bytes
        db = conn

    ticks = 0
    kill_at = spec.get("kill_at")
    kill_on = spec.get("kill_on")
    calls = 0

    def die() -> None:
        os.kill(os.getpid(), signal.SIGKILL)

    def tick() -> None:
        nonlocal ticks
        ticks += 1
        if ticks == kill_at:
            die()

    def profile(frame: Any, event: str, arg: Any) -> None:
        nonlocal calls
        if event == "call":
            tick()
            name = frame.f_code.co_name
        elif event == "c_call":
            tick()
            name = getattr(arg, "__qualname__", "")
        else:
            return
        if kill_on is not None and [event, name] == kill_on[:2]:
            calls += 1
            if calls == kill_on[2]:
                die()

    def progress() -> int:
        tick()
        return 0

    connect = sqlite3.connect

    def connect_counted(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        new: sqlite3.Connection = connect(*args, **kwargs)
        new.set_progress_handler(progress, _VM_STEPS)
        return new

    if isinstance(db, sqlite3.Connection):
        db.set_progress_handler(progress, _VM_STEPS)
    sqlite3.connect = connect_counted  # type: ignore[assignment]  # the run's own connections
    sys.setprofile(profile)
    try:
        report = bootmigrate.migrate(
            db, migrations, backup=spec["backup"], backup_keep=spec["keep"], timeout=10
        )
    except bootmigrate.MigrationError as exc:
        sys.setprofile(None)
        print(json.dumps({"ticks": ticks, "error": type(exc).__name__, "message": str(exc)}))
        return 1
    finally:
        sys.setprofile(None)
        sqlite3.connect = connect
    print(json.dumps({"ticks": ticks, "state": report.state, "to": report.to_version}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
