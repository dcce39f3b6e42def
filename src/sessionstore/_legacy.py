"""Taking over the legacy daemon's databases: how they are recognised and repaired.

The legacy code recorded its versions in ``schema_version`` (one row per version,
``MAX(version)`` is the database's version) and migrated with hand-written checks that
left databases in several shapes (see the README, "Taking over a legacy database").
``migrations/0001`` to ``0022`` are that history as clean files, so a legacy database is
adopted at the version its schema really has, repaired where an old build skipped a
change, and continues with the next file.

``schema_version`` is kept as it was, and the legacy-history files keep inserting their
rows into it: an old legacy build that opens the file later reads ``MAX(version)`` = 22,
runs none of its upgrade blocks, and finds every table and index its
``CREATE ... IF NOT EXISTS`` statements name already there.
"""

from __future__ import annotations

import sqlite3

from bootmigrate import Baseline, UnrecognizedDatabase, additive_repair

#: Where the migrations are: the package data ``sessionstore.migrations``.
MIGRATIONS = "sessionstore.migrations:."
#: The last version the legacy code wrote.
LAST_LEGACY_VERSION = 22


def legacy_version(conn: sqlite3.Connection) -> int | None:
    """``MAX(version)`` of the legacy ``schema_version`` table; None for a new database.

    A file with tables but neither a bootmigrate ledger nor ``schema_version`` is not one
    of ours: refused rather than guessed at.
    """
    tables = {
        name
        for (name,) in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
    }
    if "schema_version" not in tables:
        if tables:
            raise UnrecognizedDatabase(
                f"the database has tables ({', '.join(sorted(tables))}) but neither a "
                "bootmigrate ledger nor the legacy schema_version table: it is not a "
                "session store. It was left unchanged; check the path"
            )
        return None
    row = conn.execute("SELECT MAX(version) FROM schema_version").fetchone()
    # initSchema creates the table and inserts version 1 in one script: an empty table
    # means that script stopped half-way, so take it as version 1 and let the repair
    # add whatever is missing.
    return int(row[0]) if row[0] is not None else 1


#: The baseline ``open`` migrates with: adopt databases the legacy code left behind.
BASELINE = Baseline(
    detect=legacy_version,
    highest=LAST_LEGACY_VERSION,
    # Legacy files upgraded past 13 kept total_tokens (migrations/0013 drops it): a column
    # of the history, so it is accepted, and 0023's rebuild leaves it behind.
    repair=additive_repair(MIGRATIONS, through=LAST_LEGACY_VERSION),
    label="legacy schema_version",
)
