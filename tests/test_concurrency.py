"""Several processes booting on one database at once, and a writer that holds the lock.

Every process is a real ``python`` process (tests/support/worker_boot.py) released at the same
moment by a barrier file; SQLite's own locks decide who migrates.
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import bootmigrate
from dbfiles import make_set, numbered_set, read_db
from processes import finish, rounds, run, start, wait_for

# Every test here starts worker processes.
pytestmark = pytest.mark.process

PROCESSES = 8
BEHIND = 20
BASE = 5


@pytest.fixture(scope="module")
def migrations(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_set(tmp_path_factory.mktemp("concurrency"), numbered_set(BASE + BEHIND))


def _template(directory: Path, migrations: Path, journal_mode: str) -> Path:
    """A database at version BASE (20 migrations behind) in the given journal mode."""
    path = directory / f"template-{journal_mode}.db"
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute(f"PRAGMA journal_mode = {journal_mode}")
    bootmigrate.migrate(conn, migrations, target=BASE)
    conn.close()
    return path


def _boot_together(db: Path, migrations: Path, work: Path) -> list[tuple[int, dict[str, Any]]]:
    """Start PROCESSES boots on *db*, release them at once, and collect their results."""
    go = work / "go"
    workers = []
    for i in range(PROCESSES):
        ready = work / f"ready{i}"
        # Half migrate a path, half a connection they opened, as apps do.
        extra = ["--connection"] if i % 2 else []
        workers.append(
            (start("boot", [db, migrations, "--ready", ready, "--go", go, *extra]), ready)
        )
    for process, ready in workers:
        wait_for(ready, process)
    go.touch()  # release all of them at once
    return [finish(process) for process, _ in workers]


def _check(db: Path, results: list[tuple[int, dict[str, Any]]], base: int | None) -> None:
    assert [code for code, _ in results] == [0] * PROCESSES, results
    states = sorted(result["state"] for _, result in results)
    assert states == ["migrated"] + ["up-to-date"] * (PROCESSES - 1), results
    (winner,) = (r for _, r in results if r["state"] == "migrated")
    assert winner["from"] == base
    assert winner["steps"] == list(range((base or 0) + 1, BASE + BEHIND + 1))
    assert all(r["to"] == BASE + BEHIND for _, r in results), results
    snapshot = read_db(db)
    assert snapshot.versions == tuple(range(1, BASE + BEHIND + 1))
    assert snapshot.user_version == BASE + BEHIND
    # Each migration inserted one row into its table: none ran twice.
    for n in range(1, BASE + BEHIND + 1):
        assert len(snapshot.rows[f"t{n}"]) == 1, n


def test_processes_started_together_apply_each_migration_once(
    tmp_path: Path, migrations: Path
) -> None:
    templates = {mode: _template(tmp_path, migrations, mode) for mode in ("delete", "wal")}
    for round_ in range(rounds(20, 100)):
        mode = ("delete", "wal")[round_ % 2]
        work = tmp_path / f"round{round_}"
        work.mkdir()
        db = work / "app.db"
        shutil.copyfile(templates[mode], db)
        _check(db, _boot_together(db, migrations, work), BASE)
        shutil.rmtree(work)


def test_processes_started_together_on_a_missing_file(tmp_path: Path, migrations: Path) -> None:
    """The first boot ever: every process creates the file; one migrates it from nothing."""
    for round_ in range(rounds(3, 20)):
        work = tmp_path / f"round{round_}"
        work.mkdir()
        db = work / "app.db"
        _check(db, _boot_together(db, migrations, work), None)
        shutil.rmtree(work)


def _hold(tmp_path: Path, db: Path) -> subprocess.Popen[str]:
    ready = tmp_path / "held"
    holder = start("hold_lock", [db, ready])
    wait_for(ready, holder)
    return holder


def test_a_writer_holding_the_lock_past_the_timeout_is_database_busy(
    tmp_path: Path, migrations: Path
) -> None:
    db = tmp_path / "app.db"
    bootmigrate.migrate(db, migrations, target=BASE)
    before = read_db(db)
    holder = _hold(tmp_path, db)
    try:
        # In another process, through a path ...
        code, result = run("boot", [db, migrations, "--timeout", "0.3"])
        assert code == 1, result
        assert result["error"] == "DatabaseBusy"
        assert "more than 0.3 s" in result["message"]
        # ... and here, through a connection the app opened with its own busy timeout.
        conn = sqlite3.connect(db, timeout=0.01)
        try:
            with pytest.raises(bootmigrate.DatabaseBusy, match=r"more than 0\.25 s") as info:
                bootmigrate.migrate(conn, migrations, timeout=0.25)
            assert info.value.timeout == 0.25
            # The connection's own busy timeout is given back.
            assert conn.execute("PRAGMA busy_timeout").fetchone()[0] == 10
        finally:
            conn.close()
    finally:
        holder.kill()
        holder.communicate()
    assert read_db(db) == before


def test_a_run_waits_for_a_writer_shorter_than_the_timeout(
    tmp_path: Path, migrations: Path
) -> None:
    db = tmp_path / "app.db"
    bootmigrate.migrate(db, migrations, target=BASE)
    ready = tmp_path / "held"
    holder = start("hold_lock", [db, ready, "0.5"])  # lets go by itself after 0.5 s
    wait_for(ready, holder)
    report = bootmigrate.migrate(db, migrations, timeout=30)
    assert finish(holder)[0] == 0
    assert report.state == "migrated"
    assert read_db(db).versions == tuple(range(1, BASE + BEHIND + 1))


def test_a_connection_with_a_stale_wal_snapshot_still_migrates(
    tmp_path: Path, migrations: Path
) -> None:
    """The optimistic read ends its read transaction before BEGIN IMMEDIATE.

    Otherwise another process's commit in between would make the upgrade to a write
    lock fail with SQLITE_BUSY_SNAPSHOT instead of waiting.
    """
    db = tmp_path / "app.db"
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("PRAGMA journal_mode = wal")
    bootmigrate.migrate(conn, migrations, target=BASE)
    assert bootmigrate.status(conn, migrations).current == BASE
    # Another process migrates to BASE + 1 after this connection read the ledger.
    code, result = run("boot", [db, _first_n(tmp_path, migrations, BASE + 1)])
    assert (code, result["state"]) == (0, "migrated"), result
    report = bootmigrate.migrate(conn, migrations)
    assert (report.from_version, report.to_version) == (BASE + 1, BASE + BEHIND)
    conn.close()
    assert read_db(db).versions == tuple(range(1, BASE + BEHIND + 1))


def _first_n(tmp_path: Path, migrations: Path, n: int) -> Path:
    target = tmp_path / f"first{n}"
    target.mkdir()
    for path in sorted(migrations.iterdir()):
        if int(path.name[:4]) <= n:
            shutil.copy(path, target / path.name)
    return target


def test_a_borrowed_connection_gets_the_runs_timeout(tmp_path: Path, migrations: Path) -> None:
    """The app's connection fails at once by itself; the run sets busy_timeout on it."""
    db = tmp_path / "app.db"
    bootmigrate.migrate(db, migrations, target=BASE)
    conn = sqlite3.connect(db, timeout=0)
    try:
        ready = tmp_path / "held"
        holder = start("hold_lock", [db, ready, "0.5"])
        wait_for(ready, holder)
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            conn.execute("BEGIN IMMEDIATE")  # no wait of its own
        report = bootmigrate.migrate(conn, migrations, timeout=30)
        assert finish(holder)[0] == 0
        assert report.state == "migrated"
        assert conn.execute("PRAGMA busy_timeout").fetchone()[0] == 0  # given back
    finally:
        conn.close()


def test_an_open_cursor_with_a_stale_wal_snapshot_is_a_clear_error(
    tmp_path: Path, migrations: Path
) -> None:
    """An unfinished SELECT pins an old snapshot; SQLite then refuses the write at once."""
    db = tmp_path / "app.db"
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("PRAGMA journal_mode = wal")
    bootmigrate.migrate(conn, migrations, target=BASE)
    cursor = conn.execute("SELECT * FROM t1 UNION ALL SELECT * FROM t2")
    cursor.fetchone()  # not read to the end: the read transaction stays open
    code, result = run("boot", [db, _first_n(tmp_path, migrations, BASE + 1)])
    assert (code, result["state"]) == (0, "migrated"), result
    before = read_db(db)
    with pytest.raises(bootmigrate.ApplyError) as info:
        bootmigrate.migrate(conn, migrations, timeout=5)
    if sys.version_info >= (3, 11):  # older Pythons only have SQLite's "locked"
        assert "unfinished SELECT" in str(info.value)
    assert read_db(db) == before
    cursor.fetchall()
    report = bootmigrate.migrate(conn, migrations)
    conn.close()
    assert (report.from_version, report.to_version) == (BASE + 1, BASE + BEHIND)
