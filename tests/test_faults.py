"""Faults on a user's machine: a killed process, a full disk, read-only and damaged files.

Each test checks the database file afterwards, through a new connection.
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
import signal
import sqlite3
import tempfile
import time
from collections.abc import Iterator
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import pytest

import bootmigrate
from bootmigrate.testing._fingerprint import fingerprint
from dbfiles import file_state, make_set, read_db
from kills import Landings, half_written, seeded
from processes import STRESS, finish, rounds, run, start, wait_for

BASE = 5
BATCH = 20


def _long_set() -> dict[str, str]:
    files = {}
    for n in range(1, BASE + BATCH + 1):
        files[f"{n:04d}_step_{n}.up.sql"] = (
            f"CREATE TABLE t{n} (id INTEGER PRIMARY KEY, body TEXT, n INTEGER);\n"
            "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 2500)\n"
            f"INSERT INTO t{n} (body, n) SELECT printf('%d-%.100c', i, 'x'), i FROM c;\n"
            f"CREATE INDEX t{n}_body ON t{n} (body);\n"
            + (f"UPDATE t{n - 1} SET n = n + 1 WHERE id % 3 = 0;\n" if n > 1 else "")
        )
    return files


def _state(db: Path) -> tuple[Any, ...]:
    """Everything that must be exactly old or new: schema, rows, ledger, user_version."""
    snapshot = read_db(db)
    ledger = tuple(row[:3] for row in snapshot.ledger)  # version, name, checksum
    rows = fingerprint(db, exclude={"bootmigrate_ledger"})
    return snapshot.schema, rows, ledger, snapshot.user_version


def _recover_and_check(db: Path) -> None:
    """Open it as the app's next boot would (rolling back a hot journal) and check it."""
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    finally:
        conn.close()


@pytest.fixture(scope="module")
def long_set(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_set(tmp_path_factory.mktemp("faults"), _long_set())


@pytest.mark.process
@pytest.mark.parametrize("journal_mode", ["delete", "wal"])
def test_sigkill_at_random_moments_leaves_the_old_or_the_new_version(
    tmp_path: Path, long_set: Path, journal_mode: str
) -> None:
    template = tmp_path / "template.db"
    conn = sqlite3.connect(template, isolation_level=None)
    conn.execute(f"PRAGMA journal_mode = {journal_mode}")
    bootmigrate.migrate(conn, long_set, target=BASE)
    conn.close()
    old = _state(template)
    finished = tmp_path / "finished.db"
    shutil.copyfile(template, finished)
    # One full run in a process measures how long the batch takes, to spread the kills
    # over it (and a little past it). The clock starts when the worker is let go.
    ready, go = tmp_path / "ready-full", tmp_path / "go-full"
    process = start("boot", [finished, long_set, "--ready", ready, "--go", go])
    wait_for(ready, process)
    go.touch()
    began = time.monotonic()
    code, result = finish(process)
    duration = time.monotonic() - began
    assert code == 0 and result["steps"] == list(range(BASE + 1, BASE + BATCH + 1)), result
    new = _state(finished)
    assert new != old

    seen = {"old": 0, "new": 0}
    landed = Landings()
    generator = seeded(f"SIGKILL, {journal_mode} journal")
    # 20 kills (make stress: 50) at random moments after the worker is let go; every
    # eleventh kill instead lands before it is let go, with its migrations loaded.
    for i in range(rounds(22, 55)):
        db = tmp_path / f"kill{i}.db"
        shutil.copyfile(template, db)
        ready, go = tmp_path / f"ready{i}", tmp_path / f"go{i}"
        process = start("boot", [db, long_set, "--ready", ready, "--go", go])
        wait_for(ready, process)
        released = i % 11 != 10
        if released:
            go.touch()
            time.sleep(generator.uniform(0, duration * 1.1))
        process.send_signal(signal.SIGKILL)
        process.communicate()
        on_disk = half_written(db)
        _recover_and_check(db)
        state = _state(db)
        assert state in (old, new), (
            f"kill {i}: the database is neither version {BASE} nor {BASE + BATCH}"
        )
        seen["old" if state == old else "new"] += 1
        landed.add(started=released, committed=state == new, on_disk=on_disk)
        for leftover in db.parent.glob(f"kill{i}.db*"):
            leftover.unlink()
    print(f"{journal_mode}: {seen}; kills landed {landed}")  # shown with -s
    landed.check(every_class=STRESS)


def test_a_full_disk_is_disk_full_and_changes_nothing(tmp_path: Path) -> None:
    source = make_set(
        tmp_path,
        {
            "0001_base.up.sql": "CREATE TABLE note (body TEXT);\nINSERT INTO note VALUES ('k');\n",
            "0002_big.up.sql": (
                "CREATE TABLE big (body TEXT);\n"
                "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 20000)\n"
                "INSERT INTO big SELECT printf('%.500c', 'x') FROM c;\n"
            ),
        },
    )
    db = tmp_path / "app.db"
    bootmigrate.migrate(db, source, target=1)
    before, rows = read_db(db), fingerprint(db)
    conn = sqlite3.connect(db)
    # The connection can grow the file by 10 pages: the disk fills up mid-migration.
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    conn.execute(f"PRAGMA max_page_count = {pages + 10}")
    with pytest.raises(bootmigrate.DiskFull) as info:
        bootmigrate.migrate(conn, source)
    conn.close()
    assert "the disk is full" in str(info.value) and "unchanged" in str(info.value)
    assert read_db(db) == before and fingerprint(db) == rows
    _recover_and_check(db)


def test_a_read_only_connection_is_refused_before_any_work(tmp_path: Path) -> None:
    """As root, file permissions do not stop writes; a mode=ro connection really refuses."""
    source = make_set(
        tmp_path,
        {"0001_a.up.sql": "CREATE TABLE a (x);\n", "0002_b.up.sql": "CREATE TABLE b (x);\n"},
    )
    db = tmp_path / "app.db"
    bootmigrate.migrate(db, source, target=1)
    before = file_state(db)
    conn = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True)
    with pytest.raises(bootmigrate.ReadOnlyDatabase, match="cannot write the database"):
        bootmigrate.migrate(conn, source)
    # An up-to-date database is fine read-only: the app can still boot.
    assert bootmigrate.migrate(conn, source, target=1).state == "up-to-date"
    conn.close()
    query_only = sqlite3.connect(db)
    query_only.execute("PRAGMA query_only = ON")
    with pytest.raises(bootmigrate.ApplyError):
        bootmigrate.migrate(query_only, source)
    query_only.close()
    assert file_state(db) == before


@pytest.fixture
def shared_dir() -> Iterator[Path]:
    """A directory another user can enter (pytest's tmp_path is private to root)."""
    path = Path(tempfile.mkdtemp(prefix="bootmigrate-ro-"))
    path.chmod(0o755)
    try:
        yield path
    finally:
        for sub in [path, *path.rglob("*")]:
            if sub.is_dir():
                sub.chmod(0o755)
        shutil.rmtree(path)


def _migrate_in_child(pipe: Connection, db: str, source: str) -> None:
    # Drop root in this forked child only: as root, permissions stop nothing.
    if os.geteuid() == 0:
        os.setgroups([])
        os.setgid(65534)
        os.setuid(65534)
    try:
        report = bootmigrate.migrate(db, source)
    except bootmigrate.MigrationError as exc:
        pipe.send({"error": type(exc).__name__, "message": str(exc)})
    else:
        pipe.send({"state": report.state})
    pipe.close()


def _as_unprivileged(db: Path, source: Path) -> dict[str, Any]:
    """Migrate in a forked process that runs as 'nobody' when the tests run as root.

    Forked, not spawned: a new interpreter under /root could not be started as nobody.
    """
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(target=_migrate_in_child, args=(sender, str(db), str(source)))
    process.start()
    sender.close()
    result: dict[str, Any] = receiver.recv()
    process.join(60)
    assert process.exitcode == 0
    return result


@pytest.mark.process
@pytest.mark.parametrize("what", ["file", "directory", "missing-file"])
def test_a_read_only_file_or_directory_is_refused_before_any_work(
    shared_dir: Path, what: str
) -> None:
    source = make_set(
        shared_dir,
        {"0001_a.up.sql": "CREATE TABLE a (x);\n", "0002_b.up.sql": "CREATE TABLE b (x);\n"},
    )
    data = shared_dir / "data"
    data.mkdir()
    db = data / "app.db"
    if what != "missing-file":
        bootmigrate.migrate(db, source, target=1)
        db.chmod(0o444 if what == "file" else 0o666)
    before = file_state(db) if db.exists() else None
    data.chmod(0o755 if what == "file" else 0o555)
    result = _as_unprivileged(db, source)
    assert result.get("error") == "ReadOnlyDatabase", result
    expected = {
        "file": "the file is read-only",
        "directory": "is read-only, and SQLite writes its journal there",
        "missing-file": "the file does not exist and its directory",
    }[what]
    assert expected in result["message"]
    assert (file_state(db) if db.exists() else None) == before
    assert sorted(p.name for p in data.iterdir()) == ([] if what == "missing-file" else ["app.db"])


@pytest.mark.process
@pytest.mark.parametrize("damage", ["not-sqlite", "truncated", "empty-header"])
def test_a_file_that_is_not_a_database_is_left_alone(tmp_path: Path, damage: str) -> None:
    source = make_set(tmp_path, {"0001_a.up.sql": "CREATE TABLE a (x);\n"})
    db = tmp_path / "app.db"
    if damage == "not-sqlite":
        db.write_text("name,email\nada,ada@example.org\n" * 200, encoding="utf-8")
    else:
        real = tmp_path / "real.db"
        conn = sqlite3.connect(real)
        conn.execute("CREATE TABLE t (body TEXT)")
        conn.executemany("INSERT INTO t VALUES (?)", [("x" * 500,)] * 500)
        conn.commit()
        conn.close()
        data = real.read_bytes()
        db.write_bytes(data[: len(data) // 2] if damage == "truncated" else data[:100])
    before = file_state(db)
    with pytest.raises(bootmigrate.NotADatabase) as info:
        bootmigrate.migrate(db, source)
    message = str(info.value)
    assert str(db) in message and "left as it is" in message
    assert ("not a SQLite database" in message) or ("damaged" in message)
    # The same from a separate process, as the app would see it.
    code, result = run("boot", [db, source])
    assert (code, result["error"]) == (1, "NotADatabase")
    assert file_state(db) == before
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("app.db")) == ["app.db"]


RERUNNABLE_STEP = """-- bootmigrate: no-transaction
-- Safe to run again: each statement is idempotent or its own transaction.
CREATE TABLE IF NOT EXISTS archive (id INTEGER PRIMARY KEY, body TEXT);
INSERT OR IGNORE INTO archive (id, body) SELECT id, body FROM t5;
DELETE FROM t5 WHERE id % 2 = 0;
VACUUM;
"""


@pytest.mark.process
def test_sigkill_during_a_no_transaction_step_is_repaired_by_the_next_run(
    tmp_path: Path, long_set: Path
) -> None:
    source = tmp_path / "source"
    shutil.copytree(long_set, source)
    (source / f"{BASE + BATCH + 1:04d}_archive.up.sql").write_text(RERUNNABLE_STEP)
    template = tmp_path / "template.db"
    bootmigrate.migrate(template, source, target=BASE)
    clean = tmp_path / "clean.db"
    shutil.copyfile(template, clean)
    ready = tmp_path / "ready-clean"
    process = start("boot", [clean, source, "--ready", ready])
    wait_for(ready, process)
    began = time.monotonic()
    assert finish(process)[0] == 0
    duration = time.monotonic() - began
    expected = _state(clean)
    landed = {"in the batch": 0, "in the step": 0, "after the step": 0}
    generator = seeded("SIGKILL in a no-transaction step")
    for i in range(rounds(5, 30)):
        db = tmp_path / f"kill{i}.db"
        shutil.copyfile(template, db)
        ready = tmp_path / f"ready{i}"
        process = start("boot", [db, source, "--ready", ready])
        wait_for(ready, process)
        # Late in the run, where the no-transaction step is.
        time.sleep(generator.uniform(duration * 0.6, duration * 1.1))
        process.send_signal(signal.SIGKILL)
        process.communicate()
        _recover_and_check(db)
        # The batch before the step commits on its own; the step is recorded after it ran.
        versions = read_db(db).versions
        landed[
            "after the step"
            if BASE + BATCH + 1 in versions
            else "in the step"
            if BASE + BATCH in versions
            else "in the batch"
        ] += 1
        # The OS released the step lock with the process: the next boot finishes the job.
        bootmigrate.migrate(db, source, timeout=5)
        _recover_and_check(db)
        assert _state(db) == expected, f"kill {i}"
    print(f"kills landed {landed}")  # shown with -s
    assert landed["in the step"] >= 1, f"no kill landed in the no-transaction step: {landed}"
