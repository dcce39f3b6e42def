"""The SQLite floor: the features a migration's statements use and the SQLite each needs
(the scan, pure), the floor the lock file records, and ``SQLiteTooOld`` from ``migrate()``
before the file is touched, tested by pretending to be an older SQLite at the one place
the running version is read (``bootmigrate._apply.floor.running_sqlite``)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

import bootmigrate
from bootmigrate._apply import floor
from bootmigrate._source import features
from bootmigrate._source.lockfile import parse, read_fast
from dbfiles import make_set, read_db

# -- the scan ------------------------------------------------------------------------

FOUND = [
    ("INSERT INTO t (a) VALUES (1) ON CONFLICT (a) DO UPDATE SET b = 2", "upsert"),
    ("INSERT INTO t (a) VALUES (1) ON CONFLICT DO NOTHING", "upsert"),
    ("ALTER TABLE t RENAME COLUMN a TO b", "rename-column"),
    ("ALTER TABLE t RENAME a TO b", "rename-column"),  # COLUMN is optional
    ("SELECT row_number() OVER (ORDER BY a) FROM t", "window"),
    ("SELECT sum(a) OVER w FROM t WINDOW w AS (ORDER BY a)", "window"),
    ("SELECT a FROM t ORDER BY a NULLS LAST", "nulls-order"),
    ("CREATE TABLE t (a INT, b INT GENERATED ALWAYS AS (a * 2) STORED)", "generated"),
    ("CREATE TABLE t (a INT, b INT AS (a * 2))", "generated"),
    ("ALTER TABLE t ADD COLUMN c INT AS (a + 1)", "generated"),
    ("SELECT iif(a, 1, 2) FROM t", "iif"),
    ("UPDATE t SET a = u.a FROM u WHERE t.id = u.id", "update-from"),
    ("ALTER TABLE t DROP COLUMN a", "drop-column"),
    ("DELETE FROM t WHERE a = 1 RETURNING id", "returning"),
    ("SELECT sqrt(a) FROM t", "math"),
    ("CREATE TABLE t (a INT) STRICT", "strict"),
    ("CREATE TABLE t (a INT PRIMARY KEY) WITHOUT ROWID, STRICT", "strict"),
    ("SELECT data ->> '$.a' FROM t", "arrow"),
    ("SELECT data->'$.a' FROM t", "arrow"),
    ("SELECT unixepoch('now')", "unixepoch"),
    ("SELECT * FROM a RIGHT OUTER JOIN b ON a.id = b.id", "right-join"),
    ("SELECT json_extract(a, '$.b') FROM t", "json"),
    ("SELECT jsonb_extract(a, '$.b') FROM t", "jsonb"),
    ("CREATE VIRTUAL TABLE f USING fts5(body)", "fts5"),
    ("CREATE VIRTUAL TABLE f USING fts4(body)", "fts3"),
    ("CREATE VIRTUAL TABLE r USING rtree(id, x0, x1)", "rtree"),
    # Inside a trigger body the statements are read too.
    (
        "CREATE TRIGGER g AFTER INSERT ON t BEGIN "
        "INSERT INTO u VALUES (new.a) ON CONFLICT DO NOTHING; END",
        "upsert",
    ),
]


@pytest.mark.parametrize(("sql", "key"), FOUND)
def test_each_feature_is_found(sql: str, key: str) -> None:
    assert features.features_of(sql) == {key}


NOT_FOUND = [
    # Words inside strings, quoted identifiers and comments are not keywords.
    'CREATE TABLE t ("returning" TEXT, [strict] INT, `over` INT)',
    "INSERT INTO t VALUES ('x RETURNING y', 'a -> b', 'DROP COLUMN')",
    "SELECT a FROM t -- ->> RETURNING\n",
    "SELECT a /* ALTER TABLE t DROP COLUMN a */ FROM t",
    # The old forms of the same words.
    "ALTER TABLE t RENAME TO u",
    "CREATE TABLE t (a INT UNIQUE ON CONFLICT REPLACE)",
    "CREATE TABLE t AS WITH x AS (SELECT 1) SELECT * FROM x",
    "CREATE TABLE t (a INT CHECK (CAST(a AS INTEGER) > 0))",
    "CREATE TABLE IF NOT EXISTS strict (a)",
    "UPDATE t SET a = (SELECT a FROM u WHERE u.id = t.id)",
    "SELECT a - -1 FROM t",
    "CREATE VIRTUAL TABLE s USING something(a)",
    # Tables named like functions are tables: log(...) after TABLE, INTO, ON, ... is not log().
    "CREATE TABLE log (msg TEXT)",
    "CREATE TABLE IF NOT EXISTS json_cache(key TEXT, value TEXT)",
    "INSERT INTO log(msg) VALUES ('x')",
    "INSERT INTO main.format(a) VALUES (1)",
    "CREATE INDEX log_msg ON log(msg)",
    "CREATE TABLE t (a INT REFERENCES floor(id))",
    "CREATE VIEW pi(a) AS SELECT 1",
    "WITH sqrt(n) AS (SELECT 1) SELECT n FROM sqrt",
    # Words that are names where they stand.
    "SELECT a AS over FROM t",
]


@pytest.mark.parametrize("sql", NOT_FOUND)
def test_look_alikes_need_nothing(sql: str) -> None:
    assert features.features_of(sql) == set()


@pytest.mark.skipif(sqlite3.sqlite_version_info < (3, 39, 0), reason="RIGHT JOIN is 3.39+")
@pytest.mark.parametrize("sql", [sql for sql, _ in FOUND] + NOT_FOUND)
def test_each_example_is_sql_sqlite_parses(sql: str) -> None:
    # Real SQL, not text shaped to please the scan: SQLite may find the schema wrong
    # (no such table, no such function, no such module), never the syntax.
    conn = sqlite3.connect(":memory:")
    try:
        conn.execute("SELECT 1")
        try:
            conn.execute(sql)
        except sqlite3.Error as error:
            assert "syntax error" not in str(error) and "incomplete input" not in str(error)
    finally:
        conn.close()


def test_every_feature_names_its_release_note() -> None:
    for feature in features.FEATURES.values():
        if feature.version is None:
            assert feature.options, feature.name  # only an option says what it needs
        else:
            assert feature.source.startswith("https://sqlite.org/releaselog/3_")


def test_needs_name_the_first_statement_and_line_of_each_feature() -> None:
    text = (
        "-- a comment\nCREATE TABLE t (a, b);\n\n"
        "ALTER TABLE t DROP COLUMN b;\nDELETE FROM t RETURNING a;\n"
    )
    found = features.needs("0002_x.up.sql", text)
    assert [(n.feature.name, n.statement, n.line) for n in found] == [
        ("ALTER TABLE ... DROP COLUMN", 2, 4),
        ("RETURNING", 3, 5),
    ]
    assert features.needs("0002_x.up.py", text) == []  # Python migrations are not read


@pytest.mark.parametrize(
    ("text", "version"),
    [("3.45.1", (3, 45, 1)), ("3.8", (3, 8, 0)), ("3.46.0-beta", (3, 46, 0)), ("4", (4, 0, 0))],
)
def test_a_version_text_is_read(text: str, version: tuple[int, int, int]) -> None:
    assert features.parse_version(text) == version


def test_a_feature_runs_on_a_sqlite_that_has_it() -> None:
    json = features.FEATURES["json"]
    assert json.runs_on((3, 38, 0), ())  # built in
    assert json.runs_on((3, 31, 1), {"ENABLE_JSON1"})
    assert not json.runs_on((3, 31, 1), {"ENABLE_FTS5"})
    math = features.FEATURES["math"]
    assert not math.runs_on((3, 45, 0), ())
    assert not math.runs_on((3, 34, 0), {"ENABLE_MATH_FUNCTIONS"})
    assert math.runs_on((3, 35, 0), {"ENABLE_MATH_FUNCTIONS"})
    assert features.FEATURES["drop-column"].runs_on((3, 35, 0), ())
    assert not features.FEATURES["drop-column"].runs_on((3, 34, 1), ())


# -- migrate() refuses before the file is touched ----------------------------------------

FILES = {
    "0001_note.up.sql": "CREATE TABLE note (id INTEGER PRIMARY KEY, body TEXT, old TEXT);\n",
    "0002_seed.up.sql": "INSERT INTO note (body) VALUES ('one');\n",
    "0003_slim.up.sql": (
        "-- old is unused\nUPDATE note SET body = 'x';\nALTER TABLE note DROP COLUMN old;\n"
    ),
}


def pretend(monkeypatch: pytest.MonkeyPatch, version: tuple[int, int, int], *options: str) -> None:
    monkeypatch.setattr(floor, "running_sqlite", lambda db: (version, frozenset(options)))


def test_a_pending_migration_too_new_for_the_sqlite_is_refused_before_any_change(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = make_set(tmp_path, FILES)
    db = tmp_path / "app.db"
    bootmigrate.migrate(db, source, target=2)
    before = db.read_bytes()
    pretend(monkeypatch, (3, 31, 1))
    with pytest.raises(bootmigrate.SQLiteTooOld) as caught:
        bootmigrate.migrate(db, source)
    assert str(caught.value) == (
        f"{db}: '0003_slim.up.sql' line 3 uses ALTER TABLE ... DROP COLUMN, which needs "
        "SQLite 3.35.0, and this app runs SQLite 3.31.1. Nothing was changed; ship the app "
        "with a newer SQLite (the pysqlite3-binary or sqlean.py package, or a newer Python), "
        "or write the migration without it"
    )
    assert isinstance(caught.value, bootmigrate.ApplyError)
    error = caught.value
    assert (error.feature, error.filename, error.needed, error.running) == (
        "ALTER TABLE ... DROP COLUMN",
        "0003_slim.up.sql",
        "SQLite 3.35.0",
        "SQLite 3.31.1",
    )
    assert db.read_bytes() == before
    assert not Path(f"{db}-journal").exists() and not Path(f"{db}-wal").exists()
    assert read_db(db).versions == (1, 2)


def test_a_new_database_is_not_created_when_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = make_set(tmp_path, FILES)
    db = tmp_path / "app.db"
    pretend(monkeypatch, (3, 34, 1))
    with pytest.raises(bootmigrate.SQLiteTooOld):
        bootmigrate.migrate(db, source)
    assert not db.exists()


def test_a_missing_compile_option_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source = make_set(
        tmp_path, {"0001_search.up.sql": "CREATE VIRTUAL TABLE f USING fts5(body);\n"}
    )
    db = tmp_path / "app.db"
    pretend(monkeypatch, (3, 45, 0), "ENABLE_RTREE")
    with pytest.raises(bootmigrate.SQLiteTooOld) as caught:
        bootmigrate.migrate(db, source)
    assert caught.value.problem == (
        f"{db}: '0001_search.up.sql' line 1 uses FTS5 virtual tables, which needs SQLite 3.9.0 "
        "built with SQLITE_ENABLE_FTS5, and this app runs SQLite 3.45.0 built without "
        "SQLITE_ENABLE_FTS5. Nothing was changed"
    )


def test_a_feature_only_inside_a_string_is_not_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = make_set(
        tmp_path,
        {
            "0001_note.up.sql": 'CREATE TABLE note (body TEXT, "returning" INT);\n',
            "0002_seed.up.sql": (
                "INSERT INTO note VALUES ('ALTER TABLE t DROP COLUMN x RETURNING *', 1);\n"
            ),
        },
    )
    db = tmp_path / "app.db"
    pretend(monkeypatch, (3, 7, 17))
    report = bootmigrate.migrate(db, source)
    assert report.to_version == 2
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT body FROM note").fetchall() == [
            ("ALTER TABLE t DROP COLUMN x RETURNING *",)
        ]
    conn.close()  # the with block commits; it does not close


def test_an_up_to_date_database_is_not_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = make_set(tmp_path, FILES)
    db = tmp_path / "app.db"
    bootmigrate.migrate(db, source)
    bootmigrate.write_lock(source)
    pretend(monkeypatch, (3, 7, 17))
    assert bootmigrate.migrate(db, source).state == "up-to-date"
    (source / "bootmigrate.lock").unlink()  # the full load, too, checks only what is pending
    assert bootmigrate.migrate(db, source).state == "up-to-date"


def test_the_running_sqlite_of_a_borrowed_connection_is_its_own(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "app.db")
    try:
        version, options = floor.running_sqlite(conn)
        assert version == sqlite3.sqlite_version_info
        assert options == {row[0] for row in conn.execute("PRAGMA compile_options")}
    finally:
        conn.close()
    conn = sqlite3.connect(tmp_path / "app.db")
    conn.text_factory = bytes  # an app's setting: the version comes back as bytes
    conn.row_factory = sqlite3.Row
    try:
        assert floor.running_sqlite(conn)[0] == sqlite3.sqlite_version_info
    finally:
        conn.close()
    version, options = floor.running_sqlite(tmp_path / "other.db")
    assert version == sqlite3.sqlite_version_info
    assert not (tmp_path / "other.db").exists()  # read without opening the file


# -- the lock records the floor ----------------------------------------------------------


def test_the_lock_records_the_floor_as_comments_every_reader_skips(tmp_path: Path) -> None:
    source = make_set(
        tmp_path,
        {
            **FILES,
            "0004_search.up.sql": "CREATE VIRTUAL TABLE f USING fts5(body);\n",
        },
    )
    written = bootmigrate.write_lock(source)
    assert written.summary() == (
        f"wrote {source / 'bootmigrate.lock'}: 4 migration(s) locked, up to version 4; needs "
        "SQLite 3.35.0 or newer; needs SQLite 3.9.0 built with SQLITE_ENABLE_FTS5"
    )
    text = (source / "bootmigrate.lock").read_text(encoding="utf-8")
    header = text.split("format 1\n")[0].splitlines()
    assert header[2:] == [
        "# needs SQLite 3.35.0 or newer: ALTER TABLE ... DROP COLUMN in 0003_slim.up.sql line 3",
        "# needs SQLite 3.9.0 built with SQLITE_ENABLE_FTS5: FTS5 virtual tables in "
        "0004_search.up.sql line 1",
    ]
    fast = read_fast(text)
    assert fast is not None and len(fast.versions) == 4  # the boot's fast reader still reads it
    assert [entry.version for entry in parse(text)] == [1, 2, 3, 4]
    assert bootmigrate.check_lock(source).ok


def test_the_lock_says_python_migrations_are_not_read(tmp_path: Path) -> None:
    source = make_set(
        tmp_path,
        {
            "0001_note.up.sql": "CREATE TABLE note (body TEXT) STRICT;\n",
            "0002_fill.up.py": "def up(conn):\n    conn.execute('DELETE FROM note RETURNING 1')\n",
        },
    )
    bootmigrate.write_lock(source)
    text = (source / "bootmigrate.lock").read_text(encoding="utf-8")
    assert text.split("format 1\n")[0].splitlines()[2:] == [
        "# needs SQLite 3.37.0 or newer: STRICT tables in 0001_note.up.sql line 1",
        "# (Python migrations are not read for what SQLite they need.)",
    ]


def test_a_lock_without_a_floor_reads_as_before(tmp_path: Path) -> None:
    source = make_set(tmp_path, {"0001_note.up.sql": "CREATE TABLE note (body TEXT);\n"})
    bootmigrate.write_lock(source)
    text = (source / "bootmigrate.lock").read_text(encoding="utf-8")
    assert "needs" not in text  # no floor to record: the lock is what older releases wrote
    assert read_fast(text) is not None


def test_every_function_the_scan_knows_is_a_feature_of_the_table() -> None:
    assert set(features._FUNCTIONS.values()) <= set(features.FEATURES)
    assert set(features._MODULES.values()) <= set(features.FEATURES)
    assert features.features_of("SELECT Format('%d', 1), UNIXEPOCH()") == {
        "format-function",
        "unixepoch",
    }


def test_a_borrowed_connection_is_refused_and_left_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = make_set(tmp_path, FILES)
    db = tmp_path / "app.db"
    bootmigrate.migrate(db, source, target=2)
    before = db.read_bytes()
    asked = []

    def running(conn: object) -> tuple[tuple[int, int, int], frozenset[str]]:
        asked.append(conn)
        return (3, 34, 1), frozenset()

    monkeypatch.setattr(floor, "running_sqlite", running)
    conn = sqlite3.connect(db)
    try:
        with pytest.raises(bootmigrate.SQLiteTooOld, match=r"this app runs SQLite 3\.34\.1\."):
            bootmigrate.migrate(conn, source)
        assert asked == [conn]  # the borrowed connection's own SQLite is asked
        assert not conn.in_transaction
        assert conn.execute("SELECT body FROM note").fetchall() == [("one",)]
    finally:
        conn.close()
    assert db.read_bytes() == before


@pytest.mark.parametrize(("sql", "key"), FOUND)
def test_a_feature_quoted_or_commented_out_needs_nothing(sql: str, key: str) -> None:
    escaped = sql.replace("'", "''")
    assert features.features_of(f"SELECT '{escaped}' AS a") == set()
    assert features.features_of(f"SELECT 1 /* {sql} */") == set()
    assert features.features_of(f"SELECT 1 -- {sql}\n") == set()


_pieces = st.sampled_from(
    [
        *("'", '"', "`", "[", "]", "--", "/*", "*/", "\n", " ", "(", ")", ";", "-", ">", "->>"),
        *("DO", "UPDATE", "ALTER", "TABLE", "DROP", "RENAME", "TO", "AS", "STRICT", "OVER"),
        *("CREATE", "VIRTUAL", "USING", "fts5", "json", "x", "1", "\ufeff", "\xe9"),
    ]
)


@given(st.lists(_pieces, max_size=40).map(" ".join), st.text(max_size=40))
@example(words="", text="\x00;")  # found by Hypothesis: complete_statement refuses a NUL
def test_any_text_is_scanned_without_an_error(words: str, text: str) -> None:
    # The scan runs at boot on whatever the files hold: it must never raise.
    for sql in (words, text):
        assert features.features_of(sql) <= set(features.FEATURES)
        for need in features.needs("0001_x.up.sql", sql):
            assert need.feature in features.FEATURES.values()


def test_the_cli_says_sqlite_too_old_on_one_line_and_exits_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from bootmigrate._cli.main import main

    source = make_set(tmp_path, FILES)
    db = tmp_path / "app.db"
    bootmigrate.migrate(db, source, target=2)
    before = db.read_bytes()
    pretend(monkeypatch, (3, 31, 1))
    assert main(["--db", str(db), "--source", str(source), "up"]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err == (
        f"bootmigrate: error: {db}: '0003_slim.up.sql' line 3 uses ALTER TABLE ... DROP "
        "COLUMN, which needs SQLite 3.35.0, and this app runs SQLite 3.31.1. Nothing was "
        "changed; ship the app with a newer SQLite (the pysqlite3-binary or sqlean.py "
        "package, or a newer Python), or write the migration without it\n"
    )
    assert db.read_bytes() == before


def test_a_down_file_too_new_for_the_sqlite_is_refused_before_any_change(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = make_set(
        tmp_path,
        {
            "0001_note.up.sql": "CREATE TABLE note (body TEXT);\n",
            "0002_tag.up.sql": "ALTER TABLE note ADD COLUMN tag TEXT;\n",
            "0002_tag.down.sql": "ALTER TABLE note DROP COLUMN tag;\n",
        },
    )
    db = tmp_path / "app.db"
    bootmigrate.migrate(db, source)
    before = db.read_bytes()
    pretend(monkeypatch, (3, 34, 1))
    with pytest.raises(bootmigrate.SQLiteTooOld) as caught:
        bootmigrate.downgrade(db, source, 1)
    assert caught.value.problem == (
        f"{db}: '0002_tag.down.sql' line 1 uses ALTER TABLE ... DROP COLUMN, which needs "
        "SQLite 3.35.0, and this app runs SQLite 3.34.1. Nothing was changed"
    )
    assert db.read_bytes() == before
    assert read_db(db).versions == (1, 2)
