"""The canonical schema: equal for equal schemas written differently, a readable diff otherwise."""

from __future__ import annotations

import ast
import json
import sqlite3
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import bootmigrate
from bootmigrate import Schema, canonical_schema, schema_diff
from bootmigrate._schema.tokens import normalize_sql

EXAMPLE_SET = Path(__file__).parent / "data" / "example_set"


def make_db(path: Path, sql: str) -> Path:
    conn = sqlite3.connect(path)
    try:
        conn.executescript(sql)
        conn.commit()
    finally:
        conn.close()
    return path


def test_example_set_text_is_one_line_per_item(tmp_path):
    db = tmp_path / "app.db"
    bootmigrate.migrate(db, EXAMPLE_SET)
    assert canonical_schema(db).to_text() == (
        "table notes\n"
        "  column id INTEGER PRIMARY KEY\n"
        "  column title TEXT NOT NULL\n"
        "  column body TEXT NOT NULL DEFAULT ''\n"
        "  column updated_at TEXT\n"
        "table tags\n"
        "  column note_id INTEGER NOT NULL\n"
        "  column tag TEXT NOT NULL\n"
        "  FOREIGN KEY (note_id) REFERENCES notes (id) ON DELETE CASCADE\n"
        "index notes_title ON notes (title)\n"
        "trigger notes_touch ON notes: CREATE TRIGGER notes_touch AFTER UPDATE OF title, body "
        "ON notes BEGIN UPDATE notes SET updated_at = 'now; not a statement end' "
        "WHERE id = NEW.id; END\n"
    )


def test_ledger_tables_are_left_out(tmp_path):
    db = tmp_path / "app.db"
    bootmigrate.migrate(db, EXAMPLE_SET)
    text = canonical_schema(db).to_text()
    assert "bootmigrate_" not in text


def test_whitespace_quoting_comments_and_keyword_case_do_not_count(tmp_path):
    plain = make_db(
        tmp_path / "a.db",
        """
        CREATE TABLE notes (id INTEGER PRIMARY KEY, title TEXT NOT NULL DEFAULT 'x',
                            n INTEGER CHECK (n > 0));
        CREATE INDEX notes_open ON notes (title) WHERE n IS NOT NULL;
        CREATE VIEW titles AS SELECT id, title FROM notes;
        CREATE TRIGGER notes_ai AFTER INSERT ON notes BEGIN
            UPDATE notes SET n = 1 WHERE id = NEW.id;
        END;
        """,
    )
    styled = make_db(
        tmp_path / "b.db",
        """
        create table "notes"(
            [id] integer primary key,   -- the key
            `title` text not null default 'x',
            "n" integer check(n>0)
        );
        create index "notes_open" on "notes"("title") where "n" is not null;
        create view titles as
            select id,title
            from notes ;
        create trigger notes_ai after insert on notes begin
            update "notes" set n=1 where id=new.id;
        end;
        """,
    )
    assert canonical_schema(plain) == canonical_schema(styled)
    assert schema_diff(canonical_schema(plain), canonical_schema(styled)) == ""


def test_added_column_equals_column_in_create_table(tmp_path):
    fresh = make_db(
        tmp_path / "fresh.db",
        "CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT, b INTEGER NOT NULL DEFAULT 0)",
    )
    upgraded = make_db(
        tmp_path / "upgraded.db",
        "CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT);"
        "ALTER TABLE t ADD COLUMN b integer not null default 0;",
    )
    assert canonical_schema(fresh) == canonical_schema(upgraded)


@pytest.mark.parametrize(
    ("other", "expected_lines"),
    [
        # column order is what SELECT * and INSERT ... VALUES see
        (
            "CREATE TABLE t (id INTEGER PRIMARY KEY, b TEXT DEFAULT 'x', a TEXT);"
            "CREATE INDEX t_a ON t (a)",
            ["+  column b TEXT DEFAULT 'x'", "-  column b TEXT DEFAULT 'x'"],
        ),
        # a column missing (the legacy store's total_tokens)
        (
            "CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT); CREATE INDEX t_a ON t (a)",
            ["-  column b"],
        ),
        # another default
        (
            "CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT, b TEXT DEFAULT 'y');"
            "CREATE INDEX t_a ON t (a)",
            ["-  column b TEXT DEFAULT 'x'", "+  column b TEXT DEFAULT 'y'"],
        ),
        # a missing index
        (
            "CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT, b TEXT DEFAULT 'x')",
            ["-index t_a ON t (a)"],
        ),
        # a unique index instead of a plain one
        (
            "CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT, b TEXT DEFAULT 'x');"
            "CREATE UNIQUE INDEX t_a ON t (a)",
            ["-index t_a ON t (a)", "+unique index t_a ON t (a)"],
        ),
        # an extra trigger
        (
            "CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT, b TEXT DEFAULT 'x');"
            "CREATE INDEX t_a ON t (a);"
            "CREATE TRIGGER t_ai AFTER INSERT ON t BEGIN SELECT 1; END",
            ["+trigger t_ai ON t: CREATE TRIGGER t_ai AFTER INSERT ON t BEGIN SELECT 1; END"],
        ),
    ],
    ids=["column-order", "missing-column", "default", "missing-index", "unique", "trigger"],
)
def test_a_real_difference_shows_in_a_short_diff(tmp_path, other, expected_lines):
    expected = make_db(
        tmp_path / "expected.db",
        "CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT, b TEXT DEFAULT 'x');"
        "CREATE INDEX t_a ON t (a)",
    )
    actual = make_db(tmp_path / "actual.db", other)
    assert canonical_schema(expected) != canonical_schema(actual)
    diff = schema_diff(canonical_schema(expected), canonical_schema(actual))
    lines = diff.splitlines()
    assert lines[:2] == ["--- expected", "+++ actual"]
    for line in expected_lines:
        assert any(got.startswith(line) for got in lines), diff
    assert len(lines) < 12


def test_internal_and_shadow_tables_are_left_out(tmp_path):
    db = make_db(
        tmp_path / "app.db",
        """
        CREATE TABLE t (id INTEGER PRIMARY KEY AUTOINCREMENT, title TEXT);
        INSERT INTO t (title) VALUES ('a');
        CREATE VIRTUAL TABLE t_search USING fts5(title, content='t', content_rowid='id');
        CREATE VIRTUAL TABLE docs USING fts5(body);
        CREATE INDEX t_title ON t (title);
        ANALYZE;
        """,
    )
    schema = canonical_schema(db)
    assert [t.name for t in schema.tables] == ["t"]
    assert schema.tables[0].autoincrement
    assert [v.name for v in schema.virtual_tables] == ["docs", "t_search"]
    text = schema.to_text()
    for hidden in ("sqlite_sequence", "sqlite_stat1", "docs_data", "docs_idx", "docs_config"):
        assert hidden not in text
    assert "virtual table docs: CREATE VIRTUAL TABLE docs USING fts5(body)\n" in text


def test_keys_constraints_and_options(tmp_path):
    db = make_db(
        tmp_path / "app.db",
        """
        CREATE TABLE parent (a TEXT, b TEXT, PRIMARY KEY (a, b)) WITHOUT ROWID;
        CREATE TABLE child (
            id INTEGER PRIMARY KEY,
            a TEXT COLLATE NOCASE,
            b TEXT,
            total INTEGER GENERATED ALWAYS AS (length(a) + 1) STORED,
            UNIQUE (b, a),
            CONSTRAINT named CHECK (b <> ''),
            FOREIGN KEY (a, b) REFERENCES parent (a, b) ON UPDATE CASCADE
        );
        CREATE INDEX child_expr ON child (lower(a) DESC, b COLLATE NOCASE);
        """,
    )
    assert canonical_schema(db).to_text() == (
        "table child\n"
        "  column id INTEGER PRIMARY KEY\n"
        "  column a TEXT COLLATE NOCASE\n"
        "  column b TEXT\n"
        "  column total INTEGER GENERATED ALWAYS AS (length(a) + 1) STORED\n"
        "  FOREIGN KEY (a, b) REFERENCES parent (a, b) ON UPDATE CASCADE\n"
        "  UNIQUE (b, a)\n"
        "  CHECK (b <> '')\n"
        "table parent (WITHOUT ROWID)\n"
        "  column a TEXT PRIMARY KEY #1 NOT NULL\n"
        "  column b TEXT PRIMARY KEY #2 NOT NULL\n"
        "index child_expr ON child (lower(a) DESC, b COLLATE NOCASE)\n"
    )


def test_reading_never_writes_or_creates(tmp_path):
    db = tmp_path / "app.db"
    bootmigrate.migrate(db, EXAMPLE_SET)
    before = db.read_bytes()
    canonical_schema(db)
    assert db.read_bytes() == before
    missing = tmp_path / "missing.db"
    with pytest.raises(bootmigrate.DatabaseUnavailable, match="does not exist"):
        canonical_schema(missing)
    assert not missing.exists()


def test_a_connection_is_read_and_left_open(tmp_path):
    db = tmp_path / "app.db"
    bootmigrate.migrate(db, EXAMPLE_SET)
    conn = sqlite3.connect(db)
    try:
        assert canonical_schema(conn) == canonical_schema(db)
        assert conn.execute("SELECT count(*) FROM notes").fetchone() == (0,)
    finally:
        conn.close()


def test_to_dict_is_json_and_schema_is_hashable(tmp_path):
    db = tmp_path / "app.db"
    bootmigrate.migrate(db, EXAMPLE_SET)
    schema = canonical_schema(db)
    data = json.loads(json.dumps(schema.to_dict()))
    assert [t["name"] for t in data["tables"]] == ["notes", "tags"]
    assert data["tables"][0]["columns"][2] == {
        "name": "body",
        "type": "TEXT",
        "not_null": True,
        "default": "''",
        "primary_key": 0,
        "collate": None,
        "hidden": None,
        "generated": None,
    }
    assert {schema: 1}[canonical_schema(db)] == 1
    assert Schema() != schema


@pytest.mark.parametrize(
    ("text", "normal"),
    [
        ("select  a ,b from t ;", "SELECT a, b FROM t"),
        ('SELECT "a" FROM [t] WHERE `b`=1', "SELECT a FROM t WHERE b = 1"),
        # a quoted name that is not a plain identifier stays quoted
        ('SELECT "my col" FROM t', 'SELECT "my col" FROM t'),
        # string literals are kept exactly, also their case and inner spaces
        ("select 'A  b' -- note\n from t", "SELECT 'A  b' FROM t"),
        ("SELECT x'00ff', /* c */ 1.5e3", "SELECT X'00FF', 1.5e3"),
        ("CREATE INDEX i ON t(a)", "CREATE INDEX i ON t(a)"),
        ("CREATE INDEX i ON t ( a )", "CREATE INDEX i ON t(a)"),
    ],
)
def test_normalize_sql(text, normal):
    assert normalize_sql(text) == normal


SQL_PIECES = st.sampled_from(
    [
        "select",
        "SELECT",
        "from",
        "t",
        '"t"',
        "[my col]",
        "`x`",
        '"order"',
        "(",
        ")",
        ",",
        ";",
        ".",
        "'a b'",
        "'it''s'",
        "x'0f'",
        "1.5",
        "-- c\n",
        "/* c */",
        " ",
        "\n",
        "=",
        "||",
        "new",
        "NEW",
        "id",
        "lower",
        "*",
        "-",
    ]
)


@given(st.lists(SQL_PIECES, max_size=30))
def test_normalize_sql_is_idempotent_and_ignores_spacing(pieces):
    text = " ".join(pieces)
    once = normalize_sql(text)
    assert normalize_sql(once) == once
    # collapsing runs of spaces changes nothing (comments end at the newline either way)
    assert normalize_sql("  ".join(pieces)) == once


# -- the package layout --------------------------------------------------------------

SCHEMA_PACKAGE = Path(bootmigrate.__file__).parent / "_schema"


def imported_modules(path: Path) -> set[str]:
    """What a module imports, as written: ``sqlite3``, ``.tokens``, ``..._apply.runner``."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            found.add("." * node.level + (node.module or ""))
    return found


@pytest.mark.parametrize("module", ["tokens", "model"])
def test_the_pure_modules_import_no_database_and_nothing_outside_the_package(module):
    # tokens and model are tested without a database; an import of sqlite3 or of another
    # layer would make them depend on one again.
    imports = imported_modules(SCHEMA_PACKAGE / f"{module}.py")
    assert "sqlite3" not in imports
    assert [name for name in imports if name.startswith("..")] == []


def test_only_the_snapshot_module_runs_migrations():
    # Reading a schema must not load the runner: only schema_at builds a database.
    users = sorted(
        path.stem
        for path in SCHEMA_PACKAGE.glob("*.py")
        if any("_apply" in name for name in imported_modules(path))
    )
    assert users == ["snapshot"]
