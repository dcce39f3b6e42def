"""Foreign key checks that cost what a step could have broken (issue 11).

A run checks the whole database once, and after each batch or no-transaction step only
the tables it wrote and the tables that reference them. Counted, not timed: the SQL the
runner sends is traced on a borrowed connection. File-level: real database files.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

import bootmigrate
from dbfiles import make_set, read_db

NO_TX = "-- bootmigrate: no-transaction\n"
FAMILY = (
    "CREATE TABLE author (id INTEGER PRIMARY KEY, name TEXT);\n"
    "CREATE TABLE book (id INTEGER PRIMARY KEY, author_id INTEGER REFERENCES author (id));\n"
    "CREATE TABLE shelf (id INTEGER PRIMARY KEY, label TEXT);\n"
    "INSERT INTO author VALUES (1, 'a'), (2, 'b');\n"
    "INSERT INTO book VALUES (1, 1), (2, 2);\n"
    "INSERT INTO shelf VALUES (1, 'x');\n"
)


def rebuild(table: str, n: int) -> str:
    """A no-transaction rebuild of *table* that keeps its rows, each statement committed
    by itself: a step that runs alone."""
    return NO_TX + (
        f"CREATE TABLE {table}_new (id INTEGER PRIMARY KEY, label TEXT, n{n} INTEGER);\n"
        f"INSERT INTO {table}_new (id, label) SELECT id, label FROM {table};\n"
        f"DROP TABLE {table};\n"
        f"ALTER TABLE {table}_new RENAME TO {table};\n"
    )


def wrapped_rebuild(table: str, n: int) -> str:
    """The same in one explicit transaction (golang-migrate's no-wrap style): it runs
    inside the run's transaction."""
    body = rebuild(table, n)[len(NO_TX) :]
    return NO_TX + "PRAGMA foreign_keys = OFF;\nBEGIN;\n" + body + "COMMIT;\n"


def traced_migrate(db: Path, source: Path) -> list[str]:
    conn = sqlite3.connect(db)
    sent: list[str] = []
    conn.set_trace_callback(sent.append)
    try:
        bootmigrate.migrate(conn, source)
    finally:
        conn.set_trace_callback(None)
        conn.close()
    return sent


def full_checks(sent: list[str]) -> int:
    return sum(s.strip() == "PRAGMA main.foreign_key_check" for s in sent)


def table_checks(sent: list[str]) -> int:
    return sum("pragma_foreign_key_check(" in s for s in sent)


def test_thirty_rebuilds_check_the_whole_database_once(tmp_path: Path) -> None:
    files = {"0001_family.up.sql": FAMILY}
    files.update({f"{n:04d}_rebuild_{n}.up.sql": rebuild("shelf", n) for n in range(2, 32)})
    source = make_set(tmp_path, files)
    db = tmp_path / "app.db"
    bootmigrate.migrate(db, source, target=1)
    sent = traced_migrate(db, source)
    assert read_db(db).versions == tuple(range(1, 32))
    # Once for the run; each step then checks only shelf (nothing references it).
    assert full_checks(sent) == 1
    assert table_checks(sent) == 30


def test_thirty_rebuilds_in_explicit_transactions_run_as_one_batch(tmp_path: Path) -> None:
    files = {"0001_family.up.sql": FAMILY}
    files.update({f"{n:04d}_rebuild_{n}.up.sql": wrapped_rebuild("shelf", n) for n in range(2, 32)})
    source = make_set(tmp_path, files)
    db = tmp_path / "app.db"
    bootmigrate.migrate(db, source, target=1)
    sent = traced_migrate(db, source)
    assert read_db(db).versions == tuple(range(1, 32))
    assert full_checks(sent) == 1 and table_checks(sent) == 1
    # One commit for all thirty, no note of a step, no step lock.
    assert sum(s.strip().upper() == "COMMIT" for s in sent) == 1, sent
    assert not any(s.startswith("INSERT OR REPLACE INTO main.bootmigrate_meta") for s in sent)
    assert not (tmp_path / "app.db-bootmigrate-lock").exists()


def test_a_database_without_foreign_keys_is_never_checked(tmp_path: Path) -> None:
    files = {"0001_shelf.up.sql": "CREATE TABLE shelf (id INTEGER PRIMARY KEY, label TEXT);\n"}
    files.update({f"{n:04d}_rebuild_{n}.up.sql": rebuild("shelf", n) for n in range(2, 6)})
    source = make_set(tmp_path, files)
    db = tmp_path / "app.db"
    sent = traced_migrate(db, source)
    assert full_checks(sent) == 0 and table_checks(sent) == 0


def test_deleting_parents_is_caught_through_the_children_it_orphans(tmp_path: Path) -> None:
    # The step writes only author; book, which references it, is checked too.
    source = make_set(
        tmp_path,
        {
            "0001_family.up.sql": FAMILY,
            "0002_prune.up.sql": NO_TX + "DELETE FROM author WHERE id = 2;\n",
        },
    )
    db = tmp_path / "app.db"
    bootmigrate.migrate(db, source, target=1)
    with pytest.raises(bootmigrate.ForeignKeyViolation) as info:
        bootmigrate.migrate(db, source)
    assert [(t, r, p) for t, r, p, _ in info.value.violations] == [("book", 2, "author")]


def test_a_batch_is_checked_where_it_wrote(tmp_path: Path) -> None:
    source = make_set(
        tmp_path,
        {
            "0001_family.up.sql": FAMILY,
            "0002_more.up.sql": "INSERT INTO shelf VALUES (2, 'y');\n",
            "0003_orphan.up.sql": "INSERT INTO book VALUES (3, 99);\n",
        },
    )
    db = tmp_path / "app.db"
    bootmigrate.migrate(db, source, target=1)
    before = read_db(db)
    with pytest.raises(bootmigrate.ForeignKeyViolation) as info:
        bootmigrate.migrate(db, source)
    assert [(t, r, p) for t, r, p, _ in info.value.violations] == [("book", 3, "author")]
    assert read_db(db) == before


def test_orphans_from_before_the_run_do_not_count(tmp_path: Path) -> None:
    source = make_set(
        tmp_path,
        {
            "0001_family.up.sql": FAMILY,
            "0002_touch_books.up.sql": NO_TX + "UPDATE book SET id = id;\n",
        },
    )
    db = tmp_path / "app.db"
    bootmigrate.migrate(db, source, target=1)
    conn = sqlite3.connect(db)
    conn.execute("INSERT INTO book VALUES (9, 77)")  # the app's own orphan
    conn.commit()
    conn.close()
    assert bootmigrate.migrate(db, source).to_version == 2
    assert (9, 77) in read_db(db).rows["book"]


def test_a_dropped_parent_is_caught_in_its_children(tmp_path: Path) -> None:
    source = make_set(
        tmp_path,
        {
            "0001_family.up.sql": FAMILY,
            "0002_drop_author.up.sql": "DROP TABLE author;\n",
        },
    )
    db = tmp_path / "app.db"
    bootmigrate.migrate(db, source, target=1)
    with pytest.raises(bootmigrate.ForeignKeyViolation) as info:
        bootmigrate.migrate(db, source)
    assert {(t, p) for t, _, p, _ in info.value.violations} == {("book", "author")}
