"""The kit's compatible[...] check: a migration declared backward-compatible only adds.

Each false claim is a real migration file run on a database at the version before,
holding rows; the failure names the file, the object, what changed, the statement, and
what to do.
"""

from __future__ import annotations

import pytest

from bootmigrate._errors import UsageError
from bootmigrate.testing import MigrationCheckFailed, MigrationKit

CLAIM = "-- bootmigrate: backward-compatible\n"
BASE = (
    "CREATE TABLE notes (id INTEGER PRIMARY KEY, title TEXT NOT NULL, body TEXT);\n"
    "CREATE INDEX notes_title ON notes (title);\n"
    "CREATE VIEW titles AS SELECT title FROM notes;\n"
    "CREATE TRIGGER notes_stamp AFTER INSERT ON notes BEGIN SELECT 1; END;\n"
)
HEAD = (
    "compatibility claim of 0002_change: 0002_change.up.sql is declared '-- bootmigrate: "
    "backward-compatible', but it does more than add, so the release at version 1 cannot "
    "rely on the database it leaves:\n"
)
TAIL = (
    "\nRemove the backward-compatible directive, or make the migration only add (new "
    "tables, indexes, views, triggers, nullable or defaulted columns)."
)


def kit_for(
    make_set_in, change: str, *, base: str = BASE, fixture: str = "", synthetic_rows: bool = True
) -> MigrationKit:
    files = {"0001_notes.up.sql": base, "0002_change.up.sql": CLAIM + change}
    if fixture:
        files["0001_notes.fixture.sql"] = fixture
    return MigrationKit(make_set_in(files), synthetic_rows=synthetic_rows)


def test_a_migration_that_only_adds_passes(make_set_in):
    kit = kit_for(
        make_set_in,
        "CREATE TABLE tags (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);\n"
        # UNIQUE on a new table: the release before never writes to it
        "CREATE UNIQUE INDEX tags_name ON tags (name);\n"
        "ALTER TABLE notes ADD COLUMN pinned INTEGER NOT NULL DEFAULT 0;\n"
        "ALTER TABLE notes ADD COLUMN tag INTEGER REFERENCES tags (id) CHECK (tag > 0);\n"
        "CREATE INDEX notes_body ON notes (body);\n"
        "CREATE VIEW pinned AS SELECT * FROM notes WHERE pinned;\n"
        "CREATE TRIGGER notes_touch AFTER UPDATE ON notes BEGIN SELECT 1; END;\n"
        # a scratch table made and dropped again leaves nothing behind
        "CREATE TABLE scratch (x);\nDROP TABLE scratch;\n"
        # new rows in an existing table are an addition
        "INSERT INTO notes (title) VALUES ('welcome');\n",
        fixture="INSERT INTO notes (title, body) VALUES ('first', 'a'), ('second', NULL);\n",
    )
    assert kit.versions_for("compatible") == (2,)
    kit.check_compatible(2)
    kit.check_all(snapshot=False, lock=False)


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (
            "CREATE TABLE tags (x);\nDROP INDEX notes_title;\n",
            "- index notes_title: was dropped or renamed (statement 2, line 3: "
            "DROP INDEX notes_title;)",
        ),
        (
            "DROP VIEW titles;\nDROP TRIGGER notes_stamp;\nDROP TABLE notes;\n",
            "- table notes: was dropped or renamed (statement 3, line 4: DROP TABLE notes;)\n"
            "- index notes_title: was dropped or renamed (statement 3, line 4: "
            "DROP TABLE notes;)\n"
            "- view titles: was dropped or renamed (statement 1, line 2: DROP VIEW titles;)\n"
            "- trigger notes_stamp: was dropped or renamed (statement 2, line 3: "
            "DROP TRIGGER notes_stamp;)",
        ),
        (
            "ALTER TABLE notes RENAME COLUMN body TO text;\n",
            "- table notes: column body was renamed or moved (statement 1, line 2: "
            "ALTER TABLE notes RENAME COLUMN body TO text;)",
        ),
        (
            "ALTER TABLE notes DROP COLUMN body;\n",
            "- table notes: column(s) body were dropped (statement 1, line 2: "
            "ALTER TABLE notes DROP COLUMN body;)",
        ),
        (
            # a rebuild that makes body NOT NULL: the older release's NULL bodies fail
            "DROP VIEW titles;\n"
            "CREATE TABLE notes_new (id INTEGER PRIMARY KEY, title TEXT NOT NULL,\n"
            "    body TEXT NOT NULL DEFAULT '');\n"
            "INSERT INTO notes_new SELECT id, title, coalesce(body, '') FROM notes;\n"
            "DROP TABLE notes;\n"
            "ALTER TABLE notes_new RENAME TO notes;\n"
            "CREATE INDEX notes_title ON notes (title);\n"
            "CREATE VIEW titles AS SELECT title FROM notes;\n"
            "CREATE TRIGGER notes_stamp AFTER INSERT ON notes BEGIN SELECT 1; END;\n",
            "- table notes: column body TEXT became body TEXT NOT NULL DEFAULT '' "
            "(statement 4, line 6: DROP TABLE notes;)",
        ),
        (
            "CREATE TABLE log (x);\nUPDATE notes SET title = upper(title);\n",
            # the app's row and the kit's: both titles change
            "- table notes: 2 of its 2 row(s) were changed or deleted (the release before "
            "reads its rows as they were) (statement 2, line 3: "
            "UPDATE notes SET title = upper(title);)",
        ),
        (
            "DELETE FROM notes WHERE id = 1;\n",
            "- table notes: 1 of its 2 row(s) were changed or deleted (the release before "
            "reads its rows as they were) (statement 1, line 2: DELETE FROM notes WHERE id = 1;)",
        ),
        (
            "DROP VIEW titles;\nCREATE VIEW titles AS SELECT title, body FROM notes;\n",
            "- view titles: was CREATE VIEW titles AS SELECT title FROM notes, is CREATE VIEW "
            "titles AS SELECT title, body FROM notes (statement 1, line 2: DROP VIEW titles;)",
        ),
        (
            "DROP TRIGGER notes_stamp;\n"
            "CREATE TRIGGER notes_stamp AFTER INSERT ON notes BEGIN SELECT 2; END;\n",
            "- trigger notes_stamp: was CREATE TRIGGER notes_stamp AFTER INSERT ON notes BEGIN "
            "SELECT 1; END, is CREATE TRIGGER notes_stamp AFTER INSERT ON notes BEGIN SELECT 2; "
            "END (statement 1, line 2: DROP TRIGGER notes_stamp;)",
        ),
        (
            "CREATE UNIQUE INDEX notes_body_once ON notes (body);\n",
            "- index notes_body_once: is a new UNIQUE index on the existing table notes, which "
            "can refuse the inserts of the release before (statement 1, line 2: "
            "CREATE UNIQUE INDEX notes_body_once ON notes (body);)",
        ),
    ],
    ids=[
        "drop-index",
        "drop-table-view-trigger",
        "rename-column",
        "drop-column",
        "table-rebuild",
        "update",
        "delete",
        "changed-view",
        "changed-trigger",
        "new-unique-index",
    ],
)
def test_a_false_claim_fails_naming_the_object_and_statement(make_set_in, change, problem):
    # One row of the app's, and the kit's synthetic row: 2 rows in notes.
    kit = kit_for(make_set_in, change, fixture="INSERT INTO notes (title) VALUES ('first');\n")
    with pytest.raises(MigrationCheckFailed) as failure:
        kit.check_compatible(2)
    assert str(failure.value) == HEAD + problem + TAIL
    assert (failure.value.check, failure.value.version) == ("compatible", 2)


def test_a_rebuild_adding_not_null_without_default_fails(make_set_in):
    # ALTER TABLE ... ADD COLUMN ... NOT NULL without a default is refused by SQLite on any
    # table; a rebuild can make one, and the older release's inserts (without it) fail.
    base = "CREATE TABLE notes (id INTEGER PRIMARY KEY, title TEXT NOT NULL);\n"
    kit = kit_for(
        make_set_in,
        "CREATE TABLE notes_new (id INTEGER PRIMARY KEY, title TEXT NOT NULL,\n"
        "    author TEXT NOT NULL);\n"
        "INSERT INTO notes_new SELECT id, title, 'someone' FROM notes;\n"
        "DROP TABLE notes;\n"
        "ALTER TABLE notes_new RENAME TO notes;\n",
        base=base,
    )
    with pytest.raises(MigrationCheckFailed) as failure:
        kit.check_compatible(2)
    assert str(failure.value) == (
        HEAD + "- table notes: the new column author is NOT NULL without a DEFAULT, so the "
        "inserts of the release before (which do not name it) fail (statement 4, line 6: "
        "ALTER TABLE notes_new RENAME TO notes;)" + TAIL
    )


def test_a_python_migration_gets_the_same_check(make_set_in):
    up = (
        "# bootmigrate: backward-compatible\n"
        "def up(conn):\n"
        "    conn.execute('ALTER TABLE notes ADD COLUMN words INTEGER')\n"
        '    conn.execute("UPDATE notes SET words = length(title)")\n'
    )
    source = make_set_in({"0001_notes.up.sql": BASE, "0002_change.up.py": up})
    MigrationKit(source).check_compatible(2)  # fills only the new column: an addition

    (source / "0002_change.up.py").write_text(
        up + "    conn.execute(\"UPDATE notes SET title = 'x'\")\n", encoding="utf-8"
    )
    with pytest.raises(MigrationCheckFailed) as failure:
        MigrationKit(source).check_compatible(2)
    assert str(failure.value) == (
        "compatibility claim of 0002_change: 0002_change.up.py is declared '# bootmigrate: "
        "backward-compatible', but it does more than add, so the release at version 1 cannot "
        "rely on the database it leaves:\n"
        "- table notes: 1 of its 1 row(s) were changed or deleted (the release before reads "
        "its rows as they were)" + TAIL
    )


def test_only_declared_migrations_get_the_check(make_set_in):
    source = make_set_in(
        {
            "0001_notes.up.sql": BASE,
            "0002_tags.up.sql": CLAIM + "CREATE TABLE tags (x);\n",
            "0003_drop.up.sql": "DROP TABLE tags;\n",
        }
    )
    kit = MigrationKit(source)
    assert kit.versions_for("compatible") == (2,)
    with pytest.raises(UsageError, match=r"0003_drop.up.sql is not declared backward-compatible"):
        kit.check_compatible(3)
    kit.check_all(snapshot=False, lock=False)  # the undeclared drop is no claim to check


def test_rows_of_tables_without_rowid_and_with_generated_columns_are_compared(make_set_in):
    base = (
        "CREATE TABLE codes (code TEXT PRIMARY KEY, label TEXT) WITHOUT ROWID;\n"
        "CREATE TABLE sizes (w INTEGER, h INTEGER, area INTEGER AS (w * h));\n"
    )
    fixture = "INSERT INTO codes VALUES ('a', 'A');\nINSERT INTO sizes (w, h) VALUES (2, 3);\n"
    adds = "ALTER TABLE codes ADD COLUMN note TEXT;\nALTER TABLE sizes ADD COLUMN d INTEGER;\n"
    kit_for(make_set_in, adds, base=base, fixture=fixture).check_compatible(2)

    kit = kit_for(make_set_in, adds + "UPDATE sizes SET w = w + 1;\n", base=base, fixture=fixture)
    with pytest.raises(MigrationCheckFailed) as failure:
        kit.check_compatible(2)
    assert str(failure.value) == (
        HEAD + "- table sizes: 2 of its 2 row(s) were changed or deleted (the release before "
        "reads its rows as they were) (statement 3, line 4: UPDATE sizes SET w = w + 1;)" + TAIL
    )


def test_a_rebuild_adding_a_check_or_key_on_existing_columns_fails(make_set_in):
    base = (
        "CREATE TABLE users (id INTEGER PRIMARY KEY);\n"
        "CREATE TABLE notes (id INTEGER PRIMARY KEY, title TEXT NOT NULL, owner INTEGER);\n"
    )
    kit = kit_for(
        make_set_in,
        "CREATE TABLE notes_new (id INTEGER PRIMARY KEY, title TEXT NOT NULL,\n"
        "    owner INTEGER REFERENCES users (id), CHECK (length(title) > 0));\n"
        "INSERT INTO notes_new SELECT * FROM notes;\n"
        "DROP TABLE notes;\n"
        "ALTER TABLE notes_new RENAME TO notes;\n",
        base=base,
        # The kit's rows point owner at no user (it is not a key yet): the migration would
        # fail on them, which the populated check reports; here the schema is the point.
        synthetic_rows=False,
    )
    with pytest.raises(MigrationCheckFailed) as failure:
        kit.check_compatible(2)
    assert str(failure.value) == (
        HEAD + "- table notes: FOREIGN KEY constraint FOREIGN KEY (owner) REFERENCES users (id) "
        "is new on existing columns (statement 3, line 5: DROP TABLE notes;)\n"
        "- table notes: constraint CHECK (length(title) > 0) is new on existing columns "
        "(statement 3, line 5: DROP TABLE notes;)" + TAIL
    )
