"""Boot like an app: ``worker_boot.py DB SOURCE [options]``; print the report as JSON.

Options: ``--ready FILE`` (created once the migrations are loaded), ``--go FILE`` (wait
for it before migrating: a barrier for processes started together), ``--timeout S``,
``--backup``, ``--connection`` (migrate a connection this script opened, as apps that
borrow one do).
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
import time
from pathlib import Path

import bootmigrate


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("db")
    parser.add_argument("source")
    parser.add_argument("--ready")
    parser.add_argument("--go")
    parser.add_argument("--timeout", type=float, default=bootmigrate.DEFAULT_TIMEOUT)
    parser.add_argument("--backup", action="store_true")
    parser.add_argument("--connection", action="store_true", help="migrate a connection")
    args = parser.parse_args()
    migrations = bootmigrate.load(args.source)  # read the files before the barrier
    if args.ready:
        Path(args.ready).touch()
    if args.go:
        go = Path(args.go)
        while not go.exists():
            time.sleep(0.001)
    db: str | sqlite3.Connection = args.db
    if args.connection:
        db = sqlite3.connect(args.db)
    try:
        report = bootmigrate.migrate(db, migrations, timeout=args.timeout, backup=args.backup)
    except bootmigrate.MigrationError as exc:
        print(json.dumps({"error": type(exc).__name__, "message": str(exc)}))
        return 1
    print(
        json.dumps(
            {
                "state": report.state,
                "from": report.from_version,
                "to": report.to_version,
                "steps": [s.version for s in report.steps],
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
