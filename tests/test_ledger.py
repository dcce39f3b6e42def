"""The runner's own tables (``bootmigrate._db.ledger``), on database files.

The functions are called directly on connections to real files, in transactions the
test commits (no ledger function commits), and what they wrote is read back through new
connections. Then the checks that guard the tables: a table, index, trigger or view
that bootmigrate did not make, a damaged note of an unfinished step, and every value of
a ledger row, through ``status()``, ``migrate()`` and the CLI.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

import bootmigrate
from bootmigrate._db import ledger
from bootmigrate._source.model import Migration, Script
from bootmigrate._version import __version__
from dbfiles import make_set, read_db
from processes import run_cli

FILES = {
    "0001_a.up.sql": "CREATE TABLE a (x);\n",
    "0002_b.up.sql": "-- bootmigrate: backward-compatible\nCREATE TABLE b (x);\n",
    "0003_c.up.sql": "CREATE TABLE c (x);\n",
}
ISO_UTC = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")


def migration(version: int) -> Migration:
    """Migration *version* of ``FILES``, built as ``load()`` builds it."""
    ((name, text),) = [(n, t) for n, t in FILES.items() if n.startswith(f"{version:04d}_")]
    return Migration(version, name[5:].split(".")[0], Script.from_text(name, text))


@contextmanager
def transaction(db: Path) -> Iterator[sqlite3.Connection]:
    """A new connection inside ``BEGIN IMMEDIATE``, committed at the end, then closed."""
    conn = sqlite3.connect(db, isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")
        yield conn
        conn.execute("COMMIT")
    finally:
        conn.close()


@contextmanager
def reading(db: Path) -> Iterator[sqlite3.Connection]:
    conn = sqlite3.connect(db)
    try:
        yield conn
    finally:
        conn.close()


def rows(db: Path, sql: str, parameters: Sequence[object] = ()) -> list[tuple[Any, ...]]:
    with reading(db) as conn:
        return conn.execute(sql, parameters).fetchall()


def boot_rows(db: Path) -> list[tuple[Any, ...]]:
    """What the boot's one query returns on the file."""
    return rows(db, ledger.BOOT_QUERY, ledger.BOOT_PARAMETERS)


def image(db: Path) -> tuple[bytes, list[str]]:
    return db.read_bytes(), sorted(p.name for p in db.parent.iterdir())


@pytest.fixture
def db(tmp_path: Path) -> Path:
    directory = tmp_path / "data"
    directory.mkdir()
    return directory / "app.db"


@pytest.fixture
def source(tmp_path: Path) -> Path:
    return make_set(tmp_path, FILES)


# -- the functions, on a file ---------------------------------------------------------


def test_a_new_file_has_no_ledger(db: Path) -> None:
    with reading(db) as conn:
        assert ledger.exists(conn, str(db)) is False
        assert ledger.read(conn, str(db)) == []


def test_ensure_makes_the_tables_once(db: Path) -> None:
    for _ in range(2):
        with transaction(db) as conn:
            ledger.ensure(conn)
    assert sorted(rows(db, "SELECT type, name FROM sqlite_master")) == [
        ("index", "sqlite_autoindex_bootmigrate_meta_1"),
        ("table", "bootmigrate_ledger"),
        ("table", "bootmigrate_meta"),
    ]
    assert rows(db, "SELECT key, value FROM bootmigrate_meta") == [("ledger_format", "1")]
    with reading(db) as conn:
        assert ledger.exists(conn, str(db)) is True
        assert ledger.read(conn) == [] and ledger.max_version(conn) == 0
    assert boot_rows(db) == []


def test_record_writes_the_row_and_moves_user_version(db: Path) -> None:
    first, second = migration(1), migration(2)
    with transaction(db) as conn:
        ledger.ensure(conn)
        ledger.record(conn, first, 12.34567)
        ledger.record(conn, second, 0.5, at="2026-01-02T03:04:05.678Z")
    written = rows(db, "SELECT * FROM bootmigrate_ledger ORDER BY version")
    assert written[0][:3] == (1, "a", first.checksum)
    assert ISO_UTC.fullmatch(written[0][3])
    assert written[0][4:] == (12.346, __version__, 0)
    assert written[1] == (
        2,
        "b",
        second.checksum,
        "2026-01-02T03:04:05.678Z",
        0.5,
        __version__,
        1,  # declared backward-compatible
    )
    assert read_db(db).user_version == 2
    with reading(db) as conn:
        applied = ledger.read(conn, str(db))
        assert ledger.max_version(conn) == 2
    assert [(a.version, a.name, a.checksum, a.backward_compatible) for a in applied] == [
        (1, "a", first.checksum, False),
        (2, "b", second.checksum, True),
    ]
    assert applied[1].execution_ms == 0.5 and applied[1].applied_at == "2026-01-02T03:04:05.678Z"
    assert boot_rows(db) == [("0001", "a", first.checksum), ("0002", "b", second.checksum)]


def test_forget_deletes_the_row_and_moves_user_version_back(db: Path) -> None:
    with transaction(db) as conn:
        ledger.ensure(conn)
        for version in (1, 2, 3):
            ledger.record(conn, migration(version), 1.0)
    with transaction(db) as conn:
        ledger.forget(conn, 3)
    assert [r[0] for r in rows(db, "SELECT version FROM bootmigrate_ledger")] == [1, 2]
    assert read_db(db).user_version == 2
    with transaction(db) as conn:
        ledger.forget(conn, 2)
        ledger.forget(conn, 1)
    assert rows(db, "SELECT version FROM bootmigrate_ledger") == []
    assert read_db(db).user_version == 0


def test_record_adopted_writes_every_row_with_one_time_and_no_duration(db: Path) -> None:
    with transaction(db) as conn:
        ledger.ensure(conn)
        ledger.record_adopted(conn, [migration(1), migration(2)])
    written = rows(db, "SELECT version, applied_at, execution_ms FROM bootmigrate_ledger")
    assert [(v, ms) for v, _, ms in written] == [(1, 0.0), (2, 0.0)]
    assert written[0][1] == written[1][1] and ISO_UTC.fullmatch(written[0][1])
    assert read_db(db).user_version == 2


ORPHANS = frozenset({("child", 3, "parent", 0), ("child", None, "parent", 1)})


def test_the_note_of_an_unfinished_step_round_trips(db: Path) -> None:
    step = migration(3)
    with transaction(db) as conn:
        ledger.ensure(conn)
        ledger.record(conn, migration(1), 1.0)
        assert ledger.read_unfinished(conn) is None
        noted = ledger.begin_step(conn, step, ORPHANS)
    assert (noted.version, noted.name, noted.orphans) == (3, "c", ORPHANS)
    with reading(db) as conn:
        found = ledger.read_unfinished(conn)
    assert found == ledger.UnfinishedStep(3, "c", ORPHANS)
    # While a step is under way, the boot's query finds nothing: the full check runs.
    assert boot_rows(db) == []
    # A second attempt of the same step keeps what the first one started from.
    with transaction(db) as conn:
        again = ledger.begin_step(conn, step, frozenset())
    assert again.orphans == ORPHANS
    with reading(db) as conn:
        assert ledger.read_unfinished(conn) == found
    with transaction(db) as conn:
        ledger.clear_unfinished(conn)
    with reading(db) as conn:
        assert ledger.read_unfinished(conn) is None
    assert boot_rows(db) == [("0001", "a", migration(1).checksum)]


def test_recording_the_step_clears_its_note_and_only_its_own(db: Path) -> None:
    with transaction(db) as conn:
        ledger.ensure(conn)
        ledger.begin_step(conn, migration(3), ORPHANS)
        ledger.record(conn, migration(1), 1.0)  # another version: the note stays
    with reading(db) as conn:
        assert ledger.read_unfinished(conn) is not None
    with transaction(db) as conn:
        ledger.begin_step(conn, migration(2), frozenset())  # another step replaces it
    with reading(db) as conn:
        assert ledger.read_unfinished(conn) == ledger.UnfinishedStep(2, "b", frozenset())
    with transaction(db) as conn:
        ledger.record(conn, migration(2), 1.0, finishes_step=True)
    with reading(db) as conn:
        assert ledger.read_unfinished(conn) is None
    assert rows(db, "SELECT key FROM bootmigrate_meta") == [("ledger_format",)]


def test_every_statement_names_main_so_a_temp_table_is_never_used(db: Path) -> None:
    conn = sqlite3.connect(db, isolation_level=None)
    try:
        for table in ledger.OWN_TABLES:
            conn.execute(f"CREATE TEMP TABLE {table} (x)")
        conn.execute("BEGIN")
        ledger.ensure(conn)
        ledger.record(conn, migration(1), 1.0)
        ledger.begin_step(conn, migration(2), frozenset())
        conn.execute("COMMIT")
        assert ledger.exists(conn) and [a.version for a in ledger.read(conn)] == [1]
        assert conn.execute("SELECT count(*) FROM temp.bootmigrate_ledger").fetchone() == (0,)
        assert conn.execute("SELECT count(*) FROM temp.bootmigrate_meta").fetchone() == (0,)
    finally:
        conn.close()
    assert boot_rows(db) == []  # the note of step 2
    assert rows(db, "SELECT version FROM bootmigrate_ledger") == [(1,)]


# -- the structure check: tables, indexes, triggers and views bootmigrate did not make --

LEDGER_COLUMNS = (
    "version INTEGER PRIMARY KEY",
    "name TEXT NOT NULL",
    "checksum TEXT NOT NULL",
    "applied_at TEXT NOT NULL",
    "execution_ms REAL NOT NULL",
    "bootmigrate_version TEXT NOT NULL",
    "backward_compatible INTEGER NOT NULL DEFAULT 0",
)
META = (
    "CREATE TABLE bootmigrate_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "INSERT INTO bootmigrate_meta VALUES ('ledger_format', '1')",
)
SWAPPED = ", ".join((LEDGER_COLUMNS[1], LEDGER_COLUMNS[0], *LEDGER_COLUMNS[2:]))
# The ledger rebuilt by hand without its types and constraints (as in test_edges).
LOOSE = (
    "CREATE TABLE loose (version, name, checksum, applied_at, execution_ms, "
    "bootmigrate_version, backward_compatible)",
    "INSERT INTO loose SELECT * FROM bootmigrate_ledger",
    "DROP TABLE bootmigrate_ledger",
    "ALTER TABLE loose RENAME TO bootmigrate_ledger",
)
CASE_BUG = (
    "the check compares sqlite_master's name and tbl_name with the lower-case names, "
    "case-sensitively, while SQLite's names are not: {}"
)

# id: (start from a database migrated to 2?, statements, what the message names)
STRUCTURES = [
    pytest.param(
        False,
        (f"CREATE TABLE bootmigrate_ledger ({SWAPPED})", *META),
        "bootmigrate_ledger is not the table bootmigrate made",
        id="another-column-order",
    ),
    pytest.param(
        True, LOOSE, "bootmigrate_ledger is not the table bootmigrate made", id="loose-types"
    ),
    pytest.param(
        True,
        ("CREATE INDEX by_name ON bootmigrate_ledger (name)",),
        "index by_name on them",
        id="extra-index",
    ),
    pytest.param(
        True,
        ("CREATE TRIGGER spy AFTER INSERT ON bootmigrate_ledger BEGIN SELECT 1; END",),
        "trigger spy on them",
        id="trigger",
    ),
    pytest.param(
        False,
        ("CREATE VIEW bootmigrate_ledger AS SELECT 1 AS version", *META),
        "bootmigrate_ledger is not the table bootmigrate made",
        id="view-named-ledger",
    ),
    pytest.param(
        False, META, "bootmigrate_meta is there but bootmigrate_ledger is missing", id="meta-only"
    ),
    pytest.param(
        True,
        ("DROP TABLE bootmigrate_meta",),
        "the ledger table 'bootmigrate_ledger' exists but 'bootmigrate_meta' does not",
        id="ledger-only",
    ),
    pytest.param(
        True,
        ("ALTER TABLE bootmigrate_meta ADD COLUMN note TEXT",),
        "bootmigrate_meta is not the table bootmigrate made",
        id="meta-altered",
    ),
    pytest.param(
        True,
        ("UPDATE bootmigrate_meta SET value = 'x'",),
        "the ledger has an unknown format ('x')",
        id="format-x",
    ),
    pytest.param(
        True,
        ("DELETE FROM bootmigrate_meta",),
        "the ledger has an unknown format (None)",
        id="format-missing",
    ),
    pytest.param(
        True,
        ("UPDATE bootmigrate_meta SET value = '2'",),
        "the ledger has format 2, and this bootmigrate reads format 1",
        id="format-newer",
    ),
    pytest.param(
        True,
        ("CREATE TRIGGER spy AFTER INSERT ON BOOTMIGRATE_LEDGER BEGIN SELECT 1; END",),
        "trigger spy on them",
        id="trigger-named-in-capitals",
    ),
    pytest.param(
        False,
        (f"CREATE TABLE BOOTMIGRATE_LEDGER ({', '.join(LEDGER_COLUMNS)}, note TEXT)",),
        "BOOTMIGRATE_LEDGER",
        id="ledger-named-in-capitals",
    ),
]


def planted(db: Path, source: Path, migrated: bool, statements: Sequence[str]) -> None:
    if migrated:
        bootmigrate.migrate(db, source, target=2)
    conn = sqlite3.connect(db, isolation_level=None)
    try:
        for statement in statements:
            conn.execute(statement)
    finally:
        conn.close()


@pytest.mark.parametrize(("migrated", "statements", "names"), STRUCTURES)
def test_tables_bootmigrate_did_not_make_are_refused(
    db: Path, source: Path, migrated: bool, statements: Sequence[str], names: str
) -> None:
    planted(db, source, migrated, statements)
    before = image(db)
    with reading(db) as conn, pytest.raises(bootmigrate.LedgerError) as info:
        ledger.exists(conn, str(db))
    assert str(db) in str(info.value) and names in str(info.value)
    with pytest.raises(bootmigrate.LedgerError) as info:
        bootmigrate.status(db, source)
    assert names in str(info.value)
    with pytest.raises(bootmigrate.LedgerError) as info:
        bootmigrate.migrate(db, source)
    assert names in str(info.value)
    assert image(db) == before


def test_a_temp_trigger_on_the_ledger_of_a_borrowed_connection_is_refused(
    db: Path, source: Path
) -> None:
    bootmigrate.migrate(db, source, target=2)
    before = image(db)
    conn = sqlite3.connect(db)
    try:
        conn.execute(
            "CREATE TEMP TRIGGER spy AFTER INSERT ON main.bootmigrate_ledger BEGIN SELECT 1; END"
        )
        with pytest.raises(bootmigrate.LedgerError, match="trigger spy on them"):
            ledger.exists(conn, str(db))
        with pytest.raises(bootmigrate.LedgerError, match="trigger spy on them"):
            bootmigrate.migrate(conn, source)
        # The app's own temp trigger is the app's: it is still there.
        assert conn.execute("SELECT name FROM temp.sqlite_master").fetchall() == [("spy",)]
    finally:
        conn.close()
    assert image(db) == before
    with reading(db) as other:  # the file itself is fine
        assert ledger.exists(other, str(db)) is True


# -- the boot's one query ------------------------------------------------------------------

BOOT_DECLINES = [
    pytest.param(
        ("INSERT INTO bootmigrate_meta VALUES ('unfinished_step', '{}')",), id="step-under-way"
    ),
    pytest.param(("UPDATE bootmigrate_meta SET value = '2'",), id="format-2"),
    pytest.param(("UPDATE bootmigrate_meta SET value = '01'",), id="format-01"),
]


# The boot's query only reads: an object planted on the tables cannot run through it (a
# trigger fires on writes; an index is only read), so the boot leaves such a database to
# the full check, which refuses it before anything is written.
BOOT_LEAVES_TO_THE_FULL_CHECK = [
    pytest.param(("CREATE INDEX by_name ON bootmigrate_ledger (name)",), id="extra-index"),
    pytest.param(
        ("CREATE TRIGGER spy AFTER DELETE ON bootmigrate_meta BEGIN SELECT 1; END",),
        id="trigger-on-meta",
    ),
    pytest.param(
        (
            "ALTER TABLE bootmigrate_ledger RENAME TO mine",
            f"CREATE TABLE bootmigrate_ledger ({SWAPPED})",
            "INSERT INTO bootmigrate_ledger (version, name, checksum, applied_at, execution_ms, "
            "bootmigrate_version, backward_compatible) SELECT * FROM mine",
        ),
        id="table-not-bootmigrates",
    ),
]


def test_the_boot_query_returns_the_ledger_as_the_lock_spells_it(db: Path, source: Path) -> None:
    bootmigrate.migrate(db, source, target=2)
    assert boot_rows(db) == [
        ("0001", "a", migration(1).checksum),
        ("0002", "b", migration(2).checksum),
    ]


@pytest.mark.parametrize("statements", BOOT_DECLINES)
def test_the_boot_query_returns_nothing_unless_the_ledger_is_intact(
    db: Path, source: Path, statements: Sequence[str]
) -> None:
    planted(db, source, True, statements)
    assert boot_rows(db) == []


@pytest.mark.parametrize("statements", BOOT_LEAVES_TO_THE_FULL_CHECK)
def test_what_the_boot_query_reads_past_the_full_check_refuses(
    db: Path, source: Path, statements: Sequence[str]
) -> None:
    planted(db, source, True, statements)
    assert [version for version, _, _ in boot_rows(db)] == ["0001", "0002"]
    with pytest.raises(bootmigrate.LedgerError):
        bootmigrate.status(db, source)


# -- the note of an unfinished step ------------------------------------------------------


def noted(db: Path, source: Path, note: str) -> None:
    """A database at version 2 whose meta table holds *note* as an unfinished step."""
    bootmigrate.migrate(db, source, target=2)
    with transaction(db) as conn:
        conn.execute("INSERT INTO bootmigrate_meta VALUES ('unfinished_step', ?)", (note,))


DAMAGED_NOTES = [
    pytest.param("not json", id="not-json"),
    pytest.param("[]", id="a-list"),
    pytest.param("null", id="null"),
    pytest.param('{"version": 3, "name": "c"}', id="no-orphans"),
    pytest.param('{"version": "three", "name": "c", "orphans": []}', id="version-a-word"),
    pytest.param('{"version": 3, "name": "c", "orphans": [["t", 1, "p"]]}', id="short-orphan"),
    pytest.param(
        '{"version": 1e999, "name": "c", "orphans": []}',
        id="version-infinite",
    ),
    pytest.param("[" * 100_000, id="nested-too-deep"),
]


@pytest.mark.parametrize("note", DAMAGED_NOTES)
def test_a_damaged_note_of_an_unfinished_step_is_a_ledger_error(
    db: Path, source: Path, note: str
) -> None:
    noted(db, source, note)
    before = image(db)
    with reading(db) as conn, pytest.raises(bootmigrate.LedgerError) as info:
        ledger.read_unfinished(conn)
    shown = repr(note) if len(note) <= 200 else repr(note[:197] + "...")
    assert f"the note of an unfinished step is {shown}" in str(info.value)
    # Recording any migration reads the note first.
    with pytest.raises(bootmigrate.LedgerError) as info:
        bootmigrate.migrate(db, source)
    assert "the note of an unfinished step is" in str(info.value)
    assert image(db) == before


def test_a_damaged_note_names_the_database(db: Path, source: Path) -> None:
    noted(db, source, "not json")
    with pytest.raises(bootmigrate.LedgerError) as info:
        bootmigrate.migrate(db, source)
    assert str(info.value).startswith(f"{db}: ")


# -- every value of a ledger row -----------------------------------------------------------

# id: (the damage to version 2's row, what the message says: version and column)
DAMAGED_VALUES = [
    pytest.param("version = 0", "version 0 is not a positive integer", id="version-0"),
    pytest.param("version = -3", "version -3 is not a positive integer", id="version-negative"),
    pytest.param("name = ''", "the name of version 2 is ''", id="name-empty"),
    pytest.param("checksum = 'abc'", "the checksum of version 2 is 'abc'", id="checksum-short"),
    pytest.param(
        "checksum = checksum || '0'", "the checksum of version 2 is '", id="checksum-long"
    ),
    pytest.param("checksum = 7", "the checksum of version 2 is '7'", id="checksum-a-number"),
    pytest.param("applied_at = x'00'", "applied_at of version 2 is b'\\x00'", id="applied_at-blob"),
    pytest.param(
        "execution_ms = 'slow'",
        "execution_ms of version 2 is 'slow', not a number",
        id="execution_ms-text",
    ),
    pytest.param(
        "execution_ms = x'01'",
        "execution_ms of version 2 is b'\\x01', not a number",
        id="execution_ms-blob",
    ),
    pytest.param(
        "bootmigrate_version = x'00'",
        "bootmigrate_version of version 2 is b'\\x00'",
        id="bootmigrate_version-blob",
    ),
    pytest.param(
        "backward_compatible = 2", "backward_compatible of version 2 is 2", id="compatible-2"
    ),
    pytest.param(
        "backward_compatible = 'yes'",
        "backward_compatible of version 2 is 'yes'",
        id="compatible-text",
    ),
]


def damaged(db: Path, source: Path, change: str) -> None:
    bootmigrate.migrate(db, source, target=2)
    with transaction(db) as conn:
        conn.execute(f"UPDATE bootmigrate_ledger SET {change} WHERE version = 2")


@pytest.mark.parametrize(("change", "says"), DAMAGED_VALUES)
def test_a_damaged_ledger_value_is_a_ledger_error(
    db: Path, source: Path, change: str, says: str
) -> None:
    damaged(db, source, change)
    before = image(db)
    with pytest.raises(bootmigrate.LedgerError) as info:
        bootmigrate.status(db, source)
    assert str(db) in str(info.value) and says in str(info.value)
    with pytest.raises(bootmigrate.LedgerError) as info:
        bootmigrate.migrate(db, source)
    assert says in str(info.value)
    assert image(db) == before


@pytest.mark.parametrize("command", ["status", "up"])
@pytest.mark.parametrize(("change", "says"), DAMAGED_VALUES)
def test_the_cli_reports_a_damaged_ledger_value_in_one_line(
    db: Path, source: Path, change: str, says: str, command: str
) -> None:
    damaged(db, source, change)
    before = image(db)
    done = run_cli(["--db", db, "--source", source, command])
    assert done.returncode == 1, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr
    assert done.stderr.startswith("bootmigrate: error: ")
    assert done.stderr.count("\n") == 1 and says in done.stderr, done.stderr
    assert image(db) == before


@pytest.mark.parametrize(
    ("row", "says"),
    [
        pytest.param(("2", "b"), "version '2' is not a positive integer", id="version-text"),
        pytest.param((2.0, "b"), "version 2.0 is not a positive integer", id="version-float"),
    ],
)
def test_values_sqlite_cannot_store_in_the_ledger_are_refused_too(
    row: tuple[object, str], says: str
) -> None:
    # version is the ledger's INTEGER PRIMARY KEY: a file can only hold an integer there,
    # and a table that could hold more is refused by the structure check (loose-types
    # above). The row check still refuses such values, should they ever arrive.
    rest = ("0" * 64, "2026-01-02T03:04:05.678Z", 1.0, __version__, 0)
    with pytest.raises(bootmigrate.LedgerError, match=re.escape(says)):
        ledger._applied((*row, *rest), "app.db")


def test_a_bool_duration_is_refused_though_sqlite_cannot_store_one() -> None:
    row = (2, "b", "0" * 64, "2026-01-02T03:04:05.678Z", True, __version__, 0)
    with pytest.raises(bootmigrate.LedgerError, match="execution_ms of version 2 is True"):
        ledger._applied(row, "app.db")
