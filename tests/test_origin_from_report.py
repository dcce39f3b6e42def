"""bootmigrate.testing.origin_from_report(): a user's diagnostic report becomes a database.

The report of a real database (the reference app's, rows of mixed storage classes
planted) becomes a database whose own report equals it in schema, ledger and counts
and which holds none of the user's values; a migration that fails on the user's
database fails the same way on the database built from its report, also through the
test kit; bad reports are refused with the key that is wrong. File-level: real files,
every database read back through a new connection.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest

import bootmigrate
from bootmigrate.testing import MigrationCheckFailed, MigrationKit, origin_from_report
from dbfiles import make_set

pytest_plugins = ["pytester"]

EXAMPLES = Path(__file__).parent / "examples"
REFERENCE = "sessionstore.migrations:."
SECRET = "hunter2-SECRET"


def _rows_of(db: Path) -> list[object]:
    """Every value of every table (bootmigrate's own too), read through a new connection."""
    conn = sqlite3.connect(db)
    try:
        names = [n for (n,) in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        values: list[object] = []
        for name in names:
            for row in conn.execute(f'SELECT * FROM "{name}"'):
                values.extend(row)
        return values
    finally:
        conn.close()


@pytest.fixture
def user_db(tmp_path: Path) -> Path:
    """The reference app's database at its head, with rows whose columns hold values of
    several storage classes (a TEXT in an INTEGER column, a REAL, a BLOB, NULLs)."""
    db = tmp_path / "user" / "sessions.db"
    db.parent.mkdir()
    bootmigrate.migrate(db, REFERENCE)
    conn = sqlite3.connect(db)
    try:
        conn.execute("PRAGMA foreign_keys = ON")
        conn.executemany(
            "INSERT INTO sessions (id, run_id, query, max_turns, cost_usd, summary) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [
                (f"s1-{SECRET}", f"r1-{SECRET}", f"q-{SECRET}", "lots", 1.25, None),
                (f"s2-{SECRET}", f"r2-{SECRET}", "q2", 3, None, f"{SECRET}".encode()),
                (f"s3-{SECRET}", f"r3-{SECRET}", "q3", None, 7, f"sum-{SECRET}"),
            ],
        )
        conn.execute(
            "INSERT INTO approvals (id, run_id, session_id, tool_name, tool_input, status) "
            f"VALUES ('a-{SECRET}', 'r1', 's1-{SECRET}', 'edit', '{{}}', 'pending')"
        )
        conn.execute(
            "INSERT INTO conversation_events (session_id, sequence, event_type, content) "
            f"VALUES ('s2-{SECRET}', 1, 'message', 'hello {SECRET}')"
        )
        conn.commit()
    finally:
        conn.close()
    return db


def test_the_database_built_has_the_report_of_the_users(user_db: Path, tmp_path: Path) -> None:
    report = bootmigrate.diagnose(user_db, REFERENCE)
    assert report["tables"]["sessions"]["columns"]["max_turns"] == {
        "null": 1,
        "integer": 1,
        "real": 0,
        "text": 1,
        "blob": 0,
    }
    origin = origin_from_report(report, tmp_path / "origin.db", REFERENCE)
    assert origin == tmp_path / "origin.db"
    rebuilt = bootmigrate.diagnose(origin, REFERENCE)
    for key in ("schema", "ledger", "tables", "findings"):
        assert rebuilt[key] == report[key], key
    for key in ("page_size", "encoding", "journal_mode", "user_version", "application_id"):
        assert rebuilt["file"][key] == report["file"][key], key
    # Synthetic values only: none of the user's, in the rows or anywhere in the file.
    values = _rows_of(origin)
    assert not [v for v in values if isinstance(v, (str, bytes)) and SECRET in str(v)]
    assert SECRET.encode() not in origin.read_bytes()
    assert sorted(os.listdir(tmp_path)) == ["origin.db", "user"]  # nothing left beside it


def test_a_report_file_in_wal_mode_with_another_page_size(tmp_path: Path) -> None:
    source = make_set(
        tmp_path,
        {
            "0001_notes.up.sql": (
                "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL, "
                "kind TEXT CHECK (kind IN ('a', 'b')), data BLOB);\n"
                "CREATE TABLE audit (id INTEGER PRIMARY KEY, what TEXT);\n"
                "CREATE TRIGGER noted AFTER INSERT ON notes BEGIN "
                "INSERT INTO audit (what) VALUES ('noted'); END;\n"
            )
        },
    )
    db = tmp_path / "app.db"
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA page_size = 8192")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.close()
    bootmigrate.migrate(db, source)
    conn = sqlite3.connect(db)
    conn.execute(f"INSERT INTO notes (body, kind, data) VALUES ('{SECRET}', 'a', x'00')")
    conn.execute("INSERT INTO notes (body, kind, data) VALUES ('two', 'b', 2.5)")
    conn.execute("INSERT INTO notes (body, kind, data) VALUES ('three', NULL, NULL)")
    conn.commit()
    conn.close()
    report = bootmigrate.diagnose(db, source)
    saved = tmp_path / "report.json"
    saved.write_text(json.dumps(report), encoding="utf-8")

    origin = origin_from_report(saved, tmp_path / "origin.db", source)

    rebuilt = bootmigrate.diagnose(origin, source)
    assert rebuilt["file"]["page_size"] == 8192
    assert rebuilt["file"]["journal_mode"] == "wal"
    assert rebuilt["schema"] == report["schema"]
    # The trigger is created after the rows: audit holds the 3 rows the report counts.
    assert rebuilt["tables"] == report["tables"]
    assert report["tables"]["audit"]["rows"] == 3
    conn = sqlite3.connect(origin)
    try:
        # Literals come back from the migrations: the IN list and the trigger's text.
        kinds = sorted(k for (k,) in conn.execute("SELECT kind FROM notes") if k is not None)
        assert kinds == ["a", "b"]
        conn.execute("INSERT INTO notes (body) VALUES ('four')")
        assert conn.execute("SELECT what FROM audit ORDER BY id DESC LIMIT 1").fetchone() == (
            "noted",
        )
    finally:
        conn.close()


ODD_SCHEMA = """\
CREATE TABLE "we""ird table" (
    "b c" TEXT NOT NULL COLLATE NOCASE, a INT NOT NULL, d ANY DEFAULT -1,
    e INT GENERATED ALWAYS AS (a * 2) VIRTUAL, f TEXT AS (upper("b c")) STORED,
    g ANY DEFAULT (1 + 2), h TEXT DEFAULT 'x''y', "select" BLOB,
    PRIMARY KEY (a, "b c"), UNIQUE (d, h), CHECK (length("b c") > 0),
    FOREIGN KEY (d) REFERENCES counters ON DELETE SET NULL ON UPDATE CASCADE
) WITHOUT ROWID, STRICT;
CREATE TABLE counters (id INTEGER PRIMARY KEY AUTOINCREMENT, n INTEGER DEFAULT CURRENT_TIME,
    w VARCHAR(10), v);
CREATE UNIQUE INDEX by_lower ON counters (lower(n) DESC, id) WHERE n IS NOT NULL;
CREATE VIEW zz AS SELECT id FROM counters;
CREATE VIEW aa AS SELECT * FROM zz;
CREATE TRIGGER t AFTER INSERT ON counters BEGIN UPDATE counters SET n = 'n' WHERE 0; END;
"""


@pytest.mark.parametrize("schema", ["odd", "reference"])
def test_the_schema_text_builds_the_same_schema(tmp_path: Path, schema: str) -> None:
    # Quoted names, composite and WITHOUT ROWID keys, generated columns, expression
    # defaults, a view that reads a later-named view; and the reference app's head.
    if schema == "odd":
        source = make_set(tmp_path, {"0001_odd.up.sql": ODD_SCHEMA})
    else:
        source = Path(__file__).resolve().parents[1] / "migrations"
    db = tmp_path / "app.db"
    bootmigrate.migrate(db, source)
    if schema == "odd":  # rows too: a STRICT ANY column of two classes, a NULL in a key
        conn = sqlite3.connect(db)
        conn.execute("INSERT INTO counters (n, w, v) VALUES (5, 'x', x'00'), (NULL, 3, 2.5)")
        conn.execute(
            'INSERT INTO "we""ird table" ("b c", a, d, g, h, "select") '
            "VALUES ('k', 1, 1, 7, 't', x'01'), ('k2', 2, NULL, 's', NULL, NULL)"
        )
        conn.commit()
        conn.close()
    report = bootmigrate.diagnose(db, source)
    origin = origin_from_report(report, tmp_path / "origin.db", source)
    assert bootmigrate.canonical_schema(origin) == bootmigrate.canonical_schema(db)
    assert bootmigrate.diagnose(origin, source)["tables"] == report["tables"]


# -- a failure seen in the field, reproduced --------------------------------------------

READINGS = {
    "0001_readings.up.sql": (
        "CREATE TABLE readings (id INTEGER PRIMARY KEY, sensor TEXT NOT NULL, value NUMERIC);\n"
    ),
}
STRICTER = (
    "CREATE TABLE readings_new (id INTEGER PRIMARY KEY, sensor TEXT NOT NULL,\n"
    "    value REAL CHECK (typeof(value) IN ('real', 'null')));\n"
    "INSERT INTO readings_new SELECT id, sensor, value FROM readings;\n"
    "DROP TABLE readings;\n"
    "ALTER TABLE readings_new RENAME TO readings;\n"
)


def _readings(tmp_path: Path, values: list[object]) -> tuple[Path, Path]:
    """A user's database at version 1 holding *values*, and its source (version 1)."""
    source = make_set(tmp_path, READINGS)
    db = tmp_path / "field.db"
    bootmigrate.migrate(db, source)
    conn = sqlite3.connect(db)
    conn.executemany(
        "INSERT INTO readings (sensor, value) VALUES (?, ?)",
        [(f"sensor-{SECRET}", value) for value in values],
    )
    conn.commit()
    conn.close()
    return db, source


def _failure(db: Path, source: Path) -> tuple[str, dict[str, Any]]:
    with pytest.raises(bootmigrate.StatementError) as info:
        bootmigrate.migrate(db, source)
    report = bootmigrate.diagnose(db, source, error=info.value)
    return str(info.value).replace(str(db), "<db>"), report["error"]


def test_a_migration_that_fails_on_the_users_database_fails_on_its_origin(
    tmp_path: Path,
) -> None:
    # The user's sensor wrote 'n/a' into a numeric column; release 2 makes it REAL.
    db, source = _readings(tmp_path, [1, 2.5, "n/a", None, f"{SECRET}"])
    report = bootmigrate.diagnose(db, source)
    make_set(tmp_path, {"0002_readings_real.up.sql": STRICTER})
    in_the_field = _failure(db, source)

    origin = origin_from_report(report, tmp_path / "origin.db", source)
    in_ci = _failure(origin, source)

    assert in_ci == in_the_field
    assert in_ci[1] == {"class": "StatementError", "file": "0002_readings_real.up.sql",
                        "statement": 2, "line": 3}  # fmt: skip
    assert "CHECK constraint failed" in in_ci[0]
    assert SECRET not in json.dumps(report)


def test_the_same_migration_passes_on_the_origin_of_a_database_without_text(
    tmp_path: Path,
) -> None:
    # The control: numbers only, so the origin migrates, as the user's database does.
    db, source = _readings(tmp_path, [1, 2.5, None])
    report = bootmigrate.diagnose(db, source)
    make_set(tmp_path, {"0002_readings_real.up.sql": STRICTER})
    origin = origin_from_report(report, tmp_path / "origin.db", source)
    assert bootmigrate.migrate(origin, source).to_version == 2
    assert bootmigrate.migrate(db, source).to_version == 2


def test_the_kit_runs_a_report_file_as_an_origin(tmp_path: Path) -> None:
    failing, source = _readings(tmp_path / "a", [1, "n/a"])
    passing, _ = _readings(tmp_path / "b", [1, 2.5])
    reports = {}
    for name, db in (("n/a in value", failing), ("numbers only", passing)):
        reports[name] = tmp_path / f"{name.replace('/', '')}.json"
        reports[name].write_text(json.dumps(bootmigrate.diagnose(db, source)), encoding="utf-8")
    make_set(tmp_path / "a", {"0002_readings_real.up.sql": STRICTER})
    kit = MigrationKit(source, origins=dict(reports))

    kit.check_origin("numbers only")
    with pytest.raises(MigrationCheckFailed) as info:
        kit.check_origin("n/a in value")
    message = str(info.value)
    assert message.startswith("convergence from origin 'n/a in value': the upgrade failed: ")
    assert "0002_readings_real.up.sql" in message and "CHECK constraint failed" in message


def test_the_kit_says_when_a_report_cannot_be_built(tmp_path: Path) -> None:
    source = make_set(tmp_path, READINGS)
    broken = tmp_path / "broken.json"
    broken.write_text('{"report_format": 1}', encoding="utf-8")
    kit = MigrationKit(source, origins={"issue 42": broken})
    with pytest.raises(MigrationCheckFailed) as info:
        kit.check_origin("issue 42")
    assert str(info.value) == (
        f"origin 'issue 42': building it from the report failed: {broken}: the key 'file' "
        "is missing; give the report as bootmigrate.diagnose() or `bootmigrate diagnose` "
        "wrote it, unedited"
    )


def test_pytest_bootmigrate_runs_the_reports_in_a_folder_as_origins(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The README's recipe: the user's report saved in reports/, the hook makes every
    # report there an origin, and the next release's migration fails on it in CI.
    monkeypatch.delenv("BOOTMIGRATE_SOURCE", raising=False)
    shutil.copytree(EXAMPLES / "passing", pytester.path, dirs_exist_ok=True)
    migrations = pytester.path / "migrations"
    user = pytester.path / "user.db"
    bootmigrate.migrate(user, migrations)
    conn = sqlite3.connect(user)
    conn.execute(f"INSERT INTO notes (title, pinned) VALUES ('{SECRET}', 'yes')")
    conn.commit()
    conn.close()
    (pytester.path / "reports").mkdir()
    (pytester.path / "reports" / "issue-42.json").write_text(
        json.dumps(bootmigrate.diagnose(user, migrations)), encoding="utf-8"
    )
    user.unlink()
    (pytester.path / "conftest.py").write_text(
        "from pathlib import Path\n"
        "from bootmigrate.testing import MigrationKit\n"
        "REPORTS = Path(__file__).parent / 'reports'\n"
        "def pytest_bootmigrate_kit(config, source):\n"
        "    return MigrationKit(source, origins={p.stem: p for p in REPORTS.glob('*.json')})\n",
        encoding="utf-8",
    )
    (migrations / "0004_pinned_flag.up.sql").write_text(
        "CREATE TABLE notes_new (id INTEGER PRIMARY KEY, title TEXT NOT NULL,\n"
        "    body TEXT NOT NULL DEFAULT '',\n"
        "    pinned INTEGER NOT NULL DEFAULT 0 CHECK (pinned IN (0, 1)));\n"
        "INSERT INTO notes_new SELECT id, title, body, pinned FROM notes;\n"
        "DROP TABLE notes;\n"
        "ALTER TABLE notes_new RENAME TO notes;\n",
        encoding="utf-8",
    )
    result = pytester.runpytest("--bootmigrate", "-k", "origin")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "convergence from origin 'issue-42': the upgrade failed: "
            "'0004_pinned_flag.up.sql' statement 2 (line 4) failed: CHECK constraint failed: "
            "pinned IN (0, 1); the run was rolled back and the database is unchanged. "
            "Statement: INSERT INTO notes_new SELECT id, title, body, pinned FROM notes;",
            "FAILED bootmigrate::origin[[]issue-42[]]*",
        ]
    )


# -- what synthetic rows cannot reproduce -------------------------------------------------


def test_a_check_synthetic_values_cannot_satisfy_is_named(tmp_path: Path) -> None:
    source = make_set(
        tmp_path,
        {"0001_codes.up.sql": "CREATE TABLE codes (code TEXT CHECK (length(code) = 3));\n"},
    )
    db = tmp_path / "app.db"
    bootmigrate.migrate(db, source)
    conn = sqlite3.connect(db)
    conn.execute("INSERT INTO codes VALUES ('abc')")
    conn.commit()
    conn.close()
    report = bootmigrate.diagnose(db, source)
    with pytest.raises(bootmigrate.UnreproducibleReport) as info:
        origin_from_report(report, tmp_path / "origin.db", source)
    assert (info.value.table, info.value.column) == ("codes", "code")
    assert str(info.value) == (
        "the report: table codes refuses a synthetic row of the report's storage classes "
        "(code TEXT): CHECK constraint failed: length(code) = 3; build this database with an "
        "origin of your own (a function that writes rows the constraint accepts; see "
        "MigrationKit's origins), or edit that table's counts in the report if it is safe to "
        "leave those rows out"
    )
    assert sorted(os.listdir(tmp_path)) == ["app.db", "migrations"]  # nothing left behind


def test_a_foreign_key_no_parent_row_can_satisfy_is_named(tmp_path: Path) -> None:
    source = make_set(
        tmp_path,
        {
            "0001_pc.up.sql": (
                "CREATE TABLE parent (id INTEGER PRIMARY KEY);\n"
                "CREATE TABLE child (id INTEGER PRIMARY KEY, "
                "parent_id INTEGER REFERENCES parent (id));\n"
            )
        },
    )
    db = tmp_path / "app.db"
    bootmigrate.migrate(db, source)
    conn = sqlite3.connect(db)  # foreign keys off, as an app that never turned them on
    conn.execute("INSERT INTO parent VALUES (1)")
    conn.execute("INSERT INTO child (parent_id) VALUES ('gone')")
    conn.commit()
    conn.close()
    report = bootmigrate.diagnose(db, source)
    with pytest.raises(bootmigrate.UnreproducibleReport) as info:
        origin_from_report(report, tmp_path / "origin.db", source)
    assert (info.value.table, info.value.column) == ("child", "parent_id")
    assert str(info.value).startswith(
        "the report: column parent_id of table child is a foreign key to parent, and the "
        "report counts TEXT values in it that no row of parent has as its key; "
    )


def test_a_blanked_literal_the_migrations_do_not_give_back_is_named(
    user_db: Path, tmp_path: Path
) -> None:
    report = bootmigrate.diagnose(user_db, REFERENCE)
    other = make_set(tmp_path, READINGS)  # not the app's: no version 26 to compare with
    # The FTS5 table's tokenize = '?' names no tokenizer.
    with pytest.raises(bootmigrate.UnreproducibleReport) as info:
        origin_from_report(report, tmp_path / "origin.db", other)
    assert str(info.value).startswith(
        "the report: SQLite refuses the virtual table sessions_search of the report's schema: "
    )
    assert str(info.value).endswith(
        "; give the migrations the database was made by as the source: the report shows "
        "literals as '?', and only schema lines that match the schema of its version get "
        "them back (a line changed outside the migrations keeps '?')"
    )
    assert not (tmp_path / "origin.db").exists()


# -- bad reports ----------------------------------------------------------------------------

AS_WRITTEN = (
    "give the report as bootmigrate.diagnose() or `bootmigrate diagnose` wrote it, unedited"
)


def _good() -> dict[str, Any]:
    return {
        "report_format": 1,
        "file": {
            "page_size": 4096,
            "journal_mode": "delete",
            "encoding": "UTF-8",
            "user_version": 1,
            "application_id": 0,
        },
        "ledger": [
            {
                "version": 1,
                "name": "readings",
                "checksum": "0" * 64,
                "applied_at": "2026-01-02T03:04:05.678Z",
                "backward_compatible": False,
            }
        ],
        "schema": ["table t", "  column x INTEGER"],
        "tables": {
            "t": {
                "rows": 1,
                "columns": {"x": {"null": 0, "integer": 1, "real": 0, "text": 0, "blob": 0}},
            }
        },
    }


def _without(*path: str | int) -> dict[str, Any]:
    report = _good()
    holder: Any = report
    for key in path[:-1]:
        holder = holder[key]
    del holder[path[-1]]
    return report


def _with(value: object, *path: str | int) -> dict[str, Any]:
    report = _good()
    holder: Any = report
    for key in path[:-1]:
        holder = holder[key]
    holder[path[-1]] = value
    return report


@pytest.mark.parametrize(
    ("report", "message"),
    [
        # Not a diagnose report at all.
        (
            _without("report_format"),
            "the key 'report_format' is missing, so this is not a report of "
            f"bootmigrate.diagnose(); {AS_WRITTEN}",
        ),
        # A newer bootmigrate wrote it.
        (
            _with(2, "report_format"),
            "report_format 2 is newer than the format this bootmigrate reads (1); "
            "upgrade bootmigrate where the tests run",
        ),
        # The format as a string.
        (
            _with("1", "report_format"),
            f"'report_format' is a string ('1'), not a whole number; {AS_WRITTEN}",
        ),
        # A key cut out.
        (_without("ledger"), f"the key 'ledger' is missing; {AS_WRITTEN}"),
        (_without("file", "encoding"), f"the key 'file.encoding' is missing; {AS_WRITTEN}"),
        (
            _without("ledger", 0, "checksum"),
            f"the key 'ledger[0].checksum' is missing; {AS_WRITTEN}",
        ),
        (
            _without("tables", "t", "columns", "x", "blob"),
            f"the key 'tables.t.columns.x.blob' is missing; {AS_WRITTEN}",
        ),
        # A boolean where a number belongs.
        (
            _with(True, "ledger", 0, "version"),
            f"'ledger[0].version' is a boolean (True), not a whole number; {AS_WRITTEN}",
        ),
        # Counts that do not add up.
        (
            _with(2, "tables", "t", "rows"),
            "the storage classes of 'tables.t.columns.x' add up to 1, and the table has 2 "
            f"rows; {AS_WRITTEN}",
        ),
        # A table the schema lacks.
        (
            _with(["table u", "  column x INTEGER"], "schema"),
            "'schema' and 'tables' name different tables (only in 'schema': u) "
            f"(only in 'tables': t); {AS_WRITTEN}",
        ),
        # Counts of a column the table does not have.
        (
            _with(["table t", "  column y INTEGER"], "schema"),
            f"'tables.t.columns' names x, and the schema's table t has y; {AS_WRITTEN}",
        ),
        # A schema line diagnose never writes.
        (
            _with(["table t", "  column x INTEGER", "DROP TABLE t"], "schema"),
            "'schema' line 3 ('DROP TABLE t'): not a table, index, view or trigger line; "
            f"{AS_WRITTEN}",
        ),
    ],
)
def test_a_bad_report_is_refused_naming_the_key(
    tmp_path: Path, report: dict[str, Any], message: str
) -> None:
    with pytest.raises(bootmigrate.InvalidReport) as info:
        origin_from_report(report, tmp_path / "origin.db", REFERENCE)
    assert str(info.value) == f"the report: {message}"
    assert os.listdir(tmp_path) == []


def test_the_good_report_of_those_builds(tmp_path: Path) -> None:
    # The cases above each break this one report, which is itself fine.
    origin = origin_from_report(_good(), tmp_path / "origin.db", REFERENCE)
    conn = sqlite3.connect(origin)
    try:
        assert conn.execute("SELECT typeof(x) FROM t").fetchall() == [("integer",)]
        assert conn.execute("PRAGMA user_version").fetchone() == (1,)
    finally:
        conn.close()


def test_a_report_file_that_is_not_json_or_missing(tmp_path: Path) -> None:
    pasted = tmp_path / "report.json"
    pasted.write_text("Please find my report below:\n{...}", encoding="utf-8")
    with pytest.raises(bootmigrate.InvalidReport) as info:
        origin_from_report(pasted, tmp_path / "origin.db", REFERENCE)
    assert str(info.value) == (
        f"{pasted}: not JSON (Expecting value at line 1, column 1); {AS_WRITTEN}"
    )
    missing = tmp_path / "nowhere.json"
    with pytest.raises(bootmigrate.InvalidReport) as info:
        origin_from_report(missing, tmp_path / "origin.db", REFERENCE)
    assert str(info.value) == (
        f"{missing}: cannot read the report (No such file or directory); give the path of "
        "the JSON file `bootmigrate diagnose` wrote"
    )


def test_a_report_of_a_missing_database_has_nothing_to_build(tmp_path: Path) -> None:
    source = make_set(tmp_path, READINGS)
    report = bootmigrate.diagnose(tmp_path / "nowhere.db", source)
    with pytest.raises(bootmigrate.UnreproducibleReport) as info:
        origin_from_report(report, tmp_path / "origin.db", REFERENCE)
    assert str(info.value) == (
        "the report: the report holds no database: its file was missing or could not be "
        "read when the report was made (findings: missing); ask for a report of the "
        "database file itself, made with the app closed"
    )


def test_an_existing_file_is_never_written_over(tmp_path: Path) -> None:
    existing = tmp_path / "app.db"
    existing.write_bytes(b"the user's data")
    with pytest.raises(bootmigrate.UsageError) as info:
        origin_from_report(_good(), existing, REFERENCE)
    assert str(info.value) == (
        f"{existing} exists; origin_from_report builds a new database file and never writes "
        "over one: give a path that does not exist"
    )
    assert existing.read_bytes() == b"the user's data"


def test_a_missing_directory_is_named(tmp_path: Path) -> None:
    target = tmp_path / "no" / "such" / "app.db"
    with pytest.raises(bootmigrate.UsageError) as info:
        origin_from_report(_good(), target, REFERENCE)
    assert str(info.value) == f"{target}: the directory {target.parent} does not exist"
    assert not (tmp_path / "no").exists()


def test_the_apps_connect_opens_the_file(tmp_path: Path) -> None:
    # An app on SQLCipher or pysqlite3 builds its origin with its own SQLite.
    opened: list[str] = []

    def connect(database: str | os.PathLike[str], **options: Any) -> sqlite3.Connection:
        opened.append(str(database))
        conn: sqlite3.Connection = sqlite3.connect(database, **options)
        return conn

    origin = origin_from_report(_good(), tmp_path / "origin.db", REFERENCE, connect=connect)
    # The schema the migrations give (literals), the file built, its report read back.
    built = [name for name in opened if ".origin.db." in name]
    assert len(built) == 2 and built[1].endswith("?mode=ro"), opened
    assert bootmigrate.diagnose(origin, REFERENCE)["tables"] == _good()["tables"]
