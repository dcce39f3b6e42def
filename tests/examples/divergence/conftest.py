"""Databases an old build of the app left behind, before it used these migrations.

Like the legacy store's total_tokens: the 1.4 build added a column with ALTER TABLE to
databases it upgraded, while its CREATE TABLE for new installs never had it. Both kinds
are at version 1, and the migrations after 1 must make them one schema.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import bootmigrate
from bootmigrate.testing import MigrationKit


def installed_by_1_4(path: Path) -> None:
    bootmigrate.migrate(path, Path(__file__).parent / "migrations", target=1)


def upgraded_by_1_4(path: Path) -> None:
    installed_by_1_4(path)
    conn = sqlite3.connect(path)
    conn.execute("ALTER TABLE sessions ADD COLUMN total_tokens INTEGER")
    conn.close()


def pytest_bootmigrate_kit(config: object, source: str) -> MigrationKit:
    return MigrationKit(
        source, origins={"1.4 installed": installed_by_1_4, "1.4 upgraded": upgraded_by_1_4}
    )
