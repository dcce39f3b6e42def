"""Foreign keys: table rebuilds keep child rows, orphans are refused, the setting comes back."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

import bootmigrate
from bootmigrate.testing._fingerprint import fingerprint
from dbfiles import make_set, read_db

SCHEMA = """
CREATE TABLE author (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
CREATE TABLE book (
    id INTEGER PRIMARY KEY,
    author_id INTEGER NOT NULL REFERENCES author (id) ON DELETE CASCADE,
    title TEXT NOT NULL
);
CREATE TABLE review (
    id INTEGER PRIMARY KEY,
    book_id INTEGER REFERENCES book (id) ON DELETE CASCADE,
    stars INTEGER
);
CREATE TABLE untouched (id INTEGER PRIMARY KEY, note TEXT, data BLOB, score REAL);
INSERT INTO author (id, name) VALUES (1, 'Le Guin'), (2, 'Lem'), (3, 'Jemisin');
INSERT INTO book (author_id, title)
    SELECT a.id, a.name || ' book ' || n.value
    FROM author AS a, (SELECT 1 AS value UNION ALL SELECT 2 UNION ALL SELECT 3) AS n;
INSERT INTO review (book_id, stars) SELECT id, id % 5 FROM book;
INSERT INTO untouched (note, data, score)
    VALUES ('a', x'00ff', 1.5), ('b', NULL, 2), (NULL, x'', 0);
"""

# SQLite's 12-step procedure: create the new table, copy, drop the old one, rename.
REBUILD = """
CREATE TABLE author_new (id INTEGER PRIMARY KEY, name TEXT NOT NULL, born INTEGER);
INSERT INTO author_new (id, name) SELECT id, name FROM author;
DROP TABLE author;
ALTER TABLE author_new RENAME TO author;
"""

# The tempting order: rename the old table away first. Since SQLite 3.26 the rename also
# rewrites the children's REFERENCES to the old name, which is then dropped.
RENAME_FIRST = """
ALTER TABLE author RENAME TO author_old;
CREATE TABLE author (id INTEGER PRIMARY KEY, name TEXT NOT NULL, born INTEGER);
INSERT INTO author (id, name) SELECT id, name FROM author_old;
DROP TABLE author_old;
"""

ORPHAN = "DELETE FROM author WHERE id = 2;\n"


def _setup(tmp_path: Path, second: str) -> tuple[Path, Path]:
    source = make_set(tmp_path, {"0001_schema.up.sql": SCHEMA, "0002_change.up.sql": second})
    db = tmp_path / "app.db"
    bootmigrate.migrate(db, source, target=1)
    return source, db


def _enforcing(db: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA foreign_keys = ON")
    return conn


@pytest.mark.parametrize("borrowed", [False, True], ids=["path", "connection"])
def test_rebuilding_a_parent_table_keeps_every_child_row(tmp_path: Path, borrowed: bool) -> None:
    source, db = _setup(tmp_path, REBUILD)
    before = fingerprint(db)
    if borrowed:
        conn = _enforcing(db)
        report = bootmigrate.migrate(conn, source)
        assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1  # given back on
        conn.close()
    else:
        report = bootmigrate.migrate(db, source)
    assert report.to_version == 2
    after = fingerprint(db)
    # The children were not cascaded away by DROP TABLE author, the parent's rows were
    # copied, and the table the migration never touched is identical.
    for table in ("book", "review", "untouched"):
        assert after[table] == before[table], table
    snapshot = read_db(db)
    assert len(snapshot.rows["book"]) == 9 and len(snapshot.rows["review"]) == 9
    assert [row[:2] for row in snapshot.rows["author"]] == [
        (1, "Le Guin"),
        (2, "Lem"),
        (3, "Jemisin"),
    ]
    (book_sql,) = (sql for kind, name, _, sql in snapshot.schema if name == "book")
    assert book_sql is not None and "REFERENCES author" in book_sql
    # The rebuilt parent still cascades for the app, which enforces foreign keys.
    conn = _enforcing(db)
    conn.execute("DELETE FROM author WHERE id = 1")
    conn.commit()
    assert conn.execute("SELECT COUNT(*) FROM book").fetchone()[0] == 6
    assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    conn.close()


@pytest.mark.parametrize("borrowed", [False, True], ids=["path", "connection"])
def test_a_migration_that_leaves_orphans_fails_and_changes_nothing(
    tmp_path: Path, borrowed: bool
) -> None:
    source, db = _setup(tmp_path, ORPHAN)
    before = read_db(db)
    before_rows = fingerprint(db)
    conn = _enforcing(db) if borrowed else None
    with pytest.raises(bootmigrate.ForeignKeyViolation) as info:
        bootmigrate.migrate(conn if conn is not None else db, source)
    if conn is not None:
        assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1  # given back on
        conn.close()
    # With enforcement off the DELETE did not cascade: author 2's three books are orphans.
    assert sorted((t, p) for t, _, p, _ in info.value.violations) == [("book", "author")] * 3
    rowids = sorted(r or 0 for _, r, _, _ in info.value.violations)
    orphans = [row[0] for row in before.rows["book"] if row[1] == 2]
    assert rowids == orphans
    message = str(info.value)
    assert "3 foreign key violation(s)" in message
    assert f"book rowid {orphans[0]} -> author" in message and "rolled back" in message
    assert read_db(db) == before
    assert fingerprint(db) == before_rows


def test_the_rename_first_rebuild_is_caught_not_committed(tmp_path: Path) -> None:
    """Renaming the parent away rewrites the children's REFERENCES to a table then dropped."""
    source, db = _setup(tmp_path, RENAME_FIRST)
    before = read_db(db)
    with pytest.raises(bootmigrate.ForeignKeyViolation) as info:
        bootmigrate.migrate(db, source)
    assert {(t, p) for t, _, p, _ in info.value.violations} == {("book", "author_old")}
    assert read_db(db) == before


def test_the_rename_first_rebuild_works_with_legacy_alter_table(tmp_path: Path) -> None:
    """``PRAGMA legacy_alter_table = ON`` keeps the children pointing at the name."""
    source, db = _setup(tmp_path, "PRAGMA legacy_alter_table = ON;\n" + RENAME_FIRST)
    before = fingerprint(db)
    bootmigrate.migrate(db, source)
    after = fingerprint(db)
    assert after["book"] == before["book"] and after["review"] == before["review"]


def test_orphans_from_before_the_run_do_not_block_it(tmp_path: Path) -> None:
    source, db = _setup(tmp_path, "CREATE TABLE tag (name TEXT);\n")
    # The app, with enforcement off (SQLite's default), once left an orphan behind.
    conn = sqlite3.connect(db)
    conn.execute("INSERT INTO book (id, author_id, title) VALUES (100, 99, 'lost')")
    conn.commit()
    conn.close()
    report = bootmigrate.migrate(db, source)
    assert report.to_version == 2
    snapshot = read_db(db)
    assert "tag" in snapshot.tables and (100, 99, "lost") in snapshot.rows["book"]


@pytest.mark.parametrize("enforcing", [False, True])
def test_the_connections_setting_is_given_back_after_a_failure(
    tmp_path: Path, enforcing: bool
) -> None:
    source, db = _setup(tmp_path, "CREATE TABLE x (a);\nSELECT no_such_function();\n")
    conn = sqlite3.connect(db)
    conn.execute(f"PRAGMA foreign_keys = {'ON' if enforcing else 'OFF'}")
    with pytest.raises(bootmigrate.StatementError):
        bootmigrate.migrate(conn, source)
    assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == int(enforcing)
    assert not conn.in_transaction
    conn.close()
