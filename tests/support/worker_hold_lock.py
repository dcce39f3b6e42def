"""Hold a write transaction on a database: ``worker_hold_lock.py DB READY [SECONDS]``.

Opens the database, runs ``BEGIN IMMEDIATE`` and writes a row (so the lock is real),
creates READY, then holds the transaction until killed or for SECONDS (default 60),
and rolls back.
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
    conn.execute("BEGIN IMMEDIATE")
    conn.execute("CREATE TABLE IF NOT EXISTS held (x)")
    conn.execute("INSERT INTO held VALUES (1)")
    ready.touch()
    time.sleep(seconds)
    conn.execute("ROLLBACK")
    print(json.dumps({"held": seconds}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
