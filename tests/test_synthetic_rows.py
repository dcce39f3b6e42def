"""The test kit's synthetic rows: what real rows find, the kit now finds without fixtures.

Each test writes a migration set to disk and runs the kit on it (database files in a
temporary directory), most with foreign keys enforced by the prepare hook, so a row
that points nowhere is refused on the spot instead of slipping through.
"""

from __future__ import annotations

import json
import sqlite3
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import bootmigrate
from bootmigrate.testing import MigrationCheckFailed, MigrationKit
from dbfiles import make_set


def enforcing(conn: sqlite3.Connection) -> None:
    conn.execute("PRAGMA foreign_keys = ON")


def counts(path: Path) -> dict[str, int]:
    conn = sqlite3.connect(path)
    try:
        names = [
            str(name)
            for (name,) in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' "
                "AND name NOT LIKE 'sqlite_%' AND name NOT LIKE 'bootmigrate_%'"
            )
        ]
        return {n: conn.execute(f'SELECT count(*) FROM "{n}"').fetchone()[0] for n in names}
    finally:
        conn.close()


def query(path: Path, sql: str) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def orphans(path: Path) -> list[tuple[object, ...]]:
    return query(path, "PRAGMA foreign_key_check")


# -- what the issue reported ---------------------------------------------------------------

PARENT_AND_CHILD = """
CREATE TABLE parent (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER, note TEXT);
"""


def _add_foreign_key(select_parent_id: str) -> str:
    """A rebuild of child that adds REFERENCES parent (id) (SQLite's 12-step way)."""
    return f"""
CREATE TABLE child_new (
    id INTEGER PRIMARY KEY,
    parent_id INTEGER REFERENCES parent (id),
    note TEXT
);
INSERT INTO child_new (id, parent_id, note) SELECT id, {select_parent_id}, note FROM child;
DROP TABLE child;
ALTER TABLE child_new RENAME TO child;
"""


def test_a_foreign_key_added_over_orphans_fails_convergence_without_fixtures(make_set_in):
    # child.parent_id was never a foreign key, so users' databases hold ids of parents
    # deleted long ago; the rebuild copies them into a column that now must point at a
    # parent. The kit's rows are such orphans: a plain column never holds a key.
    source = make_set_in(
        {
            "0001_tables.up.sql": PARENT_AND_CHILD,
            "0002_child_fk.up.sql": _add_foreign_key("parent_id"),
        }
    )
    kit = MigrationKit(source)
    kit.check_convergence(0)  # from empty there is nothing to point nowhere
    with pytest.raises(MigrationCheckFailed) as failure:
        kit.check_convergence(1)
    message = str(failure.value)
    assert failure.value.check == "convergence"
    assert failure.value.version == 1
    assert message.startswith(
        "convergence from version 0001_tables: upgrading a database from version 1 to 2 failed"
    )
    assert "1 foreign key violation(s): child rowid" in message
    # Before: on empty tables, the same check passed.
    MigrationKit(source, synthetic_rows=False).check_convergence(1)


def test_a_foreign_key_added_with_the_orphans_handled_passes(make_set_in):
    # The fix: orphans lose their dangling id and keep their row.
    fixed = "CASE WHEN parent_id IN (SELECT id FROM parent) THEN parent_id END"
    source = make_set_in(
        {
            "0001_tables.up.sql": PARENT_AND_CHILD,
            "0002_child_fk.up.sql": _add_foreign_key(fixed),
        }
    )
    MigrationKit(source, prepare=enforcing).check_all(snapshot=False, lock=False)


def test_a_step_converting_dates_to_unix_time_passes(make_set_in, tmp_path):
    # Before, the kit wrote 987654321 into DATETIME columns; strftime reads a number as
    # a Julian day and gives NULL for it, so this correct step "failed on rows".
    source = make_set_in(
        {
            "0001_events.up.sql": "CREATE TABLE events (id INTEGER PRIMARY KEY,"
            " happened_at DATETIME NOT NULL, day DATE, at_time TIME);\n",
            "0002_unix_time.up.sql": """
CREATE TABLE events_new (id INTEGER PRIMARY KEY, happened_at INTEGER NOT NULL, day DATE,
                         at_time TIME);
INSERT INTO events_new (id, happened_at, day, at_time)
    SELECT id, CAST(strftime('%s', happened_at) AS INTEGER), day, at_time FROM events;
DROP TABLE events;
ALTER TABLE events_new RENAME TO events;
""",
        }
    )
    kit = MigrationKit(source)
    kit.check_all(snapshot=False, lock=False)
    at1 = kit.database_at(1, tmp_path / "at1.db")
    assert query(at1, "SELECT happened_at, day, at_time FROM events") == [
        ("2024-03-13 17:00:00", "2024-03-13", "17:00:00")
    ]
    at2 = kit.database_at(2, tmp_path / "at2.db")
    # Version 1's row, converted; version 2's row was written as an integer.
    assert query(at2, "SELECT happened_at FROM events ORDER BY id") == [
        (1710349200,),
        (123456790,),
    ]


# -- keys ----------------------------------------------------------------------------------

KEYS = """
CREATE TABLE publishers (code TEXT PRIMARY KEY, name TEXT NOT NULL);
CREATE TABLE authors (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
-- REFERENCES with no column: the parent's PRIMARY KEY (code; id, the rowid's alias).
CREATE TABLE books (
    id INTEGER PRIMARY KEY,
    publisher TEXT NOT NULL REFERENCES publishers,
    author_id INTEGER NOT NULL REFERENCES authors,
    title TEXT NOT NULL UNIQUE
);
CREATE TABLE editions (
    book_id INTEGER NOT NULL REFERENCES books,
    isbn TEXT NOT NULL,
    printed DATE,
    PRIMARY KEY (book_id, isbn)
) WITHOUT ROWID;
-- Composite foreign keys to a composite key: implicit, and naming the columns.
CREATE TABLE edition_notes (
    book_id INTEGER NOT NULL,
    isbn TEXT NOT NULL,
    note TEXT NOT NULL,
    weight REAL,
    FOREIGN KEY (book_id, isbn) REFERENCES editions
) STRICT;
CREATE TABLE reprints (
    id INTEGER PRIMARY KEY,
    of_book INTEGER,
    of_isbn TEXT,
    FOREIGN KEY (of_book, of_isbn) REFERENCES editions (book_id, isbn)
);
-- Self-references: NOT NULL (the first row points at itself) and nullable.
CREATE TABLE categories (
    name TEXT PRIMARY KEY,
    parent TEXT NOT NULL REFERENCES categories
) WITHOUT ROWID;
CREATE TABLE comments (
    id INTEGER PRIMARY KEY,
    reply_to INTEGER REFERENCES comments (id),
    body TEXT NOT NULL
);
"""


def test_child_tables_get_rows_with_foreign_keys_on(make_set_in, tmp_path):
    source = make_set_in(
        {
            "0001_keys.up.sql": KEYS,
            "0002_index.up.sql": "CREATE INDEX books_author ON books (author_id);\n",
        }
    )
    kit = MigrationKit(source, prepare=enforcing)
    path = kit.database_at(2, tmp_path / "at2.db")
    # One row per table and version, none refused.
    assert set(counts(path).values()) == {2}
    assert orphans(path) == []
    # The implicit key is the parent's primary key (code), not its rowid.
    loose = "SELECT count(*) FROM books WHERE publisher NOT IN (SELECT code FROM publishers)"
    assert query(path, loose) == [(0,)]
    # Each version's book points at the newest author then: that version's.
    assert query(path, "SELECT author_id FROM books ORDER BY id") == query(
        path, "SELECT id FROM authors ORDER BY id"
    )
    # The first category points at itself, the second at the first.
    parents = {str(n): str(p) for n, p in query(path, "SELECT name, parent FROM categories")}
    first = [name for name, parent in parents.items() if name == parent]
    assert len(first) == 1
    assert set(parents.values()) == set(first)
    types = "SELECT typeof(book_id), typeof(isbn), typeof(weight) FROM edition_notes"
    assert query(path, types) == [("integer", "text", "real")] * 2
    # Every check runs on these rows with foreign keys enforced.
    kit.check_all(snapshot=False, lock=False)


def test_a_check_in_list_is_honoured(make_set_in, tmp_path):
    source = make_set_in(
        {
            "0001_jobs.up.sql": "CREATE TABLE jobs (id INTEGER PRIMARY KEY,"
            " state TEXT NOT NULL CHECK (state IN ('queued', 'running', 'done')),"
            " priority INTEGER NOT NULL DEFAULT 0,"
            " CHECK (priority IN (-1, 0, 1) AND length(state) > 0));\n",
            "0002_a.up.sql": "CREATE INDEX jobs_state ON jobs (state);\n",
            "0003_b.up.sql": "CREATE INDEX jobs_priority ON jobs (priority);\n",
            "0004_c.up.sql": "ALTER TABLE jobs ADD COLUMN note TEXT;\n",
        }
    )
    path = MigrationKit(source).database_at(4, tmp_path / "at4.db")
    assert query(path, "SELECT state, priority FROM jobs ORDER BY id") == [
        ("queued", -1),
        ("running", 0),
        ("done", 1),
        ("queued", -1),
    ]


def test_date_boolean_and_json_columns_get_values_of_their_kind(make_set_in, tmp_path):
    source = make_set_in(
        {
            "0001_kinds.up.sql": "CREATE TABLE kinds (id INTEGER PRIMARY KEY,"
            " created TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP, updated_at TIMESTAMPTZ,"
            " born DATE, opens TIME, flag BOOLEAN NOT NULL, on_off BOOL, settings JSON,"
            " extra TEXT CHECK (json_valid(extra)), plain TEXT, counter INTEGER, data BLOB,"
            " price REAL, untyped, total INTEGER GENERATED ALWAYS AS (counter + 1));\n",
        }
    )
    path = MigrationKit(source).database_at(1, tmp_path / "at1.db")
    [row] = query(
        path,
        "SELECT created, updated_at, born, opens, flag, on_off, settings, extra, plain,"
        " counter, data, price, untyped, total FROM kinds",
    )
    assert row[:6] == ("2024-03-13 17:00:00", "2024-03-13 17:00:00", "2024-03-13", "17:00:00", 0, 0)
    assert json.loads(str(row[6])) == {"bootmigrate": 0, "column": "settings"}
    assert json.loads(str(row[7]))["column"] == "extra"
    assert row[8:] == ("plain 0", 123456789, b"data 0", 98765.4321, b"untyped 0", 123456790)
    # The strftime of the issue reads them.
    assert query(path, "SELECT strftime('%s', created), strftime('%s', born) FROM kinds") == [
        ("1710349200", "1710288000")
    ]


# -- UNIQUE: distinct rows, but two alike where duplicates are the point ----------------------


def test_convergence_rows_meet_no_later_unique_index_the_populated_check_does(make_set_in):
    # title has a default: left to it, every version's row would have 'untitled', and a
    # later UNIQUE index would fail convergence on the kit's own sameness. Rows get
    # distinct values in every column; the populated check adds its two alike on purpose.
    source = make_set_in(
        {
            "0001_notes.up.sql": "CREATE TABLE notes (id INTEGER PRIMARY KEY,"
            " title TEXT NOT NULL DEFAULT 'untitled', pinned INTEGER NOT NULL DEFAULT 0);\n",
            "0002_body.up.sql": "ALTER TABLE notes ADD COLUMN body TEXT;\n",
            "0003_unique.up.sql": "CREATE UNIQUE INDEX notes_title ON notes (title);\n"
            "CREATE UNIQUE INDEX notes_pinned_body ON notes (pinned, body);\n",
        }
    )
    kit = MigrationKit(source)
    for version in kit.versions_for("convergence"):
        kit.check_convergence(version)
    kit.check_populated(2)
    with pytest.raises(MigrationCheckFailed, match=r"\(notes: 4\).*UNIQUE constraint failed"):
        kit.check_populated(3)


# -- what the rows cannot do -----------------------------------------------------------------


def test_a_table_whose_check_refuses_the_rows_is_named_when_a_check_fails(make_set_in):
    source = make_set_in(
        {
            "0001_tables.up.sql": "CREATE TABLE codes (code TEXT NOT NULL"
            " CHECK (length(code) = 3));\n"
            "CREATE TABLE notes (id INTEGER PRIMARY KEY, title TEXT NOT NULL);\n"
            # Takes one row (SQLite numbers it 1), refuses the rest: not empty, not named.
            "CREATE TABLE settings (id INTEGER PRIMARY KEY CHECK (id = 1), theme TEXT);\n",
            "0002_author.up.sql": "ALTER TABLE notes ADD COLUMN author TEXT NOT NULL;\n",
        }
    )
    with pytest.raises(MigrationCheckFailed) as failure:
        MigrationKit(source).check_populated(2)
    message = str(failure.value)
    assert "(codes: 0, notes: 3, settings: 1)" in message
    assert message.endswith(
        "(the kit's synthetic rows were refused by codes (CHECK constraint failed: "
        "length(code) = 3), which stayed empty: give them rows in a fixture file, "
        "NNNN_name.fixture.sql)"
    )


def test_a_fixture_fills_what_the_rows_cannot(make_set_in, tmp_path):
    source = make_set_in(
        {
            "0001_codes.up.sql": "CREATE TABLE codes (code TEXT NOT NULL"
            " CHECK (length(code) = 3));\n",
            "0001_codes.fixture.sql": "INSERT INTO codes VALUES ('abc');\n",
        }
    )
    assert counts(MigrationKit(source).database_at(1, tmp_path / "at1.db")) == {"codes": 1}


def test_a_table_with_a_not_null_key_to_an_empty_parent_is_skipped_not_orphaned(
    make_set_in, tmp_path
):
    source = make_set_in(
        {
            "0001_tables.up.sql": "CREATE TABLE codes (code TEXT PRIMARY KEY"
            " CHECK (length(code) = 3));\n"
            "CREATE TABLE uses (id INTEGER PRIMARY KEY,"
            " code TEXT NOT NULL REFERENCES codes, maybe TEXT REFERENCES codes);\n",
        }
    )
    path = MigrationKit(source).database_at(1, tmp_path / "at1.db")
    assert counts(path) == {"codes": 0, "uses": 0}
    assert orphans(path) == []


# -- property: any schema of the shapes above gets rows, and no row points nowhere -----------

INT_TYPES = ["INTEGER", "INT", "BIGINT"]
LOOSE_TYPES = [
    "TEXT",
    "VARCHAR(40)",
    "INTEGER",
    "REAL",
    "BLOB",
    "",
    "NUMERIC",
    "DATETIME",
    "DATE",
    "TIME",
    "TIMESTAMP",
    "BOOLEAN",
    "JSON",
]
STRICT_TYPES = ["INTEGER", "INT", "TEXT", "REAL", "BLOB", "ANY"]
# Types whose values stay distinct from row to row (a UNIQUE column must be one).
MANY_VALUED = {"TEXT", "VARCHAR(40)", "INTEGER", "INT", "REAL", "BLOB", "DATETIME", "DATE"}


@st.composite
def schemas(draw: st.DrawFn) -> list[str]:
    """CREATE TABLE statements: a few tables with random column types, keys, defaults,
    CHECK IN lists, generated columns, UNIQUE columns, WITHOUT ROWID and STRICT, and
    foreign keys (to an earlier table's key, named or implicit, single or composite, or
    to the table itself)."""
    tables: list[tuple[str, list[tuple[str, str]]]] = []  # name, key columns (name, type)
    statements = []
    for index in range(draw(st.integers(1, 4))):
        name = f"t{index}"
        strict = draw(st.booleans())
        key_kind = draw(st.sampled_from(["rowid", "integer", "text", "composite", "none"]))
        without_rowid = key_kind not in ("rowid", "none") and draw(st.booleans())
        items: list[str] = []
        keys: list[tuple[str, str]] = []
        if key_kind == "rowid":
            items.append("id INTEGER PRIMARY KEY")
            keys = [("id", "INTEGER")]
        elif key_kind == "integer":  # not the rowid's alias
            items.append("id INT PRIMARY KEY NOT NULL")
            keys = [("id", "INT")]
        elif key_kind == "text":
            items.append("id TEXT PRIMARY KEY NOT NULL")
            keys = [("id", "TEXT")]
        elif key_kind == "composite":
            items += ["k1 INTEGER NOT NULL", "k2 TEXT NOT NULL"]
            keys = [("k1", "INTEGER"), ("k2", "TEXT")]
        types = STRICT_TYPES if strict else LOOSE_TYPES
        for position in range(draw(st.integers(0, 4))):
            column = f"c{position}"
            declared = draw(st.sampled_from(types))
            text = f"{column} {declared}".rstrip()
            if draw(st.booleans()):
                text += " NOT NULL"
            if declared in MANY_VALUED and draw(st.booleans()):
                text += " UNIQUE"
            choice = draw(st.sampled_from(["plain", "default", "check", "generated"]))
            if choice == "default":
                text += " DEFAULT 0" if declared in INT_TYPES else " DEFAULT 'x'"
            elif choice == "check" and declared in ("TEXT", "VARCHAR(40)"):
                text += f" CHECK ({column} IN ('a', 'b', 'it''s'))"
            elif choice == "generated" and declared in ("INTEGER", "TEXT", "INT"):
                text = f"{column} {declared} GENERATED ALWAYS AS (42)"
            items.append(text)
        constraints = []
        for parent_index, (parent, parent_keys) in enumerate(tables):
            if not parent_keys or not draw(st.booleans()):
                continue
            not_null = " NOT NULL" if draw(st.booleans()) else ""
            children = [f"fk{parent_index}_{i}" for i in range(len(parent_keys))]
            items += [f"{c} {t}{not_null}" for c, (_, t) in zip(children, parent_keys)]
            named = draw(st.booleans())
            target = f" ({', '.join(k for k, _ in parent_keys)})" if named else ""
            constraints.append(f"FOREIGN KEY ({', '.join(children)}) REFERENCES {parent}{target}")
        self_reference = draw(st.booleans())
        if keys and self_reference:
            children = [f"self_{k}" for k, _ in keys]
            not_null = " NOT NULL" if draw(st.booleans()) else ""
            items += [f"{c} {t}{not_null}" for c, (_, t) in zip(children, keys)]
            constraints.append(f"FOREIGN KEY ({', '.join(children)}) REFERENCES {name}")
        if key_kind == "composite":
            constraints.append("PRIMARY KEY (k1, k2)")
        if all("GENERATED" in item for item in items):  # SQLite wants one stored column
            items.append("c TEXT")
        options = [o for o, on in (("WITHOUT ROWID", without_rowid), ("STRICT", strict)) if on]
        statements.append(
            f"CREATE TABLE {name} ({', '.join(items + constraints)}) {', '.join(options)};"
        )
        tables.append((name, keys))
    return statements


@settings(max_examples=60)
@given(schemas())
def test_every_generated_table_gets_rows_and_no_foreign_key_points_nowhere(statements):
    with tempfile.TemporaryDirectory() as directory:
        source = make_set(
            Path(directory),
            {
                "0001_schema.up.sql": "\n".join(statements) + "\n",
                "0002_again.up.sql": "CREATE TABLE zz_second (id INTEGER PRIMARY KEY);\n",
            },
        )
        kit = MigrationKit(source, prepare=enforcing)
        path = kit.database_at(2, Path(directory) / "at2.db")
        found = counts(path)
        # A row per version: distinct where UNIQUE, pointing at a parent where a key.
        assert found == {**{f"t{i}": 2 for i in range(len(statements))}, "zz_second": 1}
        assert orphans(path) == []
        assert bootmigrate.status(path, source).current == 2
