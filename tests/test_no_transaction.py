"""``-- bootmigrate: no-transaction`` steps: VACUUM, journal_mode, self-managed rebuilds.

The batch before such a step commits first, the step runs alone, its ledger row is
written only after it succeeded, and the batch after it is a new transaction.
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

import bootmigrate
from bootmigrate.testing._fingerprint import fingerprint
from dbfiles import make_set, read_db
from processes import finish, rounds, start, wait_for

NO_TX = "-- bootmigrate: no-transaction\n"

BASE = {
    "0001_notes.up.sql": (
        "CREATE TABLE note (id INTEGER PRIMARY KEY, body TEXT NOT NULL);\n"
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000)\n"
        "INSERT INTO note (body) SELECT printf('note %d %.200c', i, 'x') FROM n;\n"
    ),
    "0002_keep.up.sql": "CREATE TABLE keep (k TEXT);\nINSERT INTO keep VALUES ('kept');\n",
}


def _db(tmp_path: Path, files: dict[str, str], target: int | None = None) -> tuple[Path, Path]:
    source = make_set(tmp_path, {**BASE, **files})
    db = tmp_path / "app.db"
    if target is not None:
        bootmigrate.migrate(db, source, target=target)
    return source, db


def test_a_vacuum_step_applies_and_its_effect_persists(tmp_path: Path) -> None:
    source, db = _db(
        tmp_path,
        {
            "0003_prune.up.sql": "DELETE FROM note WHERE id > 100;\n",
            "0004_vacuum.up.sql": NO_TX + "-- give the pages back to the file system\nVACUUM;\n",
            "0005_after.up.sql": "CREATE TABLE after_vacuum (x);\n",
        },
        target=2,
    )
    size_before = db.stat().st_size
    report = bootmigrate.migrate(db, source)
    assert [s.version for s in report.steps] == [3, 4, 5]
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA freelist_count").fetchone()[0] == 0
    conn.close()
    assert db.stat().st_size < size_before / 4
    snapshot = read_db(db)
    assert snapshot.versions == (1, 2, 3, 4, 5) and snapshot.user_version == 5
    assert len(snapshot.rows["note"]) == 100 and snapshot.rows["keep"] == (("kept",),)


def test_a_journal_mode_step_applies_and_persists(tmp_path: Path) -> None:
    source, db = _db(
        tmp_path,
        {
            "0003_wal.up.sql": NO_TX + "PRAGMA journal_mode = WAL;\n",
            "0004_after.up.sql": "CREATE TABLE after_wal (x);\n",
        },
        target=2,
    )
    bootmigrate.migrate(db, source)
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()
    assert read_db(db).versions == (1, 2, 3, 4)
    assert bootmigrate.migrate(db, source).state == "up-to-date"


GOLANG_MIGRATE_REBUILD = """-- bootmigrate: no-transaction
-- Written for golang-migrate's no-wrap mode: the file manages its own transaction.
PRAGMA foreign_keys=OFF;
BEGIN;
CREATE TABLE note_new (id INTEGER PRIMARY KEY, body TEXT NOT NULL, pinned INTEGER DEFAULT 0);
INSERT INTO note_new (id, body) SELECT id, body FROM note;
DROP TABLE note;
ALTER TABLE note_new RENAME TO note;
COMMIT;
PRAGMA foreign_keys=ON;
"""


@pytest.mark.parametrize("enforcing", [False, True])
def test_a_self_managed_rebuild_applies_unchanged(tmp_path: Path, enforcing: bool) -> None:
    source, db = _db(
        tmp_path,
        {
            "0003_attachment.up.sql": (
                "CREATE TABLE attachment (id INTEGER PRIMARY KEY,\n"
                "  note_id INTEGER REFERENCES note (id) ON DELETE CASCADE);\n"
                "INSERT INTO attachment (note_id) SELECT id FROM note WHERE id % 10 = 0;\n"
            ),
            "0004_rebuild.up.sql": GOLANG_MIGRATE_REBUILD,
            "0005_after.up.sql": "CREATE TABLE after_rebuild (x);\n",
        },
        target=3,
    )
    before = fingerprint(db)
    notes = set(read_db(db).rows["note"])
    conn = sqlite3.connect(db)
    conn.execute(f"PRAGMA foreign_keys = {int(enforcing)}")
    report = bootmigrate.migrate(conn, source)
    # The file's own PRAGMA foreign_keys=ON did not leak into the app's connection.
    assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == int(enforcing)
    conn.close()
    assert [s.version for s in report.steps] == [4, 5]
    after = fingerprint(db)
    assert after["attachment"] == before["attachment"] and after["keep"] == before["keep"]
    snapshot = read_db(db)
    assert snapshot.versions == (1, 2, 3, 4, 5)
    assert {row[:2] for row in snapshot.rows["note"]} == notes
    assert {row[2] for row in snapshot.rows["note"]} == {0}  # the new column


def test_the_batches_around_a_step_commit_on_their_own(tmp_path: Path) -> None:
    """A failing step leaves the batch before it committed and the batch after unapplied."""
    source, db = _db(
        tmp_path,
        {
            "0003_before.up.sql": "CREATE TABLE before_step (x);\n",
            "0004_step.up.sql": NO_TX + "SELECT no_such_function();\n",
            "0005_after.up.sql": "CREATE TABLE after_step (x);\n",
        },
        target=2,
    )
    with pytest.raises(bootmigrate.StatementError) as info:
        bootmigrate.migrate(db, source)
    message = str(info.value)
    assert "'0004_step.up.sql' statement 1 (line 2) failed: no such function" in message
    assert "none of its statements took effect" in message
    assert "database is at version 3" in message and "retried" in message
    snapshot = read_db(db)
    assert snapshot.versions == (1, 2, 3) and snapshot.user_version == 3
    assert "before_step" in snapshot.tables and "after_step" not in snapshot.tables
    # The next run (with the file fixed) retries the step, then runs the next batch.
    make_set(tmp_path, {"0004_step.up.sql": NO_TX + "SELECT 1;\n"})
    report = bootmigrate.migrate(db, source)
    assert [s.version for s in report.steps] == [4, 5]
    assert read_db(db).versions == (1, 2, 3, 4, 5)


def test_a_file_that_leaves_its_transaction_open_is_rolled_back(tmp_path: Path) -> None:
    source, db = _db(
        tmp_path,
        {
            "0003_open.up.sql": NO_TX
            + "BEGIN;\nCREATE TABLE half (x);\nINSERT INTO half VALUES (1);\n"
        },
        target=2,
    )
    before = read_db(db)
    with pytest.raises(bootmigrate.StatementError, match="left a transaction open") as info:
        bootmigrate.migrate(db, source)
    assert info.value.filename == "0003_open.up.sql" and info.value.statement == 3
    assert "none of its statements took effect" in str(info.value)
    assert read_db(db) == before


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("CREATE TABLE x (a);\n-- bootmigrate: no-transaction\n", 2),
        ("-- bootmigrate: no-transactions\nVACUUM;\n", 1),
    ],
    ids=["after-a-statement", "misspelt"],
)
def test_a_directive_in_the_wrong_place_is_an_error(tmp_path: Path, text: str, line: int) -> None:
    source, db = _db(tmp_path, {}, target=2)
    make_set(tmp_path, {"0003_bad.up.sql": text})
    before = read_db(db)
    with pytest.raises(bootmigrate.DirectiveError) as info:
        bootmigrate.migrate(db, source)
    assert info.value.filename == "0003_bad.up.sql" and info.value.line == line
    assert read_db(db) == before


PARTIAL = (
    NO_TX + "CREATE TABLE half (x);\nINSERT INTO half VALUES (1);\nSELECT no_such_function();\n"
)


def test_a_partly_applied_step_says_so_and_what_to_do(tmp_path: Path) -> None:
    source, db = _db(tmp_path, {"0003_partial.up.sql": PARTIAL}, target=1)
    with pytest.raises(bootmigrate.StatementError) as info:
        bootmigrate.migrate(db, source)
    message = str(info.value)
    assert "statement 3 (line 4) failed" in message
    assert "what it ran took effect and could not be undone" in message
    assert "database is at version 2 with '0003_partial.up.sql' partly applied" in message
    assert "retries the whole file" in message and "backup=True" in message
    snapshot = read_db(db)
    assert snapshot.versions == (1, 2) and snapshot.rows["half"] == ((1,),)


def test_a_partly_applied_step_is_undone_from_the_backup(tmp_path: Path) -> None:
    source, db = _db(tmp_path, {"0003_partial.up.sql": PARTIAL}, target=1)
    before = read_db(db)
    rows = fingerprint(db)
    with pytest.raises(bootmigrate.StatementError) as info:
        bootmigrate.migrate(db, source, backup=True)
    message = str(info.value)
    assert "the database was restored from the backup" in message
    assert "as it was before the run (version 1)" in message
    (backup,) = db.parent.glob("app.db.*.bootmigrate-backup")
    assert str(backup) in message
    # Back to version 1: also the batch before the step (0002) is undone.
    assert read_db(db) == before
    assert fingerprint(db) == rows


RACE = NO_TX + (
    "CREATE TABLE IF NOT EXISTS step_runs (n INTEGER);\n"
    "CREATE TABLE IF NOT EXISTS filler (n INTEGER);\n"
    "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 200000)\n"
    "INSERT INTO filler SELECT i FROM c;\n"
    "INSERT INTO step_runs VALUES (1);\n"
)


@pytest.mark.process
def test_processes_racing_on_a_step_run_it_once(tmp_path: Path) -> None:
    """The write lock is released around the step; the step lock keeps others out."""
    source, template = _db(
        tmp_path,
        {"0003_slow.up.sql": RACE, "0004_after.up.sql": "CREATE TABLE after_step (x);\n"},
        target=2,
    )
    for round_ in range(rounds(3, 20)):
        work = tmp_path / f"round{round_}"
        work.mkdir()
        db = work / "app.db"
        shutil.copyfile(template, db)
        go = work / "go"
        workers = [
            start("boot", [db, source, "--ready", work / f"r{i}", "--go", go]) for i in range(4)
        ]
        for i, process in enumerate(workers):
            wait_for(work / f"r{i}", process)
        go.touch()
        results = [finish(process) for process in workers]
        assert [code for code, _ in results] == [0] * 4, results
        assert sorted(r["state"] for _, r in results) == ["migrated"] + ["up-to-date"] * 3
        snapshot = read_db(db)
        assert snapshot.rows["step_runs"] == ((1,),), "the step ran more than once"
        assert len(snapshot.rows["filler"]) == 200000
        assert snapshot.versions == (1, 2, 3, 4)


HOLD_STEP_LOCK = """
import fcntl, os, sys, time
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT)
fcntl.flock(fd, fcntl.LOCK_EX)
open(sys.argv[2], "w").close()
time.sleep(60)
"""


@pytest.mark.process
def test_a_run_waits_for_the_step_lock_only_up_to_the_timeout(tmp_path: Path) -> None:
    source, db = _db(tmp_path, {"0003_vacuum.up.sql": NO_TX + "VACUUM;\n"}, target=2)
    before = read_db(db)
    lock = Path(f"{db}-bootmigrate-lock")
    ready = tmp_path / "locked"
    holder = subprocess.Popen([sys.executable, "-c", HOLD_STEP_LOCK, str(lock), str(ready)])
    try:
        wait_for(ready)
        with pytest.raises(bootmigrate.DatabaseBusy, match=r"more than 0\.3 s"):
            bootmigrate.migrate(db, source, timeout=0.3)
    finally:
        holder.kill()
        holder.wait()
    assert read_db(db) == before
    # The holder died: the OS released its lock, nothing stale is left to clear.
    assert bootmigrate.migrate(db, source, timeout=5).to_version == 3


def test_transactional_runs_take_no_step_lock(tmp_path: Path) -> None:
    source, db = _db(tmp_path, {}, target=None)
    bootmigrate.migrate(db, source)
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("app.db")) == ["app.db"]


# Committed by itself (autocommit): a step that runs alone.
ORPHANING_STEP = NO_TX + "DELETE FROM parent WHERE id = 2;\n"


@pytest.mark.parametrize("backup", [False, True])
def test_a_step_that_commits_orphans_itself_is_caught(tmp_path: Path, backup: bool) -> None:
    """The file's own COMMIT skips the runner's check, so the check runs after the file."""
    source, db = _db(
        tmp_path,
        {
            "0003_family.up.sql": (
                "CREATE TABLE parent (id INTEGER PRIMARY KEY);\n"
                "CREATE TABLE child (id INTEGER PRIMARY KEY,\n"
                "  parent_id INTEGER REFERENCES parent (id) ON DELETE CASCADE);\n"
                "INSERT INTO parent VALUES (1), (2);\n"
                "INSERT INTO child (parent_id) VALUES (1), (2), (2);\n"
            ),
            "0004_orphans.up.sql": ORPHANING_STEP,
        },
        target=2,
    )
    before = read_db(db)
    with pytest.raises(bootmigrate.ForeignKeyViolation) as info:
        bootmigrate.migrate(db, source, backup=backup)
    message = str(info.value)
    assert (
        "'0004_orphans.up.sql' left 2 foreign key violation(s): child rowid 2 -> parent" in message
    )
    assert [(t, r, p) for t, r, p, _ in info.value.violations] == [
        ("child", 2, "parent"),
        ("child", 3, "parent"),
    ]
    snapshot = read_db(db)
    if backup:
        assert "restored from the backup" in message
        assert snapshot == before
    else:
        assert "database is at version 3 with '0004_orphans.up.sql' partly applied" in message
        assert snapshot.versions == (1, 2, 3) and snapshot.rows["parent"] == ((1,),)


def test_a_step_in_one_explicit_transaction_runs_in_the_runs_and_is_rolled_back(
    tmp_path: Path,
) -> None:
    """BEGIN ... COMMIT (golang-migrate's no-wrap style): the body runs inside the run's
    transaction, so its orphans roll back the whole run, 0003 included."""
    source, db = _db(
        tmp_path,
        {
            "0003_family.up.sql": (
                "CREATE TABLE parent (id INTEGER PRIMARY KEY);\n"
                "CREATE TABLE child (id INTEGER PRIMARY KEY,\n"
                "  parent_id INTEGER REFERENCES parent (id) ON DELETE CASCADE);\n"
                "INSERT INTO parent VALUES (1), (2);\n"
                "INSERT INTO child (parent_id) VALUES (1), (2), (2);\n"
            ),
            "0004_orphans.up.sql": (
                NO_TX + "PRAGMA foreign_keys = OFF;\nBEGIN;\nDELETE FROM parent WHERE id = 2;\n"
                "COMMIT;\nPRAGMA foreign_keys = ON;\n"
            ),
        },
        target=2,
    )
    before = db.read_bytes()
    with pytest.raises(bootmigrate.ForeignKeyViolation) as info:
        bootmigrate.migrate(db, source)
    assert str(info.value) == (
        "after the run the database has 2 foreign key violation(s): child rowid 2 -> parent; "
        "child rowid 3 -> parent; the run was rolled back and the database is unchanged. "
        "Fix the migration so it keeps or deletes the child rows"
    )
    assert db.read_bytes() == before
    assert not (tmp_path / "app.db-bootmigrate-lock").exists()


def test_a_failing_statement_in_one_explicit_transaction_is_named_by_its_line(
    tmp_path: Path,
) -> None:
    source, db = _db(
        tmp_path,
        {
            "0003_x.up.sql": NO_TX
            + "BEGIN;\nCREATE TABLE x (a);\nINSERT INTO nope VALUES (1);\nCOMMIT;\n"
        },
        target=2,
    )
    before = db.read_bytes()
    with pytest.raises(bootmigrate.StatementError) as info:
        bootmigrate.migrate(db, source)
    assert str(info.value).startswith(
        "'0003_x.up.sql' statement 3 (line 4) failed: no such table: nope; "
        "the run was rolled back and the database is unchanged"
    ), str(info.value)
    assert db.read_bytes() == before
