"""Keep a database open, idle, in WAL mode: ``worker_hold_open.py DB READY [SECONDS]``.

Opens the database, reads it once (no transaction stays open), creates READY, then
keeps the connection open until killed or for SECONDS (default 60): what an app that
has its database open between queries looks like to other processes.
"""

from __future__ import annotations

import json
import sqlite3
import sys
import time
from pathlib import Path


def main() -> int:
    db, ready = sys.argv[1], Path(sys.argv[2])
    seconds = float(sys.argv[3]) if len(sys.argv) > 3 else 60.0
    conn = sqlite3.connect(db, isolation_level=None)
    mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
    conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    ready.touch()
    time.sleep(seconds)
    conn.close()
    print(json.dumps({"held": seconds, "journal_mode": mode}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
