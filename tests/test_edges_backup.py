"""Issue 10, cases 9-13: backups that vanish or leak, planted symlinks, file modes, locks.

Like tests/test_edges.py: real files, new connections and processes, the public API
only; every test here failed before the fix.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import re
import signal
import sqlite3
import stat
import time
from collections.abc import Iterator
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import pytest

import bootmigrate
from dbfiles import make_set, read_db
from processes import finish, start, wait_for

NO_TX = "-- bootmigrate: no-transaction\n"
FILES = {
    "0001_a.up.sql": "CREATE TABLE a (x);\nINSERT INTO a VALUES (1);\n",
    "0002_b.up.sql": "CREATE TABLE b (x);\n",
}
STEP = {"0003_step.up.sql": NO_TX + "CREATE TABLE c (x);\n"}  # a run that takes the step lock
STAMP = r"\d{8}T\d{12}Z"  # how bootmigrate stamps its backups, UTC with microseconds


def backups_of(db: Path) -> list[Path]:
    """The backups of *db* itself, by bootmigrate's naming, not those of a sibling."""
    pattern = re.compile(re.escape(db.name) + rf"\.{STAMP}-v\d+\.bootmigrate-backup")
    return sorted(p for p in db.parent.iterdir() if pattern.fullmatch(p.name))


def mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def at_version(directory: Path, files: dict[str, str], version: int) -> tuple[Path, Path]:
    source = make_set(directory, files)
    db = directory / "app.db"
    bootmigrate.migrate(db, source, target=version)
    return source, db


@contextlib.contextmanager
def umask(value: int) -> Iterator[None]:
    old = os.umask(value)
    try:
        yield
    finally:
        os.umask(old)


# -- 9. rotation deletes the backup just taken ---------------------------------------


@pytest.mark.parametrize(
    ("name", "sibling"), [("data", "data.sqlite"), ("app.db", "app.db.v2")], ids=["data", "app.db"]
)
def test_09_rotation_keeps_the_new_backup_and_leaves_a_siblings_alone(
    tmp_path: Path, name: str, sibling: str
) -> None:
    source = make_set(tmp_path, FILES)
    db, other = tmp_path / name, tmp_path / sibling
    bootmigrate.migrate(db, source, target=1)
    bootmigrate.migrate(other, source)
    planted = {}
    for stamp in ("20250101T000000000000Z-v1", "20250102T000000000000Z-v2"):
        backup = tmp_path / f"{sibling}.{stamp}.bootmigrate-backup"
        backup.write_bytes(other.read_bytes())
        planted[backup] = backup.read_bytes()
    assert backups_of(other) == sorted(planted)
    before = read_db(db)
    bootmigrate.migrate(db, source, backup=True, backup_keep=1)
    (backup,) = backups_of(db)
    assert read_db(backup) == before
    assert {p: p.read_bytes() for p in backups_of(other)} == planted


# -- 10. planted symlinks -------------------------------------------------------------


def _victim(path: Path, kind: str) -> None:
    if kind == "empty-file":
        path.write_bytes(b"")
    elif kind == "other-database":
        conn = sqlite3.connect(path)
        conn.execute("CREATE TABLE secret (s TEXT)")
        conn.execute("INSERT INTO secret VALUES ('the user''s other data')")
        conn.commit()
        conn.close()
    elif kind == "text-file":
        path.write_text("precious\n")
    if kind != "dangling":
        path.chmod(0o640)


def _state(path: Path) -> tuple[bytes, int] | None:
    return (path.read_bytes(), mode(path)) if path.exists() else None


@pytest.mark.parametrize("kind", ["empty-file", "other-database", "text-file", "dangling"])
def test_10_the_partial_backup_does_not_follow_a_planted_symlink(tmp_path: Path, kind: str) -> None:
    source, db = at_version(tmp_path / "data", FILES, 1)
    db.chmod(0o600)
    victim = tmp_path / "victim"
    _victim(victim, kind)
    before, snapshot = _state(victim), read_db(db)
    # The name the backup is written under: the pid of the process taking it (this one).
    (db.parent / f".{db.name}.{os.getpid()}.backup-partial").symlink_to(victim)
    try:
        report = bootmigrate.migrate(db, source, backup=True)
    except bootmigrate.MigrationError as exc:
        # Refusing is fine, blaming the user's database is not.
        assert not isinstance(exc, bootmigrate.NotADatabase), exc
        assert read_db(db) == snapshot
    else:
        assert report.to_version == 2
        (backup,) = backups_of(db)
        assert not backup.is_symlink() and read_db(backup) == snapshot
    assert _state(victim) == before  # not overwritten, not chmod-ed, not created


@pytest.mark.parametrize(
    "kind",
    [
        "text-file",  # works today: opened without O_TRUNC, so neither truncated nor chmod-ed
        pytest.param("dangling"),
    ],
)
def test_10_the_step_lock_does_not_follow_a_planted_symlink(tmp_path: Path, kind: str) -> None:
    source, db = at_version(tmp_path / "data", {**FILES, **STEP}, 2)
    victim = tmp_path / "victim"
    _victim(victim, kind)
    before = _state(victim)
    Path(f"{db}-bootmigrate-lock").symlink_to(victim)
    try:
        bootmigrate.migrate(db, source)
    except bootmigrate.MigrationError:
        assert read_db(db).versions == (1, 2)
    else:
        assert read_db(db).versions == (1, 2, 3)
    assert _state(victim) == before


def test_10_the_lock_file_is_no_more_readable_than_the_database(tmp_path: Path) -> None:
    source, db = at_version(tmp_path, {**FILES, **STEP}, 2)
    db.chmod(0o600)
    with umask(0o022):
        bootmigrate.migrate(db, source)
    assert mode(Path(f"{db}-bootmigrate-lock")) & 0o077 == 0


# -- 11. a backup readable by others while it is written -------------------------------

# A 20 MB database: writing its copy takes long enough to be caught in the act.
BIG = {
    "0001_big.up.sql": (
        "CREATE TABLE big (b BLOB);\n"
        "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 20000)\n"
        "INSERT INTO big SELECT randomblob(1000) FROM c;\n"
    ),
    "0002_b.up.sql": "CREATE TABLE b (x);\n",
}


def _migrate_with_backup(db: Path, source: Path) -> None:
    bootmigrate.migrate(db, source, backup=True)


def _catch_the_backup(db: Path, source: Path, attempts: int = 5) -> dict[str, int] | None:
    """Kill a process taking a backup while its files are there; their modes as seen then.

    A forked child migrates with ``backup=True``; the parent watches the directory and
    stops the child (SIGSTOP) the moment a new file appears, records the mode of every
    new file, and kills it. Each attempt starts from the database as it was. None if no
    attempt caught it.
    """
    context = multiprocessing.get_context("fork")
    journal = Path(f"{db}-journal")
    ignored = {db.name, journal.name}
    template = db.read_bytes()
    for _ in range(attempts):
        db.write_bytes(template)
        journal.unlink(missing_ok=True)
        present = set(os.listdir(db.parent))
        process = context.Process(target=_migrate_with_backup, args=(db, source))
        process.start()
        assert process.pid is not None
        seen: dict[str, int] = {}
        while process.is_alive():
            new = set(os.listdir(db.parent)) - present - ignored
            if new:
                os.kill(process.pid, signal.SIGSTOP)
                for name in new:
                    with contextlib.suppress(FileNotFoundError):  # renamed before the stop
                        seen[name] = mode(db.parent / name)
                os.kill(process.pid, signal.SIGKILL)
                break
        process.join()
        if seen and process.exitcode == -signal.SIGKILL:
            return seen
    return None


@pytest.mark.process
def test_11_a_backup_is_never_more_readable_than_the_database(tmp_path: Path) -> None:
    source, db = at_version(tmp_path, BIG, 1)
    db.chmod(0o600)
    with umask(0o022):
        seen = _catch_the_backup(db, source)
        if seen is None:
            pytest.skip("no attempt caught the backup being written")
        left = {p.name: mode(p) for p in tmp_path.iterdir() if p.name.startswith(".")}
    readable = {name: oct(m) for name, m in {**seen, **left}.items() if m & 0o077}
    assert readable == {}, f"more readable than the 0600 database: {readable}"


@pytest.mark.process
def test_11_the_next_run_removes_what_a_killed_backup_left(tmp_path: Path) -> None:
    source, db = at_version(tmp_path, BIG, 1)
    with umask(0o022):
        if _catch_the_backup(db, source) is None:
            pytest.skip("no attempt caught the backup being written")
        assert bootmigrate.migrate(db, source, backup=True).to_version == 2
    (backup,) = backups_of(db)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["migrations", db.name, backup.name]
    )


def test_11_after_the_run_no_file_is_more_readable_than_the_database(tmp_path: Path) -> None:
    source, db = at_version(tmp_path, {**FILES, **STEP}, 1)
    db.chmod(0o600)
    with umask(0o022):
        bootmigrate.migrate(db, source, backup=True)
    made = {p.name: mode(p) for p in tmp_path.iterdir() if p.name != "migrations"}
    assert len(backups_of(db)) == 1 and f"{db.name}-bootmigrate-lock" in made
    readable = {name: oct(m) for name, m in made.items() if m & 0o077}
    assert readable == {}, f"more readable than the 0600 database: {readable}"


# -- 12. backup=True on a connection in locking_mode=EXCLUSIVE -----------------------

# A hang detector, not a timing: the runs get timeout=1 and all start together.
EXCLUSIVE_DEADLINE = 5.0


def _exclusive_app(pipe: Connection, db: str, source: str, journal_mode: str) -> None:
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute(f"PRAGMA journal_mode = {journal_mode}")
    conn.execute("PRAGMA locking_mode = EXCLUSIVE")
    conn.execute("INSERT INTO a VALUES (2)")  # the app wrote once: it keeps the lock
    try:
        report = bootmigrate.migrate(conn, source, backup=True, timeout=1)
    except bootmigrate.MigrationError as exc:
        pipe.send({"error": type(exc).__name__, "message": str(exc)})
    else:
        pipe.send({"state": report.state, "to": report.to_version})
    conn.close()


@pytest.fixture(scope="module")
def exclusive_runs(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[float, dict[str, Any]]]:
    """Both journal modes' runs, started at once so a hang costs one deadline, not two."""
    context = multiprocessing.get_context("fork")
    runs: dict[str, Any] = {}
    for journal_mode in ("delete", "wal"):
        directory = tmp_path_factory.mktemp(f"exclusive-{journal_mode}")
        source, db = at_version(directory, FILES, 1)
        receiver, sender = context.Pipe(duplex=False)
        process = context.Process(
            target=_exclusive_app, args=(sender, str(db), str(source), journal_mode)
        )
        process.start()
        sender.close()
        runs[journal_mode] = (db, receiver, process)
    started = time.monotonic()
    yield started, runs
    for _, _, process in runs.values():
        if process.is_alive():
            process.kill()
        process.join()


@pytest.mark.process
@pytest.mark.parametrize("journal_mode", ["delete", "wal"])
def test_12_a_backup_on_an_exclusive_connection_does_not_hang(
    exclusive_runs: tuple[float, dict[str, Any]], journal_mode: str
) -> None:
    started, runs = exclusive_runs
    db, receiver, process = runs[journal_mode]
    answered = receiver.poll(max(0.0, started + EXCLUSIVE_DEADLINE - time.monotonic()))
    assert answered, (
        f"migrate(conn, backup=True, timeout=1) still running after {EXCLUSIVE_DEADLINE} s"
    )
    result = receiver.recv()
    process.join(10)
    if "error" in result:
        assert read_db(db).versions == (1,), result
    else:
        assert result == {"state": "migrated", "to": 2}
        (backup,) = backups_of(db)
        assert read_db(backup).versions == (1,)
        assert read_db(db).versions == (1, 2)


# -- 13. the step lock is keyed on the path string -----------------------------------


@pytest.mark.process
def test_13_a_step_runs_once_through_a_symlink_and_the_real_path(tmp_path: Path) -> None:
    """Two boots, one through ``real.db``, one through ``link.db`` (a symlink to it).

    The step is not safe to run twice: it logs a row, then waits at a gate (a write to
    another database that this test holds locked) so both boots are inside it at once
    if the lock lets them. The gate opens when two rows are logged, or after a while.
    """
    gate = tmp_path / "gate.db"
    holder = sqlite3.connect(gate, isolation_level=None)
    holder.execute("CREATE TABLE g (x)")
    step = NO_TX + (
        "INSERT INTO log VALUES (1);\n"
        f"ATTACH DATABASE '{gate}' AS gate;\n"
        "INSERT INTO gate.g VALUES (1);\n"
        "DETACH DATABASE gate;\n"
    )
    data = tmp_path / "data"
    data.mkdir()
    source = make_set(
        tmp_path, {"0001_log.up.sql": "CREATE TABLE log (x);\n", "0002_step.up.sql": step}
    )
    real, link = data / "real.db", data / "link.db"
    bootmigrate.migrate(real, source, target=1)
    link.symlink_to("real.db")
    holder.execute("BEGIN EXCLUSIVE")
    go = tmp_path / "go"
    boots = [
        start(
            "boot", [path, source, "--ready", tmp_path / f"ready{i}", "--go", go, "--timeout", "60"]
        )
        for i, path in enumerate([real, link])
    ]
    try:
        for i, process in enumerate(boots):
            wait_for(tmp_path / f"ready{i}", process)
        go.touch()
        watcher = sqlite3.connect(f"{real.resolve().as_uri()}?mode=ro", uri=True)
        deadline = time.monotonic() + 1.5  # the second boot is inside within milliseconds
        while time.monotonic() < deadline:
            if watcher.execute("SELECT COUNT(*) FROM log").fetchone()[0] >= 2:
                break
            time.sleep(0.01)
        watcher.close()
    finally:
        holder.execute("ROLLBACK")
        holder.close()
        results = [finish(process) for process in boots]
    assert [code for code, _ in results] == [0, 0], results
    assert read_db(real).rows["log"] == ((1,),), "the step ran twice"
    locks = sorted(p.name for p in data.iterdir() if p.name.endswith("-bootmigrate-lock"))
    assert locks == ["real.db-bootmigrate-lock"]
