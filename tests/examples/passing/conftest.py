"""The app's hook: after each upgrade, the notes the fixtures wrote are still there."""

from __future__ import annotations

import sqlite3

from bootmigrate.testing import MigrationKit


def check_rows(conn: sqlite3.Connection, from_version: int) -> None:
    # The kit's synthetic rows are in the table too: look for the fixture's own.
    titles = [
        row[0]
        for row in conn.execute(
            "SELECT title FROM notes WHERE title IN ('first', 'second') ORDER BY id"
        )
    ]
    if from_version >= 1:
        assert titles == ["first", "second"], titles


def pytest_bootmigrate_kit(config: object, source: str) -> MigrationKit:
    return MigrationKit(source, check_rows=check_rows)
