"""bootmigrate.doctor and `bootmigrate doctor` on real files: each state of a database on
a user's machine gives its exact finding, and the database and every file beside it are
byte-for-byte (and modification-time) unchanged after the doctor ran."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import bootmigrate
from bootmigrate._db.backup import backups
from processes import cli_env, run_cli

FILES = {
    "0001_books.up.sql": (
        "CREATE TABLE author (id INTEGER PRIMARY KEY, name TEXT NOT NULL);\n"
        "CREATE TABLE book (id INTEGER PRIMARY KEY, "
        "author_id INTEGER REFERENCES author (id), title TEXT NOT NULL);\n"
        "CREATE INDEX book_title ON book (title);\n"
    ),
    "0002_book_year.up.sql": "ALTER TABLE book ADD COLUMN year INTEGER;\n",
}
NEWER = {**FILES, "0003_book_isbn.up.sql": "ALTER TABLE book ADD COLUMN isbn TEXT;\n"}


def folder_state(folder: Path) -> dict[str, tuple[bytes, int]]:
    """Every file in *folder*: its bytes and modification time (what 'unchanged' means)."""
    return {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(folder.iterdir())}


def fill(db: Path, books: int = 2000) -> None:
    conn = sqlite3.connect(db)
    try:
        with conn:
            conn.execute("INSERT INTO author (id, name) VALUES (1, 'Ann')")
            conn.executemany(
                "INSERT INTO book (author_id, title, year) VALUES (1, ?, 2000)",
                [(f"title {n} " + "x" * 200,) for n in range(books)],
            )
    finally:
        conn.close()


@pytest.fixture
def source(make_set_in: Callable[..., Path]) -> Path:
    return make_set_in(FILES)


@pytest.fixture
def data(tmp_path: Path) -> Path:
    """The folder the database lives in, with nothing else in it."""
    folder = tmp_path / "data"
    folder.mkdir()
    return folder


@pytest.fixture
def healthy_db(data: Path, source: Path) -> Path:
    db = data / "app.db"
    bootmigrate.migrate(db, source)
    fill(db)
    return db


def checked(db: Path, source: Path, **options: object) -> bootmigrate.Health:
    """Run the doctor and prove it changed nothing in the database's folder."""
    before = folder_state(db.parent)
    health = bootmigrate.doctor(db, source, **options)  # type: ignore[arg-type]
    assert folder_state(db.parent) == before
    return health


def only(health: bootmigrate.Health, code: str) -> bootmigrate.Finding:
    [finding] = [f for f in health.findings if f.code == code]
    return finding


def test_a_healthy_database_has_only_facts(healthy_db: Path, source: Path) -> None:
    health = checked(healthy_db, source)
    assert health.findings == ()
    assert health.healthy
    assert health.summary() == f"healthy: {healthy_db}"
    assert checked(healthy_db, source, full=True).findings == ()


def test_the_backups_present_are_listed(data: Path, make_set_in) -> None:
    db = data / "app.db"
    bootmigrate.migrate(db, make_set_in({"0001_books.up.sql": FILES["0001_books.up.sql"]}))
    source = make_set_in(FILES, subdir="all")
    bootmigrate.migrate(db, source, backup=True)
    [backup] = backups(db)
    health = checked(db, source)
    assert health.healthy
    assert [f.as_dict() for f in health.findings] == [
        {
            "code": "backup",
            "severity": "info",
            "message": f"backup at version 1: {backup}",
            "fix": f"`bootmigrate restore {backup}` puts it back in place of the database",
        }
    ]


def test_a_column_added_by_hand_is_schema_drift(healthy_db: Path, source: Path) -> None:
    conn = sqlite3.connect(healthy_db)
    conn.execute("ALTER TABLE book ADD COLUMN note TEXT")
    conn.close()
    health = checked(healthy_db, source)
    assert health.codes() == ["schema-drift"]
    drift = only(health, "schema-drift")
    assert drift.severity == "error"
    assert drift.message.startswith("the schema differs from the one version 2 should have in ")
    assert "note TEXT" in drift.message
    assert drift.fix == (
        "see the diff with `bootmigrate verify --schema`; undo the change, or make it a migration"
    )
    assert not health.healthy


def test_a_page_of_garbage_is_an_integrity_error(healthy_db: Path, source: Path) -> None:
    size = healthy_db.stat().st_size
    with open(healthy_db, "r+b") as file:
        file.seek(size // 2)
        file.write(b"\xa5\x5a" * 2048)
    for full, pragma in ((False, "quick_check"), (True, "integrity_check")):
        health = checked(healthy_db, source, full=full)
        assert health.codes() == ["integrity"]
        finding = only(health, "integrity")
        assert finding.severity == "error"
        assert finding.message.startswith(f"PRAGMA {pragma} found ")
        assert finding.fix.startswith("restore the newest backup (`bootmigrate restore`)")


def test_orphan_rows_are_counted_per_table(healthy_db: Path, source: Path) -> None:
    conn = sqlite3.connect(healthy_db)
    with conn:
        conn.execute("INSERT INTO book (author_id, title) VALUES (7, 'secret title')")
        conn.execute("INSERT INTO book (author_id, title) VALUES (8, 'secret title')")
    conn.close()
    health = checked(healthy_db, source)
    finding = only(health, "foreign-key")
    assert finding.message == "table 'book': 2 row(s) reference a row that does not exist"
    assert "secret" not in json.dumps(health.as_dict())


@pytest.mark.process
def test_a_hot_journal_is_reported_not_rolled_back(healthy_db: Path, source: Path) -> None:
    conn = sqlite3.connect(healthy_db)
    conn.execute("ALTER TABLE book ADD COLUMN note TEXT")
    conn.close()
    # A writer that changes every row with a tiny page cache (so changed pages spill into
    # the main file before the commit) and is SIGKILLed before it commits.
    writer = textwrap.dedent(
        f"""
        import os, signal, sqlite3
        conn = sqlite3.connect({str(healthy_db)!r}, isolation_level=None)
        conn.execute("PRAGMA cache_size = 2")
        conn.execute("BEGIN")
        conn.execute("UPDATE book SET title = 'changed ' || id || hex(randomblob(120))")
        os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    killed = subprocess.run([sys.executable, "-c", writer], check=False)
    assert killed.returncode == -9
    journal = healthy_db.with_name("app.db-journal")
    assert journal.read_bytes()[:1] not in (b"", b"\0")
    health = checked(healthy_db, source)
    # The other checks ran on a rolled-back copy: the state the app will see.
    assert health.codes() == ["hot-journal", "schema-drift"]
    finding = only(health, "hot-journal")
    assert finding.severity == "error"
    assert finding.message == (
        f"{healthy_db}-journal holds a write that did not finish (a hot journal): the file "
        "holds part of a transaction until it is rolled back"
    )
    # SQLite still rolls it back on the next ordinary open: the doctor lost nothing.
    conn = sqlite3.connect(healthy_db)
    assert conn.execute("SELECT count(*) FROM book WHERE title LIKE 'changed %'").fetchone() == (0,)
    conn.close()
    assert checked(healthy_db, source).codes() == ["schema-drift"]


@pytest.mark.process
def test_a_leftover_wal_is_checked_on_a_copy(healthy_db: Path, source: Path) -> None:
    conn = sqlite3.connect(healthy_db)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.close()
    writer = textwrap.dedent(
        f"""
        import os, signal, sqlite3
        conn = sqlite3.connect({str(healthy_db)!r})
        conn.execute("PRAGMA wal_autocheckpoint = 0")
        with conn:
            conn.execute("INSERT INTO book (author_id, title) VALUES (99, 'orphan')")
        os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    assert subprocess.run([sys.executable, "-c", writer], check=False).returncode == -9
    wal = healthy_db.with_name("app.db-wal")
    # The crash left the -shm too: reading the file would rebuild its index. Checked
    # on a copy, the -shm is byte-identical after the doctor ran.
    health = checked(healthy_db, source)
    assert health.codes() == ["foreign-key", "wal"]
    assert only(health, "wal").message == (
        f"{wal} holds {wal.stat().st_size} bytes of commits not yet copied into the "
        "database (normal while the app runs; checked on a copy)"
    )
    healthy_db.with_name("app.db-shm").unlink()
    health = checked(healthy_db, source)  # no -shm created either
    assert health.codes() == ["foreign-key", "leftover-wal"]  # worst first
    assert only(health, "leftover-wal").message == (
        f"{wal} holds {wal.stat().st_size} bytes of commits not yet copied into the database, "
        "and no connection has it open"
    )
    # The orphan row is in the -wal only: the copy read it.
    assert only(health, "foreign-key").message == (
        "table 'book': 1 row(s) reference a row that does not exist"
    )


HOLDER = """
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("PRAGMA journal_mode = " + sys.argv[2])
conn.execute("PRAGMA wal_autocheckpoint = 0")
conn.execute("PRAGMA locking_mode = EXCLUSIVE")
conn.execute("INSERT INTO book (author_id, title) VALUES (1, 'held')")
print("holding", flush=True)
sys.stdin.read()
"""


@pytest.fixture
def exclusive_app(healthy_db: Path) -> Iterator[Callable[[str], None]]:
    """Start an app that keeps the database in locking_mode=EXCLUSIVE (until the test ends)."""
    started: list[subprocess.Popen[str]] = []

    def start(journal_mode: str) -> None:
        app = subprocess.Popen(
            [sys.executable, "-c", HOLDER, str(healthy_db), journal_mode],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        started.append(app)
        assert app.stdout is not None and app.stdout.readline() == "holding\n"

    yield start
    for app in started:
        app.communicate("")  # end of input: the app closes its connection and exits


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="F_GETLK's layout: Linux only")
def test_a_wal_app_in_exclusive_mode_is_running_not_a_crash(
    healthy_db: Path, source: Path, exclusive_app: Callable[[str], None]
) -> None:
    exclusive_app("wal")
    wal = healthy_db.with_name("app.db-wal")
    assert wal.stat().st_size > 0 and not healthy_db.with_name("app.db-shm").exists()
    health = checked(healthy_db, source, timeout=0.2)
    assert health.codes() == ["wal"]
    assert health.healthy
    assert only(health, "wal").message == (
        f"{wal} holds {wal.stat().st_size} bytes of commits not yet copied into the database, "
        "and a connection of another process has it open in locking_mode=EXCLUSIVE (normal "
        "while the app runs; checked on a copy)"
    )


def test_a_rollback_app_in_exclusive_mode_is_busy_not_damage(
    healthy_db: Path, source: Path, exclusive_app: Callable[[str], None]
) -> None:
    exclusive_app("delete")
    health = checked(healthy_db, source, timeout=0.2)
    assert health.codes() == ["busy"]
    assert not health.healthy
    busy = only(health, "busy")
    assert busy.severity == "warning"
    assert busy.message.startswith(f"{healthy_db}: another connection kept the database locked")
    assert busy.fix == (
        "nothing was checked: run the doctor again once the program that has the database "
        "open is closed (an app in locking_mode=EXCLUSIVE holds it while it runs), or with "
        "a longer --timeout"
    )


def test_a_partial_backup_left_by_a_dead_process(healthy_db: Path, source: Path) -> None:
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    partial = healthy_db.with_name(f".app.db.{dead.stdout.strip()}.k3j_x.backup-partial")
    partial.write_bytes(b"SQLite format 3\0half")
    health = checked(healthy_db, source)
    finding = only(health, "partial-backup")
    assert finding.severity == "warning"
    assert finding.message == f"{partial} is a partial backup a stopped process left"
    assert not health.healthy
    assert partial.exists()


def test_a_database_migrated_by_a_newer_release(data: Path, source: Path, make_set_in) -> None:
    db = data / "app.db"
    bootmigrate.migrate(db, make_set_in(NEWER, subdir="newer"))
    health = checked(db, source)
    assert health.codes() == ["unknown-migration"]
    finding = only(health, "unknown-migration")
    assert finding.message == (
        "the database holds version(s) 3 that the migrations do not have: a newer release "
        "migrated it"
    )
    assert finding.fix == "run the newer release, or restore a backup taken before it"


def test_pending_migrations_are_a_fact_and_user_version_is_checked(
    data: Path, source: Path, make_set_in
) -> None:
    db = data / "app.db"
    bootmigrate.migrate(
        db, make_set_in({"0001_books.up.sql": FILES["0001_books.up.sql"]}, subdir="one")
    )
    health = checked(db, source)
    assert [f.as_dict() for f in health.findings] == [
        {
            "code": "pending",
            "severity": "info",
            "message": "1 migration(s) pending: 2",
            "fix": "the app applies them at its next start (or run `bootmigrate up`)",
        }
    ]
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA user_version = 9")
    conn.close()
    finding = only(checked(db, source), "user-version")
    assert finding.message == "PRAGMA user_version is 9 but the ledger's newest version is 1"


def test_a_missing_database(data: Path, source: Path) -> None:
    health = checked(data / "app.db", source)
    assert health.codes() == ["missing"]
    assert not (data / "app.db").exists()


def test_a_connection_is_refused(source: Path) -> None:
    conn = sqlite3.connect(":memory:")
    with pytest.raises(bootmigrate.UsageError, match="give its path"):
        bootmigrate.doctor(conn, source)  # type: ignore[arg-type]
    conn.close()


# -- the command ----------------------------------------------------------------------


def doctor_cli(db: Path, source: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_cli(
        ["--db", str(db), "--source", str(source), "doctor", *args],
        cwd=db.parent,
        env=cli_env(),
    )


def test_the_command_exits_0_when_healthy_and_prints_json(healthy_db: Path, source: Path) -> None:
    before = folder_state(healthy_db.parent)
    result = doctor_cli(healthy_db, source, "--json", "--full")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "doctor_format": 1,
        "database": str(healthy_db),
        "source": str(source),
        "full": True,
        "healthy": True,
        "findings": [],
    }
    assert folder_state(healthy_db.parent) == before


def test_the_command_exits_1_on_drift(healthy_db: Path, source: Path) -> None:
    conn = sqlite3.connect(healthy_db)
    conn.execute("ALTER TABLE book ADD COLUMN note TEXT")
    conn.close()
    before = folder_state(healthy_db.parent)
    result = doctor_cli(healthy_db, source)
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert lines[0].startswith("error: [schema-drift] the schema differs from the one version 2")
    assert lines[1] == (
        "  fix: see the diff with `bootmigrate verify --schema`; undo the change, or make it "
        "a migration"
    )
    assert lines[2] == f"not healthy: {healthy_db}: 1 error(s), 0 warning(s)"
    assert result.stderr == ""
    assert folder_state(healthy_db.parent) == before


def test_an_applied_migration_edited_since(healthy_db: Path, source: Path) -> None:
    (source / "0002_book_year.up.sql").write_text("ALTER TABLE book ADD COLUMN yr INTEGER;\n")
    health = checked(healthy_db, source)
    # The schema of a version whose file changed is unknown: no drift is claimed.
    assert health.codes() == ["modified-migration"]
    assert only(health, "modified-migration").message == (
        "applied migration(s) 2 changed since they ran"
    )


def test_a_file_that_is_not_a_database(data: Path, source: Path) -> None:
    db = data / "app.db"
    db.write_bytes(b"not sqlite at all, " * 300)
    health = checked(db, source)
    assert health.codes() == ["unreadable"]
    finding = only(health, "unreadable")
    assert str(db) in finding.message
    assert "\n" not in finding.message


def test_an_unfinished_no_transaction_step(data: Path, make_set_in: Callable[..., Path]) -> None:
    source = make_set_in(
        {
            **FILES,
            "0003_rebuild.up.sql": (
                "-- bootmigrate: no-transaction\n"
                "CREATE TABLE shelf (id INTEGER PRIMARY KEY);\n"
                "INSERT INTO no_such_table VALUES (1);\n"
            ),
        }
    )
    db = data / "app.db"
    with pytest.raises(bootmigrate.StatementError):
        bootmigrate.migrate(db, source)
    health = checked(db, source)
    # The table the step made before it failed is not called drift.
    assert health.codes() == ["unfinished-step", "pending"]
    finding = only(health, "unfinished-step")
    assert finding.severity == "warning"
    assert finding.message == (
        "the no-transaction step 3 (rebuild) began on an earlier run and was not recorded: "
        "the schema may hold part of it, so it was not compared"
    )
    assert finding.fix == "start the app (or run `bootmigrate up`): the next run retries it"


def test_a_sqlite_too_old_for_the_migrations_is_a_warning(
    healthy_db: Path, make_set_in: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    from bootmigrate._apply import floor

    source = make_set_in(
        {**FILES, "0003_slim.up.sql": "ALTER TABLE book DROP COLUMN title_sort;\n"},
        subdir="slim",
    )
    monkeypatch.setattr(floor, "running_sqlite", lambda db: ((3, 31, 1), frozenset()))
    health = checked(healthy_db, source)
    assert not health.healthy
    [finding] = [f for f in health.findings if f.code == "sqlite-too-old"]
    assert finding.as_dict() == {
        "code": "sqlite-too-old",
        "severity": "warning",
        "message": "'0003_slim.up.sql' line 1 uses ALTER TABLE ... DROP COLUMN, which needs "
        "SQLite 3.35.0, and this machine runs SQLite 3.31.1: a new database could not be "
        "built here, nor this one migrated past it",
        "fix": "ship the app with a newer SQLite (the pysqlite3-binary or sqlean.py package, "
        "or a newer Python), or write the migration without it",
    }
    # On this machine's own SQLite the same set is fine.
    monkeypatch.undo()
    assert "sqlite-too-old" not in checked(healthy_db, source).codes()
