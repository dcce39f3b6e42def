"""``python -m sessionstore [PATH]``: open a store (create, migrate, take over), say what it did."""

from __future__ import annotations

import argparse
import sys

import bootmigrate

from ._store import open as open_store

DEFAULT_PATH = "var/sessions.db"


def main(argv: list[str] | None = None) -> int:
    """Open the store at PATH and print what opening it did; 1 on a migration error."""
    parser = argparse.ArgumentParser(
        prog="sessionstore",
        description="Open a session store: create it, migrate it, or take over a legacy "
        "daemon database, and print what happened.",
    )
    parser.add_argument(
        "path", nargs="?", default=DEFAULT_PATH, help=f"database file (default {DEFAULT_PATH})"
    )
    args = parser.parse_args(argv)
    try:
        store = open_store(args.path)
    except bootmigrate.MigrationError as exc:
        print(f"sessionstore: {exc}", file=sys.stderr)
        return 1
    with store:
        print(store.migration.summary())
        print(store.describe())
    return 0


if __name__ == "__main__":
    sys.exit(main())
