"""Issue 10: the edge cases where bootmigrate broke its promises, one test per case.

Each test reproduces its numbered case on real database files, reopened through new
connections (or in new processes where the case needs one), and asserts the promise
that broke there. Every one of them failed before the fix (each was run against the
code before it). The backup, symlink, file mode and step lock cases (9-13) are in
tests/test_edges_backup.py.

Only the public API is used (``bootmigrate.*``), so the tests survive the restructuring
of ``src/bootmigrate``.
"""

from __future__ import annotations

import itertools
import math
import multiprocessing
import os
import re
import resource
import shutil
import signal
import sqlite3
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import bootmigrate
from dbfiles import make_set, read_db
from processes import run_cli

NO_TX = "-- bootmigrate: no-transaction\n"
SIDE_FILES = ("-journal", "-wal", "-shm")
BASE = {"0001_a.up.sql": "CREATE TABLE a (x);\nINSERT INTO a VALUES (1);\n"}
# 20,000 rows of about 50 bytes (a file of about 1 MB).
BIG_TABLE = (
    "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT);\n"
    "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 20000)\n"
    "INSERT INTO t SELECT i, printf('%.50c', 'a') FROM c;\n"
)
FAIL = "INSERT INTO nope VALUES (1);\n"


def image(db: Path) -> tuple[bytes, tuple[str, ...]]:
    """What "byte-identical" compares: the main file's bytes and which side files exist."""
    return db.read_bytes(), tuple(s for s in SIDE_FILES if Path(f"{db}{s}").exists())


def query(db: Path, sql: str) -> list[tuple[Any, ...]]:
    """Run one read-only statement through a new connection (which replays a hot journal)."""
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def said(info: pytest.ExceptionInfo[BaseException], tmp_path: Path) -> str:
    """The error's message without the test's directory, whose name holds the test's words."""
    return str(info.value).replace(str(tmp_path), "<tmp>")


def at_version(tmp_path: Path, files: dict[str, str], version: int | None) -> tuple[Path, Path]:
    """The source of *files* and a database migrated to *version* (None: not created)."""
    source = make_set(tmp_path, files)
    db = tmp_path / "app.db"
    if version is not None:
        bootmigrate.migrate(db, source, target=version)
    return source, db


def in_child(work: Callable[[], dict[str, Any]], deadline: float = 60) -> dict[str, Any] | None:
    """Run *work* in a forked process; what it returned, or the exception it raised.

    None when the child died without answering (it was killed).
    """
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)

    def child() -> None:
        try:
            result = work()
        except BaseException as exc:
            result = {
                "error": type(exc).__name__,
                "message": str(exc),
                "migration_error": isinstance(exc, bootmigrate.MigrationError),
            }
        sender.send(result)

    process = context.Process(target=child)
    process.start()
    sender.close()
    try:
        result: dict[str, Any] | None = receiver.recv() if receiver.poll(deadline) else None
    except EOFError:
        result = None
    process.join(deadline)
    if process.is_alive():
        process.kill()
        process.join()
        raise AssertionError(f"the child process did not finish within {deadline} s")
    return result


def drop_root() -> None:
    """In a forked child: become 'nobody', for whom file permissions count."""
    if os.geteuid() == 0:
        os.setgroups([])
        os.setgid(65534)
        os.setuid(65534)


@pytest.fixture
def shared_dir() -> Iterator[Path]:
    """A directory another user can enter (pytest's tmp_path is private to root)."""
    path = Path(tempfile.mkdtemp(prefix="bootmigrate-edges-"))
    path.chmod(0o755)
    try:
        yield path
    finally:
        for sub in [path, *path.rglob("*")]:
            if sub.is_dir() and not sub.is_symlink():
                sub.chmod(0o755)
        shutil.rmtree(path)


# -- 1. a byte-order mark hides transaction control ----------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "INSERT INTO a VALUES (1);\n\ufeffCOMMIT;\n" + FAIL,
        "INSERT INTO a VALUES (1);\n\ufeffROLLBACK;\nINSERT INTO a VALUES (2);\n" + FAIL,
    ],
    ids=["commit", "rollback"],
)
def test_01_a_bom_does_not_hide_transaction_control(tmp_path: Path, text: str) -> None:
    source, db = at_version(tmp_path, BASE, 1)
    make_set(tmp_path, {"0002_b.up.sql": text})  # released after the database reached 1
    before = image(db)
    with pytest.raises(bootmigrate.TransactionControlError) as info:
        bootmigrate.migrate(db, source)
    assert "0002_b.up.sql" in str(info.value) and "line 2" in str(info.value)
    assert image(db) == before


@pytest.mark.skipif(sys.version_info < (3, 12), reason="the whole-script path is 3.12+ only")
def test_01_a_bom_hidden_commit_in_a_big_script(tmp_path: Path) -> None:
    inserts = "".join(f"INSERT INTO a VALUES ({i});\n" for i in range(50_000))
    assert len(inserts) >= 1 << 20
    text = inserts + "\ufeffCOMMIT;\n" + FAIL
    source, db = at_version(tmp_path, BASE, 1)
    make_set(tmp_path, {"0002_b.up.sql": text})
    before = image(db)
    with pytest.raises(bootmigrate.TransactionControlError) as info:
        bootmigrate.migrate(db, source)
    assert "0002_b.up.sql" in str(info.value) and "line 50001" in str(info.value)
    assert image(db) == before


# -- 2. journal_mode OFF or MEMORY on a borrowed connection --------------------------

UPDATE_THEN_FAIL = (
    "UPDATE t SET v = printf('%.80c', 'b');\nDELETE FROM t WHERE id % 3 = 0;\n" + FAIL
)


@pytest.mark.parametrize(
    "mode",
    [
        pytest.param("off"),
        "memory",  # rolls back in-process today; the kill test below shows its hole
    ],
)
def test_02_a_failed_run_without_a_safe_journal_changes_nothing(tmp_path: Path, mode: str) -> None:
    source, db = at_version(
        tmp_path, {"0001_t.up.sql": BIG_TABLE, "0002_f.up.sql": UPDATE_THEN_FAIL}, 1
    )
    before = image(db)
    conn = sqlite3.connect(db)
    conn.execute(f"PRAGMA journal_mode = {mode}")
    with pytest.raises(bootmigrate.MigrationError):
        bootmigrate.migrate(conn, source)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == mode
    conn.close()
    assert image(db) == before
    assert query(db, "PRAGMA integrity_check") == [("ok",)]


@pytest.mark.parametrize("mode", ["off", "memory"])
def test_02_a_successful_run_on_such_a_connection_gives_the_mode_back(
    tmp_path: Path, mode: str
) -> None:
    source, db = at_version(
        tmp_path, {"0001_t.up.sql": BIG_TABLE, "0002_u.up.sql": "UPDATE t SET v = 'b';\n"}, 1
    )
    conn = sqlite3.connect(db)
    conn.execute(f"PRAGMA journal_mode = {mode}")
    assert bootmigrate.migrate(conn, source).to_version == 2
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == mode
    conn.close()
    assert query(db, "SELECT DISTINCT v FROM t") == [("b",)]
    assert query(db, "PRAGMA integrity_check") == [("ok",)]


@pytest.mark.process
@pytest.mark.parametrize("mode", ["off", "memory"])
def test_02_a_run_killed_mid_update_on_such_a_connection_is_undone(
    tmp_path: Path, mode: str
) -> None:
    files = {
        "0001_t.up.sql": BIG_TABLE.replace("printf('%.50c', 'a')", "'old'"),
        "0002_u.up.sql": "UPDATE t SET v = tick(v);\n",
    }
    source, db = at_version(tmp_path, files, 1)
    before = image(db)

    def work() -> dict[str, Any]:
        conn = sqlite3.connect(db)
        conn.execute(f"PRAGMA journal_mode = {mode}")
        conn.execute("PRAGMA cache_size = 10")  # changed pages spill to the file
        calls = itertools.count(1)

        def tick(value: str) -> str:
            if next(calls) == 15_000:  # three quarters through the UPDATE: the power goes
                os.kill(os.getpid(), signal.SIGKILL)
            return "new"

        conn.create_function("tick", 1, tick)
        bootmigrate.migrate(conn, source)
        return {"state": "finished"}

    assert in_child(work) is None  # killed
    assert query(db, "PRAGMA integrity_check") == [("ok",)]  # replays a hot journal, if any
    assert query(db, "SELECT v, COUNT(*) FROM t GROUP BY v") == [("old", 20000)]
    assert db.read_bytes() == before[0]


class KeepsItsJournal(sqlite3.Connection):
    """An app's connection on which SQLite will not leave its journal mode (as it answers
    when it refuses a switch: with the mode it kept)."""

    def execute(self, sql: str, *args: Any) -> sqlite3.Cursor:
        if sql.lower().replace(" ", "").startswith("pragmajournal_mode="):
            return super().execute("PRAGMA journal_mode")
        return super().execute(sql, *args)


def test_02_a_connection_that_keeps_an_unsafe_journal_is_refused(tmp_path: Path) -> None:
    source, db = at_version(
        tmp_path, {"0001_t.up.sql": BIG_TABLE, "0002_u.up.sql": "UPDATE t SET v = 'b';\n"}, 1
    )
    before = image(db)
    conn = sqlite3.connect(db, factory=KeepsItsJournal)
    conn.cursor().execute("PRAGMA journal_mode = OFF")  # the app's set-up, not refused
    busy = conn.execute("PRAGMA busy_timeout").fetchone()[0]
    with pytest.raises(bootmigrate.UsageError) as info:
        bootmigrate.migrate(conn, source)
    assert str(info.value) == (
        "the connection uses PRAGMA journal_mode = off, in which a failed migration cannot "
        "be rolled back, and it could not be switched to delete; migrate before setting it"
    )
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "off"
    assert conn.execute("PRAGMA busy_timeout").fetchone()[0] == busy
    conn.close()
    assert image(db) == before
    assert query(db, "SELECT MAX(version) FROM bootmigrate_ledger") == [(1,)]


# -- 3. a real write failure (EFBIG) in rollback-journal mode ------------------------


@pytest.mark.process
@pytest.mark.parametrize("headroom", [100_000, 3_000_000], ids=["100k", "3M"])
def test_03_a_failed_write_is_disk_full_and_changes_nothing(tmp_path: Path, headroom: int) -> None:
    files = {
        "0001_t.up.sql": BIG_TABLE.replace("20000", "10000").replace("%.50c", "%.80c"),
        "0002_big.up.sql": (
            "UPDATE t SET v = printf('%.90c', 'b');\nCREATE TABLE big (v);\n"
            "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 8000)\n"
            "INSERT INTO big SELECT printf('%.500c', 'x') FROM c;\n"
        ),
    }
    source, db = at_version(tmp_path, files, 1)
    before = image(db)
    limit = len(before[0]) + headroom  # the file may grow by this much, then writes fail

    def work() -> dict[str, Any]:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG instead of a signal
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
        return {"state": bootmigrate.migrate(db, source).state}

    result = in_child(work)
    assert result is not None and result.get("error") == "DiskFull", result
    assert image(db) == before  # no hot -journal left beside it, the main file as it was
    assert bootmigrate.status(db, source).current == 1


# -- 4. a transactional failure after a committed no-transaction step ----------------

VACUUM_THEN_FAIL = {
    "0001_a.up.sql": BASE["0001_a.up.sql"],
    "0002_vacuum.up.sql": NO_TX + "VACUUM;\n",
    "0003_bad.up.sql": "CREATE TABLE c (x);\n" + FAIL,
}


def _keep_db(db: Path) -> None:
    """A database with the app's own data and no ledger yet."""
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE keep (k TEXT)")
    conn.execute("INSERT INTO keep VALUES ('kept')")
    conn.commit()
    conn.close()


def test_04_a_failure_after_a_committed_step_states_the_version(tmp_path: Path) -> None:
    source, db = at_version(tmp_path, VACUUM_THEN_FAIL, None)
    _keep_db(db)
    with pytest.raises(bootmigrate.StatementError) as info:
        bootmigrate.migrate(db, source)
    message = said(info, tmp_path)
    assert "unchanged" not in message
    assert re.search(r"\bversion 2\b", message), message
    assert bootmigrate.status(db, source).current == 2


def test_04_with_a_backup_the_database_is_put_back(tmp_path: Path) -> None:
    source, db = at_version(tmp_path, VACUUM_THEN_FAIL, None)
    _keep_db(db)
    before = read_db(db)
    with pytest.raises(bootmigrate.StatementError) as info:
        bootmigrate.migrate(db, source, backup=True)
    assert "restored" in said(info, tmp_path)
    assert read_db(db) == before
    assert bootmigrate.status(db, source).current is None


# -- 5. a failed no-transaction step that changed only the header ---------------------


def _header(db: Path) -> tuple[Any, ...]:
    return tuple(
        query(db, f"PRAGMA {name}")[0][0]
        for name in ("user_version", "application_id", "journal_mode")
    )


@pytest.mark.parametrize(
    "pragma",
    ["PRAGMA user_version = 77;", "PRAGMA application_id = 5;", "PRAGMA journal_mode = WAL;"],
    ids=["user_version", "application_id", "journal_mode"],
)
def test_05_a_step_that_changed_only_the_header_is_put_back(tmp_path: Path, pragma: str) -> None:
    source, db = at_version(tmp_path, {**BASE, "0002_h.up.sql": NO_TX + pragma + "\n" + FAIL}, 1)
    header, before = _header(db), read_db(db)
    with pytest.raises(bootmigrate.StatementError) as info:
        bootmigrate.migrate(db, source, backup=True)
    message = said(info, tmp_path)
    assert "none of its statements took effect" not in message
    assert "restored" in message
    assert _header(db) == header == (1, 0, "delete")
    assert read_db(db) == before


def test_05_disk_full_in_a_step_says_the_state_it_left(tmp_path: Path) -> None:
    step = NO_TX + (
        "CREATE TABLE big (v);\n"
        "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 5000)\n"
        "INSERT INTO big SELECT printf('%.500c', 'x') FROM c;\n"
    )
    source, db = at_version(tmp_path, {**BASE, "0002_big.up.sql": step}, 1)
    conn = sqlite3.connect(db)
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    conn.execute(f"PRAGMA max_page_count = {pages + 10}")  # the disk fills up in the step
    with pytest.raises(bootmigrate.DiskFull) as info:
        bootmigrate.migrate(conn, source)
    conn.close()
    message = said(info, tmp_path)
    assert "big" in read_db(db).tables  # the step's CREATE TABLE took effect
    assert "unchanged" not in message
    assert re.search(r"\bversion 1\b", message), message
    assert bootmigrate.status(db, source).current == 1


# -- 6. a no-transaction step that commits orphans -----------------------------------

FAMILY = (
    "CREATE TABLE parent (id INTEGER PRIMARY KEY);\n"
    "CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parent (id));\n"
    "INSERT INTO parent VALUES (1), (2);\n"
    "INSERT INTO child (parent_id) VALUES (1), (2), (2);\n"
)


def test_06_a_step_that_committed_orphans_is_refused_at_every_boot(tmp_path: Path) -> None:
    files = {
        "0001_family.up.sql": FAMILY,
        "0002_orphans.up.sql": NO_TX + "DELETE FROM parent WHERE id = 2;\n",
    }
    source, db = at_version(tmp_path, files, 1)
    with pytest.raises(bootmigrate.ForeignKeyViolation):
        bootmigrate.migrate(db, source)
    with pytest.raises(bootmigrate.MigrationError):
        bootmigrate.migrate(db, source)  # the next boot, a new connection
    assert read_db(db).versions == (1,)


# -- 7. a Baseline callback that commits ---------------------------------------------


@pytest.mark.parametrize("where", ["detect", "repair"])
def test_07_a_baseline_callback_that_commits_cannot_commit_the_run(
    tmp_path: Path, where: str
) -> None:
    files = {
        "0001_notes.up.sql": "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT);\n",
        "0002_bad.up.sql": "CREATE TABLE x (a);\n" + FAIL,
    }
    source, db = at_version(tmp_path, files, None)
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE app_version (v INTEGER)")
    conn.execute("INSERT INTO app_version VALUES (1)")
    conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
    conn.commit()
    conn.close()
    before = image(db)

    def detect(conn: sqlite3.Connection) -> int | None:
        if where == "detect":
            conn.commit()
        return int(conn.execute("SELECT MAX(v) FROM app_version").fetchone()[0])

    def repair(conn: sqlite3.Connection, claimed: int) -> tuple[int, list[str]]:
        if where == "repair":
            conn.commit()
        return claimed, []

    baseline = bootmigrate.Baseline(detect, highest=1, repair=repair)
    with pytest.raises(bootmigrate.MigrationError):
        bootmigrate.migrate(db, source, baseline=baseline)
    assert image(db) == before


# -- 8. a package whose wheel lost its .sql files ------------------------------------


@pytest.mark.parametrize("existing", [False, True], ids=["new-database", "existing-database"])
def test_08_a_package_without_its_sql_files_is_a_source_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, existing: bool
) -> None:
    package = f"edges_lost_sql_{'old' if existing else 'new'}"
    folder = tmp_path / "site" / package / "migrations"
    folder.mkdir(parents=True)
    (folder.parent / "__init__.py").write_text("")
    (folder / "__init__.py").write_text("")  # the package data was left out of the wheel
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    db = tmp_path / "app.db"
    if existing:
        bootmigrate.migrate(db, make_set(tmp_path, BASE))
    before = image(db) if existing else None
    try:
        with pytest.raises(bootmigrate.SourceError) as info:
            bootmigrate.migrate(db, f"{package}:migrations")
    finally:
        for name in [m for m in sys.modules if m.startswith(package)]:
            del sys.modules[name]
    message = said(info, tmp_path)
    assert f"{package}:migrations" in message and "package data" in message
    if existing:
        assert image(db) == before
    else:
        assert not db.exists()


# -- 14. SQL stored in the database runs during migrate() -----------------------------


def test_14_a_trigger_on_the_ledger_is_refused_before_anything_runs(tmp_path: Path) -> None:
    source, db = at_version(tmp_path, {**BASE, "0002_b.up.sql": "CREATE TABLE b (x);\n"}, 1)
    conn = sqlite3.connect(db)
    conn.executescript(
        "CREATE TABLE spy (v);\n"
        "CREATE TRIGGER spy_ledger AFTER INSERT ON bootmigrate_ledger\n"
        "BEGIN INSERT INTO spy VALUES (NEW.name); END;\n"
    )
    conn.close()
    before = image(db)
    with pytest.raises(bootmigrate.MigrationError) as info:
        bootmigrate.migrate(db, source)
    assert "spy_ledger" in said(info, tmp_path)
    assert image(db) == before
    assert read_db(db).rows["spy"] == ()


def test_14_a_planted_trigger_never_calls_the_apps_functions(tmp_path: Path) -> None:
    source, db = at_version(tmp_path, {**BASE, "0002_b.up.sql": "CREATE TABLE b (x);\n"}, 1)
    conn = sqlite3.connect(db)
    conn.executescript(
        "CREATE TRIGGER ledger_leak AFTER INSERT ON bootmigrate_ledger\n"
        "BEGIN SELECT leak(NEW.name); END;\n"
    )
    conn.close()
    before = image(db)
    calls: list[Any] = []
    app = sqlite3.connect(db)
    app.create_function("leak", 1, calls.append)
    with pytest.raises(bootmigrate.MigrationError) as info:
        bootmigrate.migrate(app, source)
    app.close()
    assert "ledger_leak" in said(info, tmp_path)
    assert calls == []
    assert image(db) == before


# -- 15. migrations that edit the runner's own tables --------------------------------


@pytest.mark.parametrize(
    "sql",
    [
        "DELETE FROM bootmigrate_ledger;",
        "DROP TABLE bootmigrate_meta;",
        "UPDATE bootmigrate_ledger SET name = 'renamed';",
        "CREATE TRIGGER mine AFTER INSERT ON bootmigrate_ledger BEGIN SELECT 1; END;",
    ],
    ids=["delete-ledger", "drop-meta", "update-ledger", "trigger-on-ledger"],
)
def test_15_a_migration_cannot_edit_the_runners_tables(tmp_path: Path, sql: str) -> None:
    source, db = at_version(tmp_path, {**BASE, "0002_b.up.sql": f"CREATE TABLE b (x);\n{sql}\n"}, 1)
    before = image(db)
    with pytest.raises(bootmigrate.StatementError) as info:
        bootmigrate.migrate(db, source)
    assert "0002_b.up.sql" in str(info.value)
    assert image(db) == before


# -- 16. an up-to-date WAL database in a read-only folder -----------------------------


@pytest.mark.process
@pytest.mark.parametrize("db_mode", [0o444, 0o644], ids=["db-0444", "db-0644"])
@pytest.mark.parametrize(
    "side_files",
    [
        pytest.param(False, id="closed-cleanly"),
        pytest.param(True, id="wal-and-shm-present"),  # works today
    ],
)
def test_16_an_up_to_date_wal_database_in_a_read_only_folder_boots(
    shared_dir: Path, side_files: bool, db_mode: int
) -> None:
    source = make_set(shared_dir, BASE)
    data = shared_dir / "data"
    data.mkdir()
    db = data / "app.db"
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.close()
    bootmigrate.migrate(db, source)
    holder = None
    if side_files:  # another instance of the app has it open: -wal and -shm stay
        holder = sqlite3.connect(db)
        holder.execute("PRAGMA wal_autocheckpoint = 0")
        holder.execute("INSERT INTO a VALUES (2)")
        holder.commit()
    assert sorted(p.name for p in data.iterdir()) == (
        ["app.db", "app.db-shm", "app.db-wal"] if side_files else ["app.db"]
    )
    for path in data.iterdir():
        path.chmod(db_mode)
    data.chmod(0o555)

    def work() -> dict[str, Any]:
        drop_root()
        state = bootmigrate.migrate(db, source).state
        return {"state": state, "current": bootmigrate.status(db, source).current}

    try:
        result = in_child(work)
    finally:
        if holder is not None:
            holder.close()
    assert result == {"state": "up-to-date", "current": 1}


# -- 17. status() after a crash -------------------------------------------------------


@pytest.mark.process
def test_17_status_after_a_crash_reports_the_last_committed_version(tmp_path: Path) -> None:
    files = {
        "0001_t.up.sql": BIG_TABLE.replace("20000", "5000"),
        "0002_b.up.sql": "CREATE TABLE b (x);\n",
    }
    source, db = at_version(tmp_path, files, 1)

    def work() -> dict[str, Any]:
        conn = sqlite3.connect(db, isolation_level=None)
        conn.execute("PRAGMA cache_size = 5")  # changed pages spill into the main file
        conn.execute("BEGIN")
        conn.execute(
            "INSERT INTO bootmigrate_ledger SELECT 2, 'b', checksum, applied_at, 0, "
            "bootmigrate_version, 0 FROM bootmigrate_ledger WHERE version = 1"
        )
        conn.execute("UPDATE t SET v = printf('%.60c', 'b')")
        os.kill(os.getpid(), signal.SIGKILL)
        return {}

    assert in_child(work) is None
    assert Path(f"{db}-journal").exists()
    # The main file holds the uncommitted ledger row: only the hot journal undoes it.
    raw = sqlite3.connect(f"{db.resolve().as_uri()}?immutable=1", uri=True)
    assert raw.execute("SELECT MAX(version) FROM bootmigrate_ledger").fetchone() == (2,)
    raw.close()
    status = bootmigrate.status(db, source)
    assert (status.current, status.pending) == (1, (2,))


# -- 18. damaged ledger values --------------------------------------------------------

LOOSE_LEDGER = (
    "CREATE TABLE loose (version, name, checksum, applied_at, execution_ms, "
    "bootmigrate_version, backward_compatible)",
    "INSERT INTO loose SELECT * FROM bootmigrate_ledger",
    "DROP TABLE bootmigrate_ledger",
    "ALTER TABLE loose RENAME TO bootmigrate_ledger",
)
DAMAGE = {
    "meta-x": ("UPDATE bootmigrate_meta SET value = 'x'",),
    "meta-1.0": ("UPDATE bootmigrate_meta SET value = '1.0'",),
    "execution_ms-abc": ("UPDATE bootmigrate_ledger SET execution_ms = 'abc'",),
    # The columns are NOT NULL, and version is the rowid: a table made by hand without them.
    "execution_ms-null": (*LOOSE_LEDGER, "UPDATE bootmigrate_ledger SET execution_ms = NULL"),
    "name-null": (*LOOSE_LEDGER, "UPDATE bootmigrate_ledger SET name = NULL"),
    "version-text": (*LOOSE_LEDGER, "UPDATE bootmigrate_ledger SET version = '0001x'"),
}


@pytest.mark.process
@pytest.mark.parametrize("damage", list(DAMAGE))
def test_18_a_damaged_ledger_is_a_ledger_error(tmp_path: Path, damage: str) -> None:
    source, db = at_version(tmp_path, {**BASE, "0002_b.up.sql": "CREATE TABLE b (x);\n"}, 1)
    conn = sqlite3.connect(db)
    for statement in DAMAGE[damage]:
        conn.execute(statement)
    conn.commit()
    conn.close()
    before = image(db)
    with pytest.raises(bootmigrate.LedgerError):
        bootmigrate.migrate(db, source)
    assert image(db) == before
    with pytest.raises(bootmigrate.LedgerError):
        bootmigrate.status(db, source)
    done = run_cli(["--db", db, "--source", source, "status"])
    assert done.returncode == 1, done
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1


# -- 19. a newer ledger format without a ledger table ---------------------------------


def test_19_a_newer_ledger_format_is_refused_at_the_first_boot(tmp_path: Path) -> None:
    source, db = at_version(tmp_path, BASE, None)
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE bootmigrate_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    conn.execute("INSERT INTO bootmigrate_meta VALUES ('ledger_format', '7')")
    conn.commit()
    conn.close()
    before = image(db)
    with pytest.raises(bootmigrate.LedgerError, match="upgrade bootmigrate"):
        bootmigrate.migrate(db, source)
    assert image(db) == before


# -- 20. long string literals and trigger bodies (correctness; linear time is tested elsewhere)


def test_20_semicolons_in_a_long_literal_and_a_long_trigger_body(tmp_path: Path) -> None:
    literal = ("abcdefghijklm;" * 22_000)[: 300 * 1024]  # 300 KiB, 21,942 semicolons
    assert literal.count(";") > 20_000
    body = "".join(f"  INSERT INTO log VALUES ({i});\n" for i in range(2000))
    files = {
        "0001_log.up.sql": "CREATE TABLE big (v TEXT);\nCREATE TABLE log (n INTEGER);\n",
        "0002_trigger.up.sql": f"CREATE TRIGGER big_log AFTER INSERT ON big\nBEGIN\n{body}END;\n",
        "0003_literal.up.sql": f"INSERT INTO big VALUES ('{literal}');\n",
    }
    migrations = bootmigrate.load(make_set(tmp_path, files))
    db = tmp_path / "app.db"
    assert bootmigrate.migrate(db, migrations).to_version == 3
    assert query(db, "SELECT v FROM big") == [(literal,)]
    assert query(db, "SELECT COUNT(*), SUM(n) FROM log") == [(2000, sum(range(2000)))]


# -- 21. wrong words ------------------------------------------------------------------

LOCKED_FILES = {
    "0001_a.up.sql": BIG_TABLE.replace("20000", "3000"),
    "0002_b.up.sql": "CREATE TABLE b (x);\nINSERT INTO b SELECT v FROM t;\n",
}


def test_21a_status_says_the_timeout_it_waited(tmp_path: Path) -> None:
    source, db = at_version(tmp_path, LOCKED_FILES, 1)
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(bootmigrate.DatabaseBusy, match=r"\b0\.2 s\b"):
            bootmigrate.status(db, source, timeout=0.2)
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def test_21b_an_open_reader_is_not_called_a_writer(tmp_path: Path) -> None:
    source, db = at_version(tmp_path, LOCKED_FILES, 1)
    before = image(db)
    reader = sqlite3.connect(db)
    cursor = reader.execute("SELECT id FROM t")
    cursor.fetchone()  # an unfinished SELECT keeps a SHARED lock: COMMIT cannot happen
    try:
        with pytest.raises(bootmigrate.DatabaseBusy) as info:
            bootmigrate.migrate(db, source, timeout=0.2)
    finally:
        cursor.close()
        reader.close()
    message = said(info, tmp_path)
    assert "held the write lock" not in message
    assert re.search(r"\bread(ing|er|s)?\b|kept the database locked", message), message
    assert image(db) == before


@pytest.mark.parametrize("call", ["status", "migrate"])
def test_21c_a_directory_as_the_database_is_called_one(tmp_path: Path, call: str) -> None:
    source = make_set(tmp_path, BASE)
    directory = tmp_path / "app.db"
    directory.mkdir()
    with pytest.raises(bootmigrate.DatabaseUnavailable) as info:
        getattr(bootmigrate, call)(directory, source)
    message = said(info, tmp_path)
    assert "directory" in message and "disk may be full" not in message
    assert list(directory.iterdir()) == []


def test_21d_query_only_is_called_query_only(tmp_path: Path) -> None:
    source, db = at_version(tmp_path, LOCKED_FILES, 1)
    before = image(db)
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA query_only = ON")
    with pytest.raises(bootmigrate.MigrationError) as info:
        bootmigrate.migrate(conn, source)
    conn.close()
    message = said(info, tmp_path)
    assert "query_only" in message and "check the permissions" not in message
    assert image(db) == before


def test_21e_dropping_the_ledger_names_the_migration(tmp_path: Path) -> None:
    files = {**BASE, "0002_drop.up.sql": "CREATE TABLE b (x);\nDROP TABLE bootmigrate_ledger;\n"}
    source, db = at_version(tmp_path, files, 1)
    before = image(db)
    with pytest.raises(bootmigrate.MigrationError) as info:
        bootmigrate.migrate(db, source)
    assert "0002_drop.up.sql" in said(info, tmp_path)
    assert image(db) == before


def test_21f_an_orphan_fixture_is_called_a_fixture(tmp_path: Path) -> None:
    files = {**BASE, "0003_x.fixture.sql": "INSERT INTO a VALUES (3);\n"}
    with pytest.raises(bootmigrate.SourceError) as info:
        bootmigrate.load(make_set(tmp_path, files))
    message = said(info, tmp_path)
    assert "0003_x.fixture.sql" in message and "fixture" in message.replace("0003_x.fixture", "")
    assert "down file" not in message


@pytest.mark.parametrize("word", ["whatever", "no-transaction"])
def test_21g_directive_text_inside_a_string_literal_is_data(tmp_path: Path, word: str) -> None:
    text = f"\n-- bootmigrate: {word}\n"
    files = {"0001_t.up.sql": f"CREATE TABLE t (v TEXT);\nINSERT INTO t VALUES ('{text}');\n"}
    source = make_set(tmp_path, files)
    (migration,) = bootmigrate.load(source)
    assert migration.transactional
    db = tmp_path / "app.db"
    bootmigrate.migrate(db, source)
    assert query(db, "SELECT v FROM t") == [(text,)]


def test_21h_a_name_with_a_trailing_space_is_an_invalid_file_name(tmp_path: Path) -> None:
    source, db = at_version(tmp_path, {**BASE, "0002_b.up.sql ": "CREATE TABLE b (x);\n"}, None)
    with pytest.raises(bootmigrate.InvalidFileName) as info:
        bootmigrate.migrate(db, source)
    assert "0002_b.up.sql " in said(info, tmp_path)
    assert not db.exists()


def test_21i_downgrade_of_a_missing_file_creates_nothing(tmp_path: Path) -> None:
    source, db = at_version(tmp_path, BASE, None)
    with pytest.raises(bootmigrate.MigrationError):
        bootmigrate.downgrade(db, source, 0)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["migrations"]


def test_21j_a_bytes_path_works_or_is_a_usage_error(tmp_path: Path) -> None:
    source, db = at_version(tmp_path, BASE, None)
    try:
        report = bootmigrate.migrate(os.fsencode(db), source)  # type: ignore[arg-type]
    except bootmigrate.UsageError:
        assert not db.exists()
    else:
        assert report.to_version == 1 and read_db(db).versions == (1,)


def test_21k_a_closed_connection_is_a_usage_error(tmp_path: Path) -> None:
    source, db = at_version(tmp_path, BASE, None)
    conn = sqlite3.connect(db)
    conn.close()
    with pytest.raises(bootmigrate.UsageError):
        bootmigrate.migrate(conn, source)


@pytest.mark.parametrize(
    "borrowed",
    [
        pytest.param(False, id="path"),  # works today
        pytest.param(True, id="connection"),
    ],
)
def test_21l_an_infinite_timeout_works_or_is_a_usage_error(tmp_path: Path, borrowed: bool) -> None:
    source, db = at_version(tmp_path, BASE, None)
    conn = sqlite3.connect(db) if borrowed else None
    try:
        report = bootmigrate.migrate(conn or db, source, timeout=math.inf)
    except bootmigrate.UsageError:
        assert not db.exists() or read_db(db).versions == ()
    else:
        assert report.to_version == 1
    finally:
        if conn is not None:
            conn.close()


def test_21m_a_detect_returning_a_string_is_a_usage_error(tmp_path: Path) -> None:
    source, db = at_version(tmp_path, BASE, None)
    _keep_db(db)
    before = image(db)
    baseline = bootmigrate.Baseline(lambda conn: "3", highest=5)  # type: ignore[arg-type,return-value]
    with pytest.raises(bootmigrate.UsageError) as info:
        bootmigrate.migrate(db, source, baseline=baseline)
    assert "detect" in said(info, tmp_path)
    assert image(db) == before


# -- 22. additive_repair and the app's SQL functions ---------------------------------


def _normalize(value: object) -> str | None:
    return None if value is None else " ".join(str(value).split()).lower()


def _register(conn: sqlite3.Connection) -> None:
    conn.create_function("normalize", 1, _normalize, deterministic=True)


def test_22_additive_repair_runs_the_files_with_the_apps_functions(tmp_path: Path) -> None:
    files = {
        "0001_notes.up.sql": (
            "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL, key TEXT);\n"
            "CREATE INDEX notes_by_normal_body ON notes (normalize(body));\n"
        ),
        "0002_tags.up.sql": "CREATE TABLE tags (note_id INTEGER, tag TEXT);\n",
    }
    source, db = at_version(tmp_path, files, None)
    legacy = sqlite3.connect(db)
    legacy.execute("CREATE TABLE schema_version (version INTEGER)")
    legacy.execute("INSERT INTO schema_version VALUES (1)")
    legacy.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL)")
    legacy.execute("INSERT INTO notes (body) VALUES ('  Hello   World ')")
    legacy.commit()
    legacy.close()

    def detect(conn: sqlite3.Connection) -> int | None:
        if not conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'schema_version'").fetchone():
            return None
        return int(conn.execute("SELECT MAX(version) FROM schema_version").fetchone()[0])

    repair = bootmigrate.additive_repair(source, through=1, prepare=_register)
    app = sqlite3.connect(db)
    _register(app)
    try:
        report = bootmigrate.migrate(
            app, source, baseline=bootmigrate.Baseline(detect, highest=1, repair=repair)
        )
        assert app.execute("SELECT id FROM notes WHERE normalize(body) = 'hello world'").fetchall()
    finally:
        app.close()
    assert report.adoption is not None and report.adoption.version == 1
    assert report.to_version == 2
    assert {"notes_by_normal_body", "tags"} <= {name for _, name, _, _ in read_db(db).schema}


# -- 23. restores leave the failed step's side effects -------------------------------


@pytest.mark.parametrize("borrowed", [False, True], ids=["path", "connection"])
def test_23a_the_journal_mode_comes_back_with_the_restore(tmp_path: Path, borrowed: bool) -> None:
    step = NO_TX + "PRAGMA journal_mode = WAL;\nCREATE TABLE w (x);\n" + FAIL
    source, db = at_version(tmp_path, {**BASE, "0002_wal.up.sql": step}, 1)
    before = read_db(db)
    conn = sqlite3.connect(db) if borrowed else None
    with pytest.raises(bootmigrate.StatementError) as info:
        bootmigrate.migrate(conn or db, source, backup=True)
    assert "restored" in said(info, tmp_path)
    if conn is not None:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
        conn.close()
    assert query(db, "PRAGMA journal_mode") == [("delete",)]
    assert read_db(db) == before


@pytest.mark.parametrize(
    "files",
    [
        {
            "0002_s.up.sql": NO_TX
            + "ATTACH DATABASE ':memory:' AS scratch;\nCREATE TEMP TABLE t_tmp (x);\n"
            + "CREATE TABLE scratch.s (x);\n"
            + FAIL
        },
        {
            "0002_s.up.sql": NO_TX + "ATTACH DATABASE ':memory:' AS scratch;\n",
            "0003_t.up.sql": "CREATE TEMP TABLE t_tmp (x);\nCREATE TABLE scratch.s (x);\n" + FAIL,
        },
    ],
    ids=["in-the-failed-step", "step-then-failed-batch"],
)
def test_23b_attached_and_temp_objects_do_not_stay(tmp_path: Path, files: dict[str, str]) -> None:
    source, db = at_version(tmp_path, {**BASE, **files}, 1)
    conn = sqlite3.connect(db)
    assert [row[1] for row in conn.execute("PRAGMA database_list")] == ["main"]
    with pytest.raises(bootmigrate.StatementError):
        bootmigrate.migrate(conn, source)
    names = {row[1] for row in conn.execute("PRAGMA database_list")}
    temp = conn.execute("SELECT name FROM temp.sqlite_master").fetchall()
    conn.close()
    assert names - {"temp"} == {"main"}
    assert temp == []
