"""The core promise, as properties: whatever the files, the database and the failure, a
run reaches the target with the ledger equal to the files, or raises a MigrationError
and leaves the database exactly as it was, or (after a no-transaction step) says the
version the database is at and whether the step took effect, and that is what a new
connection reads.

The scenarios (tests/support/promise.py) are random migration sets (valid and invalid
files, transactional and no-transaction, U+FEFF, U+200B and U+00A0 in literals, comments,
names and before keywords, a few rows to a few thousand) on random starting databases
(missing, empty, the app's tables only, partly migrated; WAL or rollback journal; a path,
or a connection the app set up with foreign keys on, a row factory, bytes for text,
journal_mode memory/off/truncate/persist/wal, locking_mode exclusive, busy_timeout 0, a
tiny cache), with injected failures: a failing statement anywhere, orphan rows, disk
full through ``max_page_count`` (in process) or ``RLIMIT_FSIZE`` (in a forked child), and
SIGKILL at a random moment of a run in a subprocess.

Every random part prints its seed; ``BOOTMIGRATE_SEED=N`` replays it (the Hypothesis
test runs the same examples from the same seed; the kill loop kills at the same
moments, counted in Python calls and SQLite VM steps, not in time). ``BOOTMIGRATE_STRESS=1``
(``make stress`` for the tests marked ``process``) runs each loop many more times.
"""

from __future__ import annotations

import collections
import functools
import gc
import json
import os
import random
import shutil
import signal
import sqlite3
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Callable, TypeVar

import pytest
from hypothesis import given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st

import bootmigrate
import kills
import processes
import promise
from processes import rounds, start

T = TypeVar("T")

# In-process examples: `make check` / BOOTMIGRATE_STRESS=1.
EXAMPLES = rounds(300, 20_000)


class Drawn:
    """:class:`promise.Choices` from Hypothesis draws, so failures shrink."""

    def __init__(self, draw: Callable[[st.SearchStrategy[Any]], Any]) -> None:
        self.draw = draw

    def integer(self, low: int, high: int) -> int:
        return int(self.draw(st.integers(low, high)))

    def chance(self, percent: int) -> bool:
        return bool(self.draw(st.integers(0, 99)) >= 100 - percent)

    def pick(self, options: Sequence[T]) -> T:
        return options[int(self.draw(st.integers(0, len(options) - 1)))]


@st.composite
def scenarios(draw: Callable[[st.SearchStrategy[Any]], Any]) -> promise.Scenario:
    return promise.draw_scenario(Drawn(draw))


def execute(scenario: promise.Scenario, directory: Path) -> str:
    """Build the scenario in *directory*, run it, judge it; the kind of outcome."""
    source = promise.write_source(scenario, directory / "migrations")
    db = promise.build_start(scenario, directory / "data")
    conn = promise.open_borrowed(db, scenario.access) if scenario.access.borrowed else None
    before = promise.image(db)
    outcome = promise.run_on(scenario, db, source, conn)
    return promise.check(scenario, before, outcome, db, source)


def test_the_core_promise_holds_in_process(tmp_path: Path) -> None:
    seed = promise.seed("the core promise, in process")
    kinds: collections.Counter[str] = collections.Counter()

    @settings(max_examples=EXAMPLES, database=None, print_blob=True)
    @hypothesis_seed(seed)
    @given(scenarios())
    def holds(scenario: promise.Scenario) -> None:
        with tempfile.TemporaryDirectory(dir=tmp_path) as directory:
            kinds[execute(scenario, Path(directory))] += 1

    holds()
    print(f"{EXAMPLES} examples; outcomes: {dict(kinds)}")


# -- SIGKILL at a random moment ---------------------------------------------------------

# Scenarios, and kills in each: `make check` / `make stress`.
KILL_SCENARIOS = rounds(8, 300)
KILLS_EACH = rounds(5, 10)


def _worker(spec: dict[str, Any], path: Path) -> tuple[int, dict[str, Any]]:
    path.write_text(json.dumps(spec), encoding="utf-8")
    env = dict(os.environ, PYTHONHASHSEED="0")  # the same ticks in every run
    process = start("promise", [path], env=env)
    out, err = process.communicate(timeout=120)
    lines = out.strip().splitlines()
    return process.returncode, (json.loads(lines[-1]) if lines else {"stderr": err})


def _fresh(template: Path, directory: Path) -> Path:
    """A copy of the starting database (if it has a file) in a folder of its own."""
    directory.mkdir()
    db = directory / "app.db"
    if template.exists():
        shutil.copyfile(template, db)
    return db


@pytest.mark.process
def test_a_run_killed_at_any_moment_leaves_a_consistent_database(tmp_path: Path) -> None:
    """SIGKILL at the N-th tick of a run (a Python call, or 10 SQLite VM steps), N drawn
    uniformly over the whole run, which a first run of the same scenario counts: the same
    seed kills at the same moments."""
    rng = random.Random(promise.seed("SIGKILL at random moments"))
    choices = promise.RandomChoices(rng)
    landed: collections.Counter[str] = collections.Counter()
    for i in range(KILL_SCENARIOS):
        scenario = promise.draw_scenario(choices, mode="kill")
        directory = tmp_path / f"scenario{i}"
        source = promise.write_source(scenario, directory / "migrations")
        template = promise.build_start(scenario, directory / "template")
        spec: dict[str, Any] = {
            "source": str(source),
            "backup": scenario.backup,
            "keep": scenario.keep,
            "access": scenario.access.spec(),
        }

        counted = _fresh(template, directory / "count")
        code, result = _worker(
            {**spec, "db": str(counted), "kill_at": None}, directory / "count.json"
        )
        assert code == 0 and result.get("to") == scenario.head, (result, scenario.describe())
        for j in range(KILLS_EACH):
            moment = rng.randint(1, result["ticks"])
            db = _fresh(template, directory / f"kill{j}")
            code, _ = _worker({**spec, "db": str(db), "kill_at": moment}, directory / f"{j}.json")
            where = f"scenario {i}, killed at tick {moment} of {result['ticks']}"
            assert code == -signal.SIGKILL, f"{where}: not killed"
            try:
                landed[promise.check_after_kill(scenario, db, source, kills.half_written(db))] += 1
            except promise.Broken as exc:
                raise promise.Broken(f"{where}: {exc}") from None
    print(f"{KILL_SCENARIOS} scenarios, {KILL_SCENARIOS * KILLS_EACH} kills; landed {dict(landed)}")
    if processes.STRESS:
        assert landed["half-written"] and landed["in a no-transaction step"], landed


# -- a file-size limit (RLIMIT_FSIZE) in a forked child ---------------------------------

LIMITED_RUNS = rounds(25, 1000)


@pytest.mark.process
def test_a_file_size_limit_anywhere_in_a_run_keeps_the_promise(tmp_path: Path) -> None:
    """A write past ``RLIMIT_FSIZE`` fails with EFBIG, as on a full disk or a quota: in the
    main file, its journal or -wal, or a backup, at whatever moment the limit is hit."""
    rng = random.Random(promise.seed("RLIMIT_FSIZE"))
    choices = promise.RandomChoices(rng)
    outcomes: collections.Counter[str] = collections.Counter()
    for i in range(LIMITED_RUNS):
        scenario = promise.draw_scenario(choices, mode="limit")
        directory = tmp_path / f"scenario{i}"
        source = promise.write_source(scenario, directory / "migrations")
        db = promise.build_start(scenario, directory / "data")
        if scenario.access.borrowed:  # what the app's set-up does to the file comes first
            promise.open_borrowed(db, scenario.access).close()
        before = promise.image(db)
        outcome = promise.in_child(functools.partial(promise.limited_run, scenario, db, source))
        assert outcome is not None, f"scenario {i} died:\n{scenario.describe()}"
        outcomes[promise.check(scenario, before, outcome, db, source)] += 1
        shutil.rmtree(directory)
    print(f"{LIMITED_RUNS} runs; outcomes: {dict(outcomes)}")


# -- what the properties found: each a deterministic regression test --------------------
# While one is open, tests/support/promise.py leaves its case out of the generator (the
# KNOWN_* flags), so the properties go on looking for others.


@pytest.mark.parametrize("transactional", [True, False], ids=["transactional", "no-transaction"])
def test_found_a_bom_before_a_trigger_is_whitespace(tmp_path: Path, transactional: bool) -> None:
    """Found by test_the_core_promise_holds_in_process (seed 4164496034 before the flag)."""
    text = (
        ("" if transactional else "-- bootmigrate: no-transaction\n")
        + "CREATE TABLE a (x);\n"
        + "\ufeffCREATE TRIGGER a_twice AFTER INSERT ON a\nBEGIN\n"
        + "    UPDATE a SET x = x * 2 WHERE rowid = NEW.rowid;\nEND;\n"
        + "INSERT INTO a VALUES (21);\n"
    )
    source = tmp_path / "migrations"
    source.mkdir()
    (source / "0001_a.up.sql").write_text(text, encoding="utf-8")
    reference = sqlite3.connect(":memory:")
    reference.executescript(text)  # SQLite itself runs the file
    assert reference.execute("SELECT x FROM a").fetchall() == [(42,)]
    reference.close()
    db = tmp_path / "app.db"
    assert bootmigrate.migrate(db, source).to_version == 1
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("SELECT x FROM a").fetchall() == [(42,)]
    finally:
        conn.close()


def test_found_a_restored_wal_backup_leaves_no_side_files(tmp_path: Path) -> None:
    """Found by test_the_core_promise_holds_in_process (seed 1511793074 before the flag)."""
    source = tmp_path / "migrations"
    source.mkdir()
    (source / "0001_a.up.sql").write_text("CREATE TABLE a (x);\n")
    (source / "0002_b.up.sql").write_text(
        "-- bootmigrate: no-transaction\nCREATE TABLE b (x);\nINSERT INTO nope VALUES (1);\n"
    )
    data = tmp_path / "data"
    data.mkdir()
    db = data / "app.db"
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.close()
    bootmigrate.migrate(db, source, target=1)
    with pytest.raises(bootmigrate.StatementError, match="restored from the backup"):
        bootmigrate.migrate(db, source, backup=True)
    (source / "0002_b.up.sql").write_text(
        "-- bootmigrate: no-transaction\nCREATE TABLE IF NOT EXISTS b (x);\n"
    )
    assert bootmigrate.migrate(db, source, backup=True).to_version == 2  # rotates the first
    gc.collect()  # the runs' connections are closed for good
    names = sorted(p.name for p in data.iterdir())
    assert [n for n in names if n.endswith(("-wal", "-shm"))] == [], names


@pytest.mark.parametrize("start", [None, 1], ids=["fresh", "at-1"])
def test_found_a_step_that_ran_and_was_not_recorded_says_so(
    tmp_path: Path, start: int | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found by test_a_file_size_limit_anywhere_in_a_run_keeps_the_promise under
    BOOTMIGRATE_STRESS=1 (seed 2094254026: scenario 1055 said "this batch was rolled
    back", scenario 722 "the run was rolled back and the database is unchanged"): the
    file-size limit was hit while recording the step. Here writing the step's row fails
    the way a full disk makes it fail."""
    from bootmigrate._db import ledger

    record = ledger.record

    def disk_full_at_the_step(conn: sqlite3.Connection, *args: Any, **kwargs: Any) -> None:
        if kwargs.get("finishes_step"):
            raise sqlite3.OperationalError("database or disk is full")
        record(conn, *args, **kwargs)

    source = tmp_path / "migrations"
    source.mkdir()
    (source / "0001_a.up.sql").write_text("CREATE TABLE a (x);\n")
    (source / "0002_s.up.sql").write_text(
        "-- bootmigrate: no-transaction\nCREATE TABLE s (x);\nINSERT INTO s VALUES (1);\n"
    )
    db = tmp_path / "app.db"
    if start is not None:
        bootmigrate.migrate(db, source, target=start)
    monkeypatch.setattr(ledger, "record", disk_full_at_the_step)
    with pytest.raises(bootmigrate.DiskFull) as info:
        bootmigrate.migrate(db, source)
    monkeypatch.undo()
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("SELECT x FROM s").fetchall() == [(1,)]  # the step took effect
    finally:
        conn.close()
    assert bootmigrate.status(db, source).current == 1  # and is not recorded
    assert str(info.value) == (
        f"{db}: the disk is full (or the database hit its size limit); "
        "it is a no-transaction migration, so it ran to its end and took effect, but "
        "writing its ledger row failed: the database is at version 1 with '0002_s.up.sql' "
        "applied and not recorded. The next run retries the whole file, which is only safe "
        "if the file can run twice; otherwise restore the database from a backup first "
        "(backup=True takes one). Free some space and start again"
    )


def _migrate_limited(db: Path, source: Path) -> promise.Outcome:
    """In a forked child: the file may not grow at all (RLIMIT_FSIZE), then migrate."""
    import resource

    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    limit = db.stat().st_size
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    try:
        bootmigrate.migrate(db, source)
    except bootmigrate.MigrationError as exc:
        return promise.Outcome(error=type(exc).__name__, migration_error=True, message=str(exc))
    return promise.Outcome()


@pytest.mark.process
def test_found_a_full_disk_at_a_wal_databases_shm_is_disk_full(tmp_path: Path) -> None:
    """Found by test_a_file_size_limit_anywhere_in_a_run_keeps_the_promise (31 of 1,000
    runs under BOOTMIGRATE_STRESS=1, seed 2094254026): a WAL database closed cleanly
    (no -shm), and no room for the 32 KiB -shm the first read needs."""
    source = tmp_path / "migrations"
    source.mkdir()
    (source / "0001_a.up.sql").write_text("CREATE TABLE a (x);\n")
    (source / "0002_b.up.sql").write_text("CREATE TABLE b (x);\n")
    data = tmp_path / "data"
    data.mkdir()
    db = data / "app.db"
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.close()
    bootmigrate.migrate(db, source, target=1)
    before = db.read_bytes()
    outcome = promise.in_child(functools.partial(_migrate_limited, db, source))
    assert outcome is not None
    assert db.read_bytes() == before
    assert outcome.error == "DiskFull", outcome.message


def _fail_on_an_exclusive_connection(db: Path, source: Path) -> promise.Outcome:
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA locking_mode = EXCLUSIVE")
    conn.execute("SELECT count(*) FROM sqlite_master").fetchall()
    try:
        bootmigrate.migrate(conn, source, backup=True, timeout=60)
    except bootmigrate.MigrationError as exc:
        return promise.Outcome(error=type(exc).__name__, migration_error=True, message=str(exc))
    finally:
        conn.close()
    return promise.Outcome()


# A hang detector, not a timing: the run is given timeout=60 and answers at once unless
# it waits for the lock its own connection holds.
EXCLUSIVE_DEADLINE = 5


@pytest.mark.process
def test_found_a_failed_run_on_an_exclusive_connection_does_not_wait(tmp_path: Path) -> None:
    """Found by test_the_core_promise_holds_in_process: examples with exclusive=True and a
    failure took exactly the run's timeout (py-spy: runner._replay_hot_journal)."""
    source = tmp_path / "migrations"
    source.mkdir()
    (source / "0001_a.up.sql").write_text("CREATE TABLE a (x);\nINSERT INTO a VALUES (1);\n")
    (source / "0002_s.up.sql").write_text(
        "-- bootmigrate: no-transaction\nCREATE TABLE s (x);\nINSERT INTO nope VALUES (1);\n"
    )
    db = tmp_path / "app.db"
    bootmigrate.migrate(db, source, target=1)
    outcome = promise.in_child(
        functools.partial(_fail_on_an_exclusive_connection, db, source), EXCLUSIVE_DEADLINE
    )
    assert outcome is not None, f"no answer within {EXCLUSIVE_DEADLINE} s (timeout=60)"
    assert outcome.error == "StatementError" and "restored" in outcome.message, outcome


# Seed 4104243791, scenario 16: a database with free pages (a table dropped), a borrowed
# connection with journal_mode=OFF (the run switches it to DELETE) and cache_size=5, and a
# transactional batch that refills those pages and then fails.
FREE_PAGES_SOURCE = {
    "0001_scratch.up.sql": (
        "CREATE TABLE keep (id INTEGER PRIMARY KEY, v TEXT);\n"
        "INSERT INTO keep VALUES (1, 'kept');\n"
        "CREATE TABLE scratch (v TEXT);\n"
        "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 3000)\n"
        "INSERT INTO scratch SELECT printf('%.200c', 'a') FROM c;\n"
    ),
    "0002_drop.up.sql": "DROP TABLE scratch;\n",  # about 150 pages go to the freelist
    "0003_refill.up.sql": (
        "CREATE TABLE refill (v TEXT);\n"
        "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 6000)\n"
        "INSERT INTO refill SELECT printf('%.200c', 'b') FROM c;\n"
    ),
    # last_step() is the app's: the power goes there in the "kill" case.
    "0004_late.up.sql": "UPDATE keep SET v = last_step(v);\nINSERT INTO nope VALUES (1);\n",
}


def _fail_late(db: Path, source: Path, failure: str, journal_mode: str) -> promise.Outcome:
    """In a forked child, the app's connection (*journal_mode*, a 5-page cache) migrates
    and the last file fails: a statement, a file-size limit 64 KiB above the file's size
    (RLIMIT_FSIZE, hit while the batch refills the free pages), or a SIGKILL."""
    if failure == "disk-full":
        import resource

        limit = db.stat().st_size + 64 * 1024
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    def last_step(value: str) -> str:
        if failure == "kill":
            os.kill(os.getpid(), signal.SIGKILL)
        return "changed"

    conn = sqlite3.connect(db)
    conn.execute(f"PRAGMA journal_mode = {journal_mode}")
    conn.execute("PRAGMA cache_size = 5")
    conn.create_function("last_step", 1, last_step)
    try:
        bootmigrate.migrate(conn, source)
    except bootmigrate.MigrationError as exc:
        return promise.Outcome(
            error=type(exc).__name__,
            migration_error=True,
            message=str(exc),
            settings=[
                f"{name} = {conn.execute(f'PRAGMA {name}').fetchone()[0]}"
                for name in ("journal_mode", "cache_size")
            ],
        )
    finally:
        conn.close()
    return promise.Outcome()


@pytest.mark.process
@pytest.mark.parametrize(
    ("failure", "journal_mode"),
    [("statement", "off"), ("disk-full", "off"), ("kill", "memory"), ("kill", "off")],
)
def test_found_a_rolled_back_batch_leaves_other_bytes_only_in_free_pages(
    tmp_path: Path, failure: str, journal_mode: str
) -> None:
    """Found by test_a_file_size_limit_anywhere_in_a_run_keeps_the_promise (seed
    4104243791, scenario 16: "the main file's bytes changed, its content reads the
    same"). Not the journal mode: the run had switched the app's OFF to DELETE (which
    also makes a kill recoverable: a MEMORY journal dies with the process). SQLite
    reuses a freelist page without journaling it (it holds no data), so the pages a
    spilled cache wrote there are not put back by the rollback. The header and every
    page in use are, byte for byte; the README says so under "Errors"."""
    source = tmp_path / "migrations"
    source.mkdir()
    for name, text in FREE_PAGES_SOURCE.items():
        (source / name).write_text(text)
    data = tmp_path / "data"
    data.mkdir()
    db = data / "app.db"
    bootmigrate.migrate(db, source, target=2)
    before = promise.image(db)
    free = promise.free_pages(before.data)
    assert len(free) > 100  # the case needs free pages to refill
    outcome = promise.in_child(functools.partial(_fail_late, db, source, failure, journal_mode))
    if failure == "kill":
        assert outcome is None  # killed; the next status() rolls its hot journal back
        assert bootmigrate.status(db, source).current == 2
    elif failure == "disk-full":
        assert outcome is not None
        assert outcome.error == "DiskFull"
        assert outcome.message == (
            f"{db}: the disk is full (a write failed: disk I/O error; the disk, a quota or a "
            "file-size limit is full); the run was rolled back and the database is unchanged. "
            "Free some space and start again"
        )
    else:
        assert outcome is not None and outcome.error == "StatementError"
        assert "0004_late.up.sql" in outcome.message
        assert "the run was rolled back and the database is unchanged" in outcome.message
    if outcome is not None:  # the app's connection got its settings back
        assert outcome.settings == [f"journal_mode = {journal_mode}", "cache_size = 5"]
    after = promise.image(db)
    assert not Path(f"{db}-journal").exists()
    assert after.logical == before.logical  # schema, rows, ledger, user_version
    assert promise.integrity(db) == [("ok",)]
    assert bootmigrate.status(db, source).current == 2
    # Byte for byte: the header, the size and every page in use. Some free pages hold
    # what the spilled cache wrote (this is the case the seed found, and still happens).
    page_size = int.from_bytes(before.data[16:18], "big")
    assert after.data[:100] == before.data[:100] and len(after.data) == len(before.data)
    changed = {
        start // page_size + 1
        for start in range(0, len(before.data), page_size)
        if before.data[start : start + page_size] != after.data[start : start + page_size]
    }
    assert changed and changed <= free, (
        changed - free,
        promise.byte_changes(before.data, after.data),
    )
    assert promise.same_database_bytes(before.data, after.data)


def test_unchanged_means_the_header_and_every_page_in_use(tmp_path: Path) -> None:
    """The oracle's "byte-identical" lets through other bytes in a free page only: a
    byte changed in the header, in a page in use or in a freelist trunk page (which
    SQLite journals) is a change, and so is any change in a file whose freelist does not
    add up."""
    db = tmp_path / "app.db"
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE t (v)")
    conn.execute("INSERT INTO t SELECT printf('%.3000c', 'x') FROM (SELECT 1 UNION SELECT 2)")
    conn.execute("CREATE TABLE gone (v)")
    conn.execute("INSERT INTO gone SELECT printf('%.3000c', 'y') FROM t UNION ALL SELECT 'z'")
    conn.commit()
    conn.execute("DROP TABLE gone")
    conn.commit()
    conn.close()
    data = db.read_bytes()
    page_size = int.from_bytes(data[16:18], "big")
    trunk = int.from_bytes(data[32:36], "big")
    free = promise.free_pages(data)
    assert trunk and free and trunk not in free
    in_use = next(n for n in range(2, len(data) // page_size + 1) if n not in free | {trunk})

    def flipped(page: int, offset: int = 100) -> bytes:
        at = (page - 1) * page_size + offset
        return data[:at] + bytes([data[at] ^ 0xFF]) + data[at + 1 :]

    assert promise.same_database_bytes(data, flipped(min(free)))
    assert not promise.same_database_bytes(data, flipped(in_use))
    assert not promise.same_database_bytes(data, flipped(trunk, 8))  # its list of leaves
    assert not promise.same_database_bytes(data, flipped(1, 24))  # the file change counter
    assert not promise.same_database_bytes(data, data + bytes(page_size))
    damaged = data[:36] + (999).to_bytes(4, "big") + data[40:]  # a freelist count that lies
    assert promise.free_pages(damaged) == frozenset()
    assert "header file change counter (bytes 24-27)" in promise.byte_changes(data, flipped(1, 24))
    assert f"1 page(s) in use of {page_size} bytes differ: {in_use}" in promise.byte_changes(
        data, flipped(in_use)
    )
