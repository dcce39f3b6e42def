"""The executor's guard (``bootmigrate._apply.executor``), on real database files.

The guard is the connection's authorizer: SQLite calls it for every action of every
statement it prepares. These tests build migrations with ``Script.from_text`` inside a
``MigrationSet`` assembled by hand, so ``load()``'s early text scan for transaction
control never sees them: whatever is refused here is refused by SQLite's parser through
the guard. Every database is a file; "unchanged" means the main file's bytes and the
names of the files beside it (no journal, WAL or lock file left), and contents are read
back through new connections.
"""

from __future__ import annotations

import sqlite3
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import bootmigrate
from bootmigrate._source.model import Migration, MigrationSet, Script
from bootmigrate._source.text import checksum
from dbfiles import read_db

NO_TX = "-- bootmigrate: no-transaction\n"
FAIL = "INSERT INTO nope VALUES (1);\n"
BASE = "CREATE TABLE a (x);\nINSERT INTO a VALUES (1);\n"
STEP_FILE = "0002_m2.up.sql"


def script(version: int, text: str, *, raw: bool = False) -> Script:
    """The up script of *version*. *raw*: keep the text exactly (a leading BOM too)."""
    filename = f"{version:04d}_m{version}.up.sql"
    if raw:
        return Script(filename, text, checksum(text), frozenset())
    return Script.from_text(filename, text)


def hand_set(*scripts: str | Script) -> MigrationSet:
    """Migrations 1, 2, ... from texts or scripts, assembled without ``load()``."""
    migrations = []
    for version, item in enumerate(scripts, start=1):
        up = item if isinstance(item, Script) else script(version, item)
        migrations.append(Migration(version, f"m{version}", up))
    return MigrationSet("a hand-made set", tuple(migrations))


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """The database's path, alone in its directory (so side files can be listed)."""
    directory = tmp_path / "data"
    directory.mkdir()
    return directory / "app.db"


def image(db: Path) -> tuple[bytes, list[str]]:
    """The main file's bytes and every file name beside it: byte-identical means equal."""
    return db.read_bytes(), sorted(p.name for p in db.parent.iterdir())


def at_version_1(db: Path) -> tuple[bytes, list[str]]:
    """Migrate *db* to version 1 (``BASE``) and return its image."""
    bootmigrate.migrate(db, hand_set(BASE))
    return image(db)


def query(db: Path, sql: str) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def header(db: Path) -> tuple[Any, ...]:
    """What a snapshot of the tables does not show: the header and the journal mode."""
    return tuple(query(db, f"PRAGMA {name}")[0][0] for name in ("user_version", "journal_mode"))


def app_state(db: Path) -> tuple[Any, ...]:
    """What a no-transaction step of these tests can change: table a and the header."""
    return query(db, "SELECT x FROM a ORDER BY x"), header(db)


# -- transaction control, refused by SQLite's parser -----------------------------------

CONTROL = [
    pytest.param("CREATE TABLE b (x);\nCOMMIT;\n", 2, "COMMIT", id="commit"),
    pytest.param("CREATE TABLE b (x);\nEND;\n", 2, "END", id="end"),
    pytest.param("CREATE TABLE b (x);\nEND TRANSACTION;\n", 2, "END", id="end-transaction"),
    pytest.param("CREATE TABLE b (x);\nROLLBACK;\n", 2, "ROLLBACK", id="rollback"),
    pytest.param("CREATE TABLE b (x);\nBEGIN;\n", 2, "BEGIN", id="begin"),
    pytest.param("CREATE TABLE b (x);\nBEGIN IMMEDIATE;\n", 2, "BEGIN", id="begin-immediate"),
    pytest.param(
        "CREATE TABLE b (x);\nSAVEPOINT x;\nINSERT INTO b VALUES (1);\nRELEASE x;\n",
        2,
        "SAVEPOINT",
        id="savepoint-release",
    ),
    pytest.param("CREATE TABLE b (x);\nRELEASE x;\n", 2, "RELEASE", id="release"),
    pytest.param("CREATE TABLE b (x);\n\ufeffCOMMIT;\n", 2, "COMMIT", id="bom-commit"),
    pytest.param("CREATE TABLE b (x);\n/* c */ COMMIT;\n", 2, "COMMIT", id="comment-commit"),
    pytest.param(
        "CREATE TABLE b (x);\nINSERT INTO b VALUES (1);\nCOMMIT",
        3,
        "COMMIT",
        id="commit-last-without-semicolon",
    ),
    pytest.param("CREATE TABLE b (x);\nVACUUM;\n", 2, "VACUUM", id="vacuum"),
]


@pytest.mark.parametrize(("text", "line", "keyword"), CONTROL)
def test_transaction_control_is_refused_by_the_parser(
    db: Path, text: str, line: int, keyword: str
) -> None:
    before = at_version_1(db)
    with pytest.raises(bootmigrate.TransactionControlError) as info:
        bootmigrate.migrate(db, hand_set(BASE, text))
    error = info.value
    assert (error.filename, error.line, error.keyword) == (STEP_FILE, line, keyword)
    what = "cannot run inside a transaction" if keyword == "VACUUM" else "is transaction control"
    assert f"'{STEP_FILE}' line {line}: {keyword} {what}" in str(error)
    assert image(db) == before


def test_a_bom_at_the_very_start_of_a_script_does_not_hide_commit(db: Path) -> None:
    # Script.from_text strips a leading BOM; a Script built directly keeps it.
    raw = script(2, "\ufeffCOMMIT;\nCREATE TABLE b (x);\n", raw=True)
    assert raw.text.startswith("\ufeffCOMMIT")
    before = at_version_1(db)
    with pytest.raises(bootmigrate.TransactionControlError) as info:
        bootmigrate.migrate(db, hand_set(BASE, raw))
    assert (info.value.filename, info.value.line, info.value.keyword) == (STEP_FILE, 1, "COMMIT")
    assert image(db) == before


def test_vacuum_in_a_transactional_file_leaves_the_file_unchanged(db: Path) -> None:
    # Refused, named, and nothing changed, whichever error names it.
    before = at_version_1(db)
    with pytest.raises(bootmigrate.MigrationError) as info:
        bootmigrate.migrate(db, hand_set(BASE, "CREATE TABLE b (x);\nVACUUM;\n"))
    assert STEP_FILE in str(info.value)
    assert image(db) == before


def test_a_cached_commit_statement_is_still_refused(db: Path) -> None:
    """The last statement "COMMIT" (no ';') is the very text the runner executes, so the
    connection's statement cache holds it, prepared while everything was allowed: the
    guard must make SQLite check it again."""
    at_version_1(db)
    conn = sqlite3.connect(db, isolation_level=None)
    try:
        # Put "COMMIT" into the statement cache: the app's own, then the runner's.
        conn.execute("BEGIN")
        conn.execute("COMMIT")
        assert bootmigrate.migrate(conn, hand_set(BASE, "CREATE TABLE b (x);\n")).to_version == 2
        before = image(db)
        with pytest.raises(bootmigrate.TransactionControlError) as info:
            bootmigrate.migrate(
                conn, hand_set(BASE, "CREATE TABLE b (x);\n", "CREATE TABLE c (x);\nCOMMIT")
            )
        assert (info.value.filename, info.value.line) == ("0003_m3.up.sql", 2)
        assert not conn.in_transaction
    finally:
        conn.close()
    assert image(db) == before
    assert read_db(db).versions == (1, 2)


# -- bootmigrate's own tables -----------------------------------------------------------

LEDGER_ROW = "(9, 'x', 'y', 'z', 0, 'v', 0)"
OWN_TABLE_WRITES = [
    pytest.param(
        f"INSERT INTO bootmigrate_ledger VALUES {LEDGER_ROW};",
        "bootmigrate_ledger",
        id="insert-ledger",
    ),
    pytest.param(
        "INSERT INTO bootmigrate_meta VALUES ('k', 'v');", "bootmigrate_meta", id="insert-meta"
    ),
    pytest.param(
        "REPLACE INTO bootmigrate_meta VALUES ('ledger_format', '1');",
        "bootmigrate_meta",
        id="replace-meta",
    ),
    pytest.param(
        "UPDATE bootmigrate_ledger SET name = 'q';", "bootmigrate_ledger", id="update-ledger"
    ),
    pytest.param("UPDATE bootmigrate_meta SET value = '2';", "bootmigrate_meta", id="update-meta"),
    pytest.param("DELETE FROM bootmigrate_ledger;", "bootmigrate_ledger", id="delete-ledger"),
    pytest.param("DELETE FROM bootmigrate_meta;", "bootmigrate_meta", id="delete-meta"),
    pytest.param(
        "DELETE FROM main.BootMigrate_Ledger;", "bootmigrate_ledger", id="delete-main-mixed-case"
    ),
    pytest.param("DROP TABLE bootmigrate_ledger;", "bootmigrate_ledger", id="drop-ledger"),
    pytest.param("DROP TABLE bootmigrate_meta;", "bootmigrate_meta", id="drop-meta"),
    pytest.param(
        "ALTER TABLE bootmigrate_ledger RENAME TO old_ledger;",
        "bootmigrate_ledger",
        id="rename-ledger",
    ),
    pytest.param(
        "ALTER TABLE bootmigrate_meta RENAME TO old_meta;", "bootmigrate_meta", id="rename-meta"
    ),
    pytest.param(
        "ALTER TABLE bootmigrate_ledger ADD COLUMN extra;", "bootmigrate_ledger", id="add-column"
    ),
    pytest.param(
        "CREATE INDEX by_name ON bootmigrate_ledger (name);", "bootmigrate_ledger", id="index"
    ),
    pytest.param(
        "CREATE TRIGGER spy AFTER INSERT ON bootmigrate_ledger BEGIN SELECT 1; END;",
        "bootmigrate_ledger",
        id="trigger",
    ),
]


@pytest.mark.parametrize(("sql", "table"), OWN_TABLE_WRITES)
def test_a_migration_may_not_write_bootmigrates_tables(db: Path, sql: str, table: str) -> None:
    before = at_version_1(db)
    with pytest.raises(bootmigrate.StatementError) as info:
        bootmigrate.migrate(db, hand_set(BASE, f"CREATE TABLE b (x);\n{sql}\n"))
    error = info.value
    assert (error.filename, error.statement, error.line) == (STEP_FILE, 2, 2)
    assert f"{table} is bootmigrate's own table" in str(error)
    assert "the run was rolled back and the database is unchanged" in str(error)
    assert image(db) == before


def test_a_trigger_body_that_writes_the_ledger_is_refused_when_it_fires(db: Path) -> None:
    before = at_version_1(db)
    text = (
        "CREATE TABLE log (x);\n"
        "CREATE TRIGGER log_forges AFTER INSERT ON log\n"
        f"BEGIN INSERT INTO bootmigrate_ledger VALUES {LEDGER_ROW}; END;\n"
        "INSERT INTO log VALUES (1);\n"
    )
    with pytest.raises(bootmigrate.StatementError) as info:
        bootmigrate.migrate(db, hand_set(BASE, text))
    assert (info.value.filename, info.value.statement, info.value.line) == (STEP_FILE, 3, 4)
    assert "bootmigrate_ledger is bootmigrate's own table" in str(info.value)
    assert image(db) == before


def test_a_trigger_an_earlier_run_left_is_refused_when_a_migration_fires_it(db: Path) -> None:
    # Nothing refuses creating it (it is on an app table, and nothing fired it then).
    trigger = (
        "CREATE TABLE log (x);\n"
        "CREATE TRIGGER log_forges AFTER INSERT ON log\n"
        "BEGIN DELETE FROM bootmigrate_ledger; END;\n"
    )
    bootmigrate.migrate(db, hand_set(BASE, trigger))
    before = image(db)
    with pytest.raises(bootmigrate.StatementError) as info:
        bootmigrate.migrate(db, hand_set(BASE, trigger, "INSERT INTO log VALUES (1);\n"))
    assert info.value.filename == "0003_m3.up.sql"
    assert "bootmigrate_ledger is bootmigrate's own table" in str(info.value)
    assert image(db) == before
    assert read_db(db).versions == (1, 2)


def test_a_table_with_a_longer_name_is_the_migrations_own(db: Path) -> None:
    # Only the two names are bootmigrate's: a prefix is not a claim.
    at_version_1(db)
    text = "CREATE TABLE bootmigrate_ledger2 (x);\nINSERT INTO bootmigrate_ledger2 VALUES (1);\n"
    assert bootmigrate.migrate(db, hand_set(BASE, text)).to_version == 2
    snapshot = read_db(db)
    assert snapshot.versions == (1, 2)
    assert snapshot.rows["bootmigrate_ledger2"] == ((1,),)


def test_a_temp_table_named_like_the_ledger_does_not_take_its_rows(db: Path) -> None:
    """The ledger code names ``main.`` in every statement, so a temp table that shadows
    the ledger's name for unqualified SQL is the migration's scratch table, not the
    ledger: writing it is allowed, the run's rows still go to main, and the temp table
    does not outlive the run on the app's connection."""
    at_version_1(db)
    text = (
        "CREATE TEMP TABLE bootmigrate_ledger (x);\n"
        "INSERT INTO bootmigrate_ledger VALUES (1);\n"
        "CREATE TABLE b AS SELECT x FROM bootmigrate_ledger;\n"
    )
    conn = sqlite3.connect(db)
    try:
        report = bootmigrate.migrate(conn, hand_set(BASE, text))
        assert (report.state, report.to_version) == ("migrated", 2)
        assert conn.execute("SELECT type, name FROM temp.sqlite_master").fetchall() == []
        assert conn.execute("SELECT version FROM bootmigrate_ledger").fetchall() == [(1,), (2,)]
    finally:
        conn.close()
    snapshot = read_db(db)
    assert snapshot.versions == (1, 2) and snapshot.user_version == 2
    assert snapshot.rows["b"] == ((1,),)


def test_a_migration_may_not_put_a_temp_trigger_on_the_ledger(db: Path) -> None:
    before = at_version_1(db)
    text = (
        "CREATE TEMP TRIGGER forge AFTER INSERT ON main.bootmigrate_ledger\n"
        "BEGIN UPDATE bootmigrate_ledger SET checksum = 'forged' WHERE version = NEW.version;\n"
        "END;\n"
    )
    with pytest.raises(bootmigrate.StatementError) as info:
        bootmigrate.migrate(db, hand_set(BASE, text))
    assert info.value.filename == STEP_FILE
    assert image(db) == before


def test_a_no_transaction_file_may_not_write_bootmigrates_tables(db: Path) -> None:
    at_version_1(db)
    before = read_db(db)
    with pytest.raises(bootmigrate.StatementError) as info:
        bootmigrate.migrate(db, hand_set(BASE, NO_TX + "DELETE FROM bootmigrate_ledger;\n"))
    assert (info.value.filename, info.value.statement, info.value.line) == (STEP_FILE, 1, 2)
    assert "none of its statements took effect" in str(info.value)
    assert read_db(db) == before


def test_a_no_transaction_file_is_told_why_it_may_not_write_the_ledger(db: Path) -> None:
    at_version_1(db)
    with pytest.raises(bootmigrate.StatementError) as info:
        bootmigrate.migrate(db, hand_set(BASE, NO_TX + "DELETE FROM bootmigrate_ledger;\n"))
    assert "bootmigrate_ledger is bootmigrate's own table" in str(info.value)


# -- no-transaction files: did anything take effect? ------------------------------------

# (body before the failing last statement, whether it took effect for good)
STEPS = [
    pytest.param("SELECT 1;\nSELECT count(*) FROM a;\n", False, id="only-selects"),
    pytest.param("PRAGMA foreign_keys = ON;\n", False, id="connection-pragma"),
    pytest.param("PRAGMA user_version = 5;\n", True, id="user-version"),
    pytest.param("PRAGMA journal_mode = WAL;\n", True, id="journal-mode-wal"),
    pytest.param("BEGIN;\nINSERT INTO a VALUES (2);\nROLLBACK;\n", False, id="rolled-back"),
    pytest.param("BEGIN;\nINSERT INTO a VALUES (2);\nCOMMIT;\n", True, id="committed"),
    pytest.param("BEGIN;\nINSERT INTO a VALUES (2);\n", False, id="fails-in-its-transaction"),
    # The second INSERT reuses the prepared statement of the first, so SQLite does not
    # call the authorizer for it: it must still count as a write.
    pytest.param(
        "BEGIN;\nINSERT INTO a VALUES (2);\nROLLBACK;\nINSERT INTO a VALUES (2);\n",
        True,
        id="same-text-twice",
    ),
]


@pytest.mark.parametrize("backup", [False, True], ids=["no-backup", "backup"])
@pytest.mark.parametrize(("body", "took_effect"), STEPS)
def test_a_failed_no_transaction_file_says_whether_it_took_effect(
    db: Path, body: str, took_effect: bool, backup: bool
) -> None:
    at_version_1(db)
    before, before_header, app_before = read_db(db), header(db), app_state(db)
    text = NO_TX + body + FAIL
    with pytest.raises(bootmigrate.StatementError) as info:
        bootmigrate.migrate(db, hand_set(BASE, text), backup=backup)
    message = str(info.value)
    statements = text.count(";")
    assert (info.value.filename, info.value.statement) == (STEP_FILE, statements)
    assert info.value.line == statements + 1  # the directive is line 1
    assert ("none of its statements took effect" in message) is not took_effect
    assert ("restored from the backup" in message) is (took_effect and backup)
    if took_effect and not backup:
        assert "partly applied" in message
        assert app_state(db) != app_before
    else:
        assert "partly applied" not in message
        assert read_db(db) == before and header(db) == before_header
    assert bootmigrate.status(db, hand_set(BASE, text)).current == 1


def test_the_statement_cache_premise_of_the_same_text_case() -> None:
    # What the "same-text-twice" case relies on: no authorizer call the second time.
    conn = sqlite3.connect(":memory:", isolation_level=None)
    try:
        conn.execute("CREATE TABLE a (x)")
        calls: list[tuple[Any, ...]] = []

        def authorizer(*args: Any) -> int:
            calls.append(args)
            return sqlite3.SQLITE_OK

        conn.set_authorizer(authorizer)
        seen = []
        for sql in (
            "BEGIN;",
            "INSERT INTO a VALUES (2);",
            "ROLLBACK;",
            "INSERT INTO a VALUES (2);",
        ):
            calls.clear()
            conn.execute(sql).fetchall()
            seen.append(len(calls))
    finally:
        conn.close()
    assert seen[1] > 0 and seen[3] == 0


# -- a Baseline's callbacks run under the guard -------------------------------------------

NOTES = "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT);\n"


def legacy_file(db: Path) -> tuple[bytes, list[str]]:
    """A database an app made before bootmigrate (its version in app_version); its image."""
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE app_version (v INTEGER)")
    conn.execute("INSERT INTO app_version VALUES (1)")
    conn.execute(NOTES)
    conn.execute("INSERT INTO notes (body) VALUES ('kept')")
    conn.commit()
    conn.close()
    return image(db)


def claimed(conn: sqlite3.Connection) -> int:
    return int(conn.execute("SELECT MAX(v) FROM app_version").fetchone()[0])


# (what the callback does, whether it is a Python method that 3.12+ makes a no-op)
ENDINGS = [
    pytest.param(lambda conn: conn.commit(), True, id="commit()"),
    pytest.param(lambda conn: conn.execute("COMMIT"), False, id="execute-COMMIT"),
    pytest.param(lambda conn: conn.execute("SAVEPOINT s"), False, id="execute-SAVEPOINT"),
    pytest.param(lambda conn: conn.rollback(), True, id="rollback()"),
    pytest.param(lambda conn: conn.execute("ROLLBACK"), False, id="execute-ROLLBACK"),
]
DOING = {"detect": "detecting the database's version", "repair": "repairing the database"}


def baseline_doing(where: str, action: Callable[[sqlite3.Connection], object]) -> Any:
    def detect(conn: sqlite3.Connection) -> int | None:
        if where == "detect":
            action(conn)
        return claimed(conn)

    def repair(conn: sqlite3.Connection, version: int) -> tuple[int, list[str]]:
        if where == "repair":
            action(conn)
        return version, []

    return bootmigrate.Baseline(detect, highest=1, repair=repair)


@pytest.mark.parametrize("where", ["detect", "repair"])
@pytest.mark.parametrize(("action", "method"), ENDINGS)
def test_a_callback_that_ends_the_transaction_is_refused(
    db: Path, where: str, action: Callable[[sqlite3.Connection], object], method: bool
) -> None:
    before = legacy_file(db)
    migrations = hand_set(NOTES, "CREATE TABLE b (x);\n")
    if method and sys.version_info >= (3, 12):
        # The run's connection has autocommit=True, where commit() and rollback() do
        # nothing: they cannot end its transaction, and the run goes on (the next test
        # shows that nothing is committed early).
        report = bootmigrate.migrate(db, migrations, baseline=baseline_doing(where, action))
        assert report.adoption is not None and report.to_version == 2
        return
    with pytest.raises(bootmigrate.ApplyError) as info:
        bootmigrate.migrate(db, migrations, baseline=baseline_doing(where, action))
    message = str(info.value)
    assert f"{DOING[where]} tried to" in message and "must leave it alone" in message
    assert "the run was rolled back and the database is unchanged" in message
    assert image(db) == before


@pytest.mark.parametrize("where", ["detect", "repair"])
@pytest.mark.parametrize(("action", "method"), ENDINGS)
def test_a_callback_cannot_commit_part_of_the_run(
    db: Path, where: str, action: Callable[[sqlite3.Connection], object], method: bool
) -> None:
    before = legacy_file(db)
    migrations = hand_set(NOTES, "CREATE TABLE b (x);\n" + FAIL)
    with pytest.raises(bootmigrate.MigrationError):
        bootmigrate.migrate(db, migrations, baseline=baseline_doing(where, action))
    assert image(db) == before


@pytest.mark.parametrize("value", [1.0, True, -1, "1"], ids=["float", "bool", "negative", "str"])
def test_detect_must_return_a_version_number(db: Path, value: object) -> None:
    before = legacy_file(db)
    baseline = bootmigrate.Baseline(lambda conn: value, highest=5)  # type: ignore[arg-type,return-value]
    with pytest.raises(bootmigrate.UsageError) as info:
        bootmigrate.migrate(db, hand_set(NOTES), baseline=baseline)
    assert f"the baseline's detect returned {value!r}" in str(info.value)
    assert image(db) == before


@pytest.mark.parametrize(
    "value",
    [[1, []], (1, "repaired"), (1,), (1, [2]), ("1", [])],
    ids=["list", "notes-a-str", "one-item", "notes-not-str", "version-a-str"],
)
def test_repair_must_return_a_version_and_notes(db: Path, value: object) -> None:
    before = legacy_file(db)
    baseline = bootmigrate.Baseline(claimed, highest=5, repair=lambda conn, v: value)  # type: ignore[arg-type,return-value]
    with pytest.raises(bootmigrate.UsageError) as info:
        bootmigrate.migrate(db, hand_set(NOTES), baseline=baseline)
    assert "the baseline's repair returned" in str(info.value)
    assert image(db) == before


# -- a borrowed connection is given back as it was ----------------------------------------


def settings(conn: sqlite3.Connection) -> dict[str, Any]:
    found: dict[str, Any] = {
        "isolation_level": conn.isolation_level,
        "row_factory": conn.row_factory,
        "text_factory": conn.text_factory,
        "in_transaction": conn.in_transaction,
    }
    for pragma in ("busy_timeout", "foreign_keys", "journal_mode"):
        value = conn.execute(f"PRAGMA {pragma}").fetchone()[0]
        found[pragma] = value.decode() if isinstance(value, bytes) else value
    if sys.version_info >= (3, 12):
        found["autocommit"] = conn.autocommit
    return found


def app_connection(db: Path, profile: str, journal_mode: str) -> sqlite3.Connection:
    """A connection the app set up its own way."""
    if profile == "legacy":  # Python's implicit transactions, the app's factories
        conn = sqlite3.connect(db, isolation_level="IMMEDIATE")
        conn.row_factory = sqlite3.Row
        conn.text_factory = bytes
        conn.execute("PRAGMA busy_timeout = 1234")
        conn.execute("PRAGMA foreign_keys = ON")
    elif sys.version_info >= (3, 12):
        conn = sqlite3.connect(db, autocommit=True)
    else:
        conn = sqlite3.connect(db, isolation_level=None)
    conn.execute(f"PRAGMA journal_mode = {journal_mode}").fetchall()
    return conn


@pytest.mark.parametrize("outcome", ["success", "failure"])
@pytest.mark.parametrize("journal_mode", ["off", "memory", "wal", "truncate"])
@pytest.mark.parametrize("profile", ["legacy", "autocommit"])
def test_a_borrowed_connection_is_given_back_as_it_was(
    db: Path, profile: str, journal_mode: str, outcome: str
) -> None:
    at_version_1(db)
    second = "CREATE TABLE b (x);\n" + (FAIL if outcome == "failure" else "")
    conn = app_connection(db, profile, journal_mode)
    try:
        before = settings(conn)
        assert before["journal_mode"] == journal_mode
        assert before["foreign_keys"] == (profile == "legacy")
        if outcome == "success":
            assert bootmigrate.migrate(conn, hand_set(BASE, second)).to_version == 2
        else:
            with pytest.raises(bootmigrate.StatementError):
                bootmigrate.migrate(conn, hand_set(BASE, second))
        assert settings(conn) == before
        # No authorizer is left behind: transaction control and the runner's tables are
        # the app's again.
        conn.execute("BEGIN")
        conn.execute("SAVEPOINT s")
        conn.execute(f"INSERT INTO bootmigrate_ledger VALUES {LEDGER_ROW}")
        conn.execute("RELEASE s")
        conn.execute("COMMIT")
    finally:
        conn.close()
    assert query(db, "SELECT name FROM bootmigrate_ledger WHERE version = 9") == [("x",)]


@pytest.mark.parametrize(
    "outcome",
    [
        "success",
        pytest.param("failure"),
    ],
)
def test_a_step_that_turns_foreign_keys_on_does_not_leave_them_on(db: Path, outcome: str) -> None:
    at_version_1(db)
    text = NO_TX + "PRAGMA foreign_keys = ON;\n" + (FAIL if outcome == "failure" else "")
    conn = sqlite3.connect(db)  # foreign keys off, as SQLite's default
    try:
        if outcome == "success":
            bootmigrate.migrate(conn, hand_set(BASE, text))
        else:
            with pytest.raises(bootmigrate.StatementError):
                bootmigrate.migrate(conn, hand_set(BASE, text))
        assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 0
    finally:
        conn.close()


def test_a_commit_the_runner_ran_earlier_in_the_same_run_is_still_refused(db: Path) -> None:
    # The no-transaction step makes the runner commit ("COMMIT") between batches, on
    # this connection, under the guard's lax mode; then the next file's "COMMIT" runs.
    at_version_1(db)
    migrations = hand_set(
        BASE,
        NO_TX + "CREATE TABLE s (x);\n",
        "CREATE TABLE c (x);\nINSERT INTO c VALUES (1);\nCOMMIT",
    )
    with pytest.raises(bootmigrate.TransactionControlError) as info:
        bootmigrate.migrate(db, migrations)
    assert (info.value.filename, info.value.line) == ("0003_m3.up.sql", 3)
    snapshot = read_db(db)
    assert snapshot.versions == (1, 2) and "c" not in snapshot.tables


# -- a migration's own failure is named as the migration's ---------------------------------


def test_an_attach_of_a_missing_file_is_the_migrations_statement_error(
    db: Path, tmp_path: Path
) -> None:
    at_version_1(db)
    missing = tmp_path / "no-such-directory" / "extra.db"
    text = NO_TX + f"ATTACH DATABASE '{missing}' AS extra;\n"
    with pytest.raises(bootmigrate.StatementError) as info:
        bootmigrate.migrate(db, hand_set(BASE, text))
    assert (info.value.filename, info.value.statement, info.value.line) == (STEP_FILE, 1, 2)


def test_a_migration_that_turns_on_query_only_is_named(db: Path) -> None:
    at_version_1(db)
    conn = sqlite3.connect(db)
    try:
        with pytest.raises(bootmigrate.StatementError) as info:
            bootmigrate.migrate(
                conn, hand_set(BASE, "PRAGMA query_only = ON;\nCREATE TABLE b (x);\n")
            )
        # The PRAGMA itself is refused, before any write could fail because of it.
        assert (info.value.filename, info.value.statement) == (STEP_FILE, 1)
        assert "query_only" in str(info.value)
        assert conn.execute("PRAGMA query_only").fetchone()[0] == 0
    finally:
        conn.close()
