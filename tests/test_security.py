"""Security: nothing bootmigrate creates can be turned against the user.

- a symbolic link planted at every path bootmigrate creates (the backup, the partial
  backup under its old predictable name and its random one, the step lock file, the
  database's directory) is never followed: the victim keeps its bytes, mode and mtime, no
  file appears at a dangling link's target, and the run works or refuses naming the path;
- under umask 022 no copy of a 0600 database is ever more readable than it, while the
  backup is written (watched at every Python call of the run, and by a thread) or after a
  SIGKILL at each step of writing it; the lock file neither;
- a hostile ledger (huge names, SQL and NUL in text, bad checksums, a view for the
  ledger, triggers, indexes, views, defaults and checks that call the app's functions,
  TEMP triggers on a borrowed connection, odd meta rows and notes) is refused before
  anything runs, the file byte-identical, and no planted SQL or app function runs;
- a migration that reaches for the ledger indirectly is refused.

Real files, new connections and processes, the public API (one test fixes the clock of
the backup module to know the backup's name in advance).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import sqlite3
import stat
import sys
import threading
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

import bootmigrate
from dbfiles import make_set, read_db
from processes import start

NO_TX = "-- bootmigrate: no-transaction\n"
FILES = {
    "0001_a.up.sql": "CREATE TABLE a (x);\nINSERT INTO a VALUES (1);\n",
    "0002_b.up.sql": "CREATE TABLE b (x);\n",
    "0003_step.up.sql": NO_TX + "CREATE TABLE IF NOT EXISTS c (x);\n",  # takes the step lock
}


def at_version(directory: Path, files: dict[str, str], version: int) -> tuple[Path, Path]:
    source = make_set(directory, files)
    data = directory / "data"
    data.mkdir(exist_ok=True)
    db = data / "app.db"
    bootmigrate.migrate(db, source, target=version)
    return source, db


def mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


@contextlib.contextmanager
def umask(value: int) -> Iterator[None]:
    old = os.umask(value)
    try:
        yield
    finally:
        os.umask(old)


def image(db: Path) -> tuple[bytes, tuple[str, ...]]:
    """The main file's bytes and the side files beside it: "byte-identical"."""
    sides = ("-journal", "-wal", "-shm")
    return db.read_bytes(), tuple(s for s in sides if Path(f"{db}{s}").exists())


# -- planted symbolic links -------------------------------------------------------------

VICTIMS = ["text-file", "other-database", "directory", "dangling"]


def make_victim(path: Path, kind: str) -> None:
    if kind == "text-file":
        path.write_text("precious\n")
    elif kind == "other-database":
        conn = sqlite3.connect(path)
        conn.execute("CREATE TABLE secret (s TEXT)")
        conn.execute("INSERT INTO secret VALUES ('the user''s other data')")
        conn.commit()
        conn.close()
    elif kind == "directory":
        path.mkdir()
        (path / "inside").write_text("kept\n")
    if kind != "dangling":
        path.chmod(0o640 if kind != "directory" else 0o750)
        os.utime(path, ns=(1_000_000_000, 1_000_000_000))


def victim_state(path: Path) -> tuple[Any, ...] | None:
    """Bytes (or listing), mode and mtime; None when there is nothing there."""
    if not path.exists() and not path.is_symlink():
        return None
    st = path.lstat()
    content: Any = (
        sorted((p.name, p.read_bytes()) for p in path.iterdir())
        if path.is_dir()
        else path.read_bytes()
    )
    return content, stat.S_IMODE(st.st_mode), st.st_mtime_ns


class _FixedClock(datetime):
    """``datetime`` whose now() is 2030-01-01: the backup's name is known in advance."""

    @classmethod
    def now(cls, tz: Any = None) -> _FixedClock:
        return cls(2030, 1, 1, tzinfo=timezone.utc)


FINAL_BACKUP = "app.db.20300101T000000000000Z-v2.bootmigrate-backup"


def plant(where: str, db: Path, victim: Path) -> list[Path]:
    """Symbolic links to *victim* at the path(s) *where* names; the links."""
    pid = os.getpid()
    names = {
        "final-backup": [FINAL_BACKUP],
        # The partial backup's old predictable name, and its journal's.
        "old-partial": [f".app.db.{pid}.backup-partial"],
        "old-partial-journal": [f".app.db.{pid}.backup-partial-journal"],
        # Names in the new pattern (mkstemp's are random: these are guesses).
        "partial-guesses": [f".app.db.{pid}.{tag}.backup-partial" for tag in ("aaaaaaaa", "x_1")],
        # A partial of a live process (pid 1): left alone.
        "other-process-partial": [".app.db.1.abcdefgh.backup-partial"],
        "lock": ["app.db-bootmigrate-lock"],
        # An older backup name: rotation must not delete or follow the victim.
        "old-backup": ["app.db.20200101T000000000000Z-v1.bootmigrate-backup"],
    }[where]
    links = []
    for name in names:
        link = db.parent / name
        link.symlink_to(victim)
        links.append(link)
    return links


WHERE = [
    "final-backup",
    "old-partial",
    "old-partial-journal",
    "partial-guesses",
    "other-process-partial",
    "lock",
    "old-backup",
]


@pytest.mark.parametrize("kind", VICTIMS)
@pytest.mark.parametrize("where", WHERE)
def test_a_planted_symlink_is_never_followed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str, kind: str
) -> None:
    source, db = at_version(tmp_path, FILES, 2)
    db.chmod(0o600)
    victim = tmp_path / "victim"
    make_victim(victim, kind)
    before, snapshot = victim_state(victim), read_db(db)
    if where == "final-backup":
        import bootmigrate._db.backup as backup_module

        monkeypatch.setattr(backup_module, "datetime", _FixedClock)
    links = plant(where, db, victim)
    try:
        report = bootmigrate.migrate(db, source, backup=True)
    except bootmigrate.MigrationError as exc:
        # Refusing is fine when it names what it refused; the database is untouched.
        assert any(str(link) in str(exc) or link.name in str(exc) for link in links), exc
        assert read_db(db) == snapshot
    else:
        assert report.to_version == 3
        assert read_db(db).versions == (1, 2, 3)
        backups = [p for p in db.parent.iterdir() if p.name.endswith(".bootmigrate-backup")]
        real = [p for p in backups if not p.is_symlink()]
        assert len(real) == 1 and read_db(real[0]) == snapshot
        assert mode(real[0]) == 0o600
    assert victim_state(victim) == before  # not written, truncated, chmod-ed or created
    for link in links:  # still a link to the victim, or removed; never replaced by data
        assert not link.exists() or link.is_symlink() or where == "final-backup"


@pytest.mark.parametrize("kind", ["text-file", "dangling", "directory"])
def test_a_lock_file_reached_through_a_symlinked_database(tmp_path: Path, kind: str) -> None:
    """The lock is named after the real path: a link planted at the name built from the
    link's path is never opened, and one at the real name is refused, not followed."""
    source, db = at_version(tmp_path, FILES, 2)
    alias = db.parent / "alias.db"
    alias.symlink_to(db.name)
    victim = tmp_path / "victim"
    make_victim(victim, kind)
    before = victim_state(victim)
    (db.parent / "alias.db-bootmigrate-lock").symlink_to(victim)
    assert bootmigrate.migrate(alias, source).to_version == 3
    assert victim_state(victim) == before
    assert (db.parent / "app.db-bootmigrate-lock").is_file()


def test_a_database_in_a_symlinked_directory_writes_only_there(tmp_path: Path) -> None:
    """The database's directory is a link to another one: what the run creates (backup,
    lock) lands beside the real file, and nothing outside it changes."""
    source, db = at_version(tmp_path / "real", FILES, 2)
    linked = tmp_path / "linked"
    linked.symlink_to(db.parent, target_is_directory=True)
    outside = {p.name for p in tmp_path.iterdir()}
    report = bootmigrate.migrate(linked / "app.db", source, backup=True)
    assert report.to_version == 3
    names = sorted(p.name for p in db.parent.iterdir())
    assert "app.db-bootmigrate-lock" in names
    assert len([n for n in names if n.endswith(".bootmigrate-backup")]) == 1
    assert {p.name for p in tmp_path.iterdir()} == outside


def test_a_dangling_directory_link_creates_nothing_at_its_target(tmp_path: Path) -> None:
    source = make_set(tmp_path, FILES)
    target = tmp_path / "nowhere"
    linked = tmp_path / "linked"
    linked.symlink_to(target, target_is_directory=True)
    with pytest.raises(bootmigrate.MigrationError) as info:
        bootmigrate.migrate(linked / "app.db", source, backup=True)
    assert str(linked) in str(info.value) or str(target) in str(info.value)
    assert not target.exists()


# -- file modes under umask 022 -----------------------------------------------------------

# A 20 MB database: writing its copy takes a while.
BIG = {
    "0001_big.up.sql": (
        "CREATE TABLE big (b BLOB);\n"
        "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 20000)\n"
        "INSERT INTO big SELECT randomblob(1000) FROM c;\n"
    ),
    "0002_b.up.sql": "CREATE TABLE b (x);\n",
    "0003_step.up.sql": NO_TX + "CREATE TABLE IF NOT EXISTS c (x);\n",
}


@pytest.fixture(scope="module")
def big_template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    directory = tmp_path_factory.mktemp("big")
    return at_version(directory, BIG, 1)


def big_copy(template: tuple[Path, Path], directory: Path, db_mode: int) -> tuple[Path, Path]:
    source, original = template
    data = directory / "data"
    data.mkdir()
    db = data / "app.db"
    shutil.copyfile(original, db)
    db.chmod(db_mode)
    return source, db


class Watcher:
    """Records the mode of every file that appears beside the database: at every Python
    call of the run (a profile hook, so no moment between two calls is missed) and, from
    a thread, while C code runs (the copy itself)."""

    def __init__(self, directory: Path, known: set[str]) -> None:
        self.directory = directory
        self.known = known
        self.seen: dict[str, int] = {}
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._spin, daemon=True)

    def look(self) -> None:
        try:
            entries = list(os.scandir(self.directory))
        except FileNotFoundError:
            return
        for entry in entries:
            if entry.name in self.known:
                continue
            try:
                found = stat.S_IMODE(entry.stat(follow_symlinks=False).st_mode)
            except FileNotFoundError:
                continue  # renamed or removed between the listing and the stat
            with self._lock:
                self.seen[entry.name] = self.seen.get(entry.name, 0) | found

    def _profile(self, frame: Any, event: str, arg: Any) -> None:
        if event in ("call", "c_call"):
            self.look()

    def _spin(self) -> None:
        while not self._stop.is_set():
            self.look()

    def __enter__(self) -> Watcher:
        self._thread.start()
        sys.setprofile(self._profile)
        return self

    def __exit__(self, *exc: object) -> None:
        sys.setprofile(None)
        self._stop.set()
        self._thread.join()


@pytest.mark.parametrize("db_mode", [0o600, 0o640])
def test_no_copy_is_ever_more_readable_than_the_database(
    tmp_path: Path, big_template: tuple[Path, Path], db_mode: int
) -> None:
    source, db = big_copy(big_template, tmp_path, db_mode)
    with umask(0o022), Watcher(db.parent, {db.name}) as watcher:
        assert bootmigrate.migrate(db, source, backup=True).to_version == 3
    partials = [name for name in watcher.seen if name.endswith(".backup-partial")]
    assert partials, f"the partial backup was never seen: {watcher.seen}"
    readable = {
        name: oct(found) for name, found in watcher.seen.items() if found & ~db_mode & 0o777
    }
    assert readable == {}, f"more readable than the {oct(db_mode)} database: {readable}"
    assert mode(db.parent / "app.db-bootmigrate-lock") & ~db_mode == 0


# Where the kill lands while the backup is written: (event, function, nth call).
BACKUP_STEPS = [
    ("call", "mkstemp", 1),  # before the partial file exists
    ("c_call", "close", 1),  # it exists, empty (os.close of mkstemp's descriptor)
    ("c_call", "Connection.backup", 1),  # the copy begins
    ("c_call", "chmod", 1),  # copied, not yet given the database's mode
    ("c_call", "fsync", 1),  # flushed
    ("c_call", "replace", 1),  # renamed into place
]


@pytest.mark.process
def test_a_backup_killed_at_each_step_leaves_nothing_readable(
    tmp_path: Path, big_template: tuple[Path, Path]
) -> None:
    for event, function, nth in BACKUP_STEPS:
        directory = tmp_path / function.replace(".", "_")
        directory.mkdir()
        source, db = big_copy(big_template, directory, 0o600)
        spec = {
            "db": str(db),
            "source": str(source),
            "backup": True,
            "keep": 1,
            "access": {
                "borrowed": False,
                "pragmas": [],
                "exclusive": False,
                "row_factory": None,
                "text_bytes": False,
                "isolation_none": False,
            },
            "kill_on": [event, function, nth],
        }
        path = directory / "spec.json"
        path.write_text(json.dumps(spec), encoding="utf-8")
        with umask(0o022):
            process = start("promise", [path])
            out, err = process.communicate(timeout=120)
        assert process.returncode == -signal.SIGKILL, (function, out, err)
        left = {p.name: mode(p) for p in db.parent.iterdir() if p.name != db.name}
        readable = {name: oct(m) for name, m in left.items() if m & 0o077}
        assert readable == {}, f"killed at {function}: more readable than the database: {readable}"
        assert read_db(db).versions == (1,)
        # The next run with a backup removes what the killed one left half-written.
        with umask(0o022):
            assert bootmigrate.migrate(db, source, backup=True).to_version == 3
        partials = [p.name for p in db.parent.iterdir() if p.name.endswith(".backup-partial")]
        assert partials == [], f"killed at {function}: {partials} stayed"


@pytest.mark.parametrize("db_mode", [0o600, 0o640, 0o644])
def test_the_lock_file_is_no_more_readable_than_the_database(tmp_path: Path, db_mode: int) -> None:
    source, db = at_version(tmp_path, FILES, 2)
    db.chmod(db_mode)
    with umask(0o000):
        bootmigrate.migrate(db, source)
    lock = db.parent / "app.db-bootmigrate-lock"
    assert mode(lock) & ~db_mode == 0, oct(mode(lock))


# -- a hostile ledger ----------------------------------------------------------------------

SPY_ARGS = "spy(NEW.name)"
LOOSE = (
    "CREATE TABLE loose AS SELECT * FROM bootmigrate_ledger",
    "DROP TABLE bootmigrate_ledger",
)


def _ledger_with(column_extra: str) -> tuple[str, ...]:
    """The ledger rebuilt with something extra in its definition."""
    return (
        *LOOSE,
        "CREATE TABLE bootmigrate_ledger (version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
        "checksum TEXT NOT NULL, applied_at TEXT NOT NULL, execution_ms REAL NOT NULL, "
        "bootmigrate_version TEXT NOT NULL, backward_compatible INTEGER NOT NULL DEFAULT 0"
        f"{column_extra})",
        "INSERT INTO bootmigrate_ledger (version, name, checksum, applied_at, execution_ms, "
        "bootmigrate_version, backward_compatible) SELECT * FROM loose",
        "DROP TABLE loose",
    )


# What is planted in the file: refused (a LedgerError, or a PlanError for rows that are
# well-formed but are not what the files say), before anything runs.
PLANTED = {
    "huge-name": ("UPDATE bootmigrate_ledger SET name = printf('%.1000000c', 'x')",),
    "sql-in-name": ("UPDATE bootmigrate_ledger SET name = 'a''); DROP TABLE a; --'",),
    "nul-in-name": ("UPDATE bootmigrate_ledger SET name = 'a' || char(0) || 'b'",),
    "nul-in-checksum": (
        "UPDATE bootmigrate_ledger SET checksum = substr(checksum, 1, 63) || char(0)",
    ),
    "short-checksum": ("UPDATE bootmigrate_ledger SET checksum = 'abc'",),
    "long-checksum": ("UPDATE bootmigrate_ledger SET checksum = checksum || 'a'",),
    "blob-checksum": ("UPDATE bootmigrate_ledger SET checksum = zeroblob(64)",),
    "view-as-ledger": (
        "DROP TABLE bootmigrate_ledger",
        "CREATE VIEW bootmigrate_ledger AS SELECT 1 AS version, spy('view') AS name, "
        "'x' AS checksum, '' AS applied_at, 0 AS execution_ms, '' AS bootmigrate_version, "
        "0 AS backward_compatible",
    ),
    "trigger-on-ledger": (
        f"CREATE TRIGGER planted AFTER INSERT ON bootmigrate_ledger BEGIN SELECT {SPY_ARGS}; END",
    ),
    "trigger-on-meta": (
        "CREATE TRIGGER planted BEFORE UPDATE ON bootmigrate_meta BEGIN SELECT spy(OLD.key); END",
    ),
    "delete-trigger-on-meta": (
        "CREATE TRIGGER planted AFTER DELETE ON bootmigrate_meta BEGIN SELECT spy(OLD.key); END",
    ),
    "index-on-ledger": ("CREATE INDEX planted ON bootmigrate_ledger (spy(name))",),
    "partial-index-on-meta": (
        "CREATE INDEX planted ON bootmigrate_meta (key) WHERE spy(value) IS NULL",
    ),
    "default-calls-app": _ledger_with(", extra TEXT DEFAULT (spy('default'))"),
    "check-calls-app": _ledger_with(", CHECK (spy(name) IS NULL)"),
    "generated-column": _ledger_with(", g TEXT GENERATED ALWAYS AS (spy(name)) VIRTUAL"),
    "meta-as-view": (
        "DROP TABLE bootmigrate_meta",
        "CREATE VIEW bootmigrate_meta AS SELECT 'ledger_format' AS key, spy('meta') AS value",
    ),
    "note-not-json": ("INSERT INTO bootmigrate_meta VALUES ('unfinished_step', 'DROP TABLE a')",),
    "note-huge": (
        "INSERT INTO bootmigrate_meta VALUES ('unfinished_step', printf('%.20000000c', 'x'))",
    ),
    "note-wrong-shape": (
        "INSERT INTO bootmigrate_meta VALUES ('unfinished_step', "
        '\'{"version": "x", "name": null, "orphans": 5}\')',
    ),
}
# Well-formed and harmless: bootmigrate may run; nothing planted may run with it.
TOLERATED = {
    # A later release of the same ledger format may keep more keys; they are data.
    "meta-extra-key": (
        "INSERT INTO bootmigrate_meta VALUES ('planted', 'DROP TABLE a; SELECT spy(1)')",
    ),
    # A view that reads the ledger is not on it: nothing of the runner's reads it.
    "view-reading-ledger": ("CREATE VIEW planted AS SELECT spy(name) FROM bootmigrate_ledger",),
    # A note of a huge but well-formed shape for the pending (transactional) version.
    "note-huge-but-well-formed": (
        "INSERT INTO bootmigrate_meta VALUES ('unfinished_step', json_object('version', 2, "
        "'name', 'b', 'orphans', json('[' || (WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL "
        "SELECT i + 1 FROM c WHERE i < 100000) SELECT group_concat('[\"t\", ' || i || "
        "', \"p\", 0]') FROM c) || ']')))",
    ),
}
# Planted on the app's own (borrowed) connection, not in the file.
TEMPORARY = {
    "temp-trigger-on-ledger": (
        "CREATE TEMP TRIGGER planted AFTER INSERT ON main.bootmigrate_ledger "
        f"BEGIN SELECT {SPY_ARGS}; END",
    ),
    "temp-trigger-on-meta": (
        "CREATE TEMP TRIGGER planted AFTER INSERT ON main.bootmigrate_meta "
        "BEGIN SELECT spy(NEW.key); END",
    ),
}
# TEMP objects that shadow the runner's tables' names: bootmigrate names main. itself.
SHADOWS = {
    "temp-view-named-ledger": (
        "CREATE TEMP VIEW bootmigrate_ledger AS SELECT 1 AS version, spy('temp view') AS name",
    ),
    "temp-table-named-ledger": (
        "CREATE TEMP TABLE bootmigrate_ledger (version, name, checksum)",
        "INSERT INTO temp.bootmigrate_ledger VALUES (99, 'planted', spy('temp table'))",
    ),
}


def _hostile(tmp_path: Path, statements: tuple[str, ...]) -> tuple[Path, Path]:
    files = {"0001_a.up.sql": FILES["0001_a.up.sql"], "0002_b.up.sql": FILES["0002_b.up.sql"]}
    source, db = at_version(tmp_path, files, 1)
    conn = sqlite3.connect(db)
    conn.create_function("spy", -1, lambda *args: None, deterministic=True)
    for statement in statements:
        conn.execute(statement)
    conn.commit()
    conn.close()
    return source, db


def _app(db: Path, calls: list[Any], statements: tuple[str, ...] = ()) -> sqlite3.Connection:
    """The app's connection, with a function that records every call."""
    conn = sqlite3.connect(db)
    conn.create_function("spy", -1, lambda *args: calls.append(args), deterministic=True)
    for statement in statements:
        conn.execute(statement)
    conn.commit()
    return conn


@pytest.mark.parametrize("case", list(PLANTED))
def test_a_hostile_ledger_is_refused_and_runs_nothing(tmp_path: Path, case: str) -> None:
    source, db = _hostile(tmp_path, PLANTED[case])
    before = image(db)
    calls: list[Any] = []
    conn = _app(db, calls)
    try:
        with pytest.raises((bootmigrate.LedgerError, bootmigrate.PlanError)) as info:
            bootmigrate.migrate(conn, source)
        # A planted value of megabytes is shown cut short.
        assert len(str(info.value)) < 1000, len(str(info.value))
        # status() may report instead of raising (it does not read a step's note), but it
        # raises nothing else and runs nothing planted either.
        with contextlib.suppress(bootmigrate.MigrationError):
            bootmigrate.status(conn, source)
    finally:
        conn.close()
    assert calls == []
    assert image(db) == before


def test_a_deeply_nested_note_is_a_ledger_error(tmp_path: Path) -> None:
    source, db = _hostile(
        tmp_path,
        ("INSERT INTO bootmigrate_meta VALUES ('unfinished_step', printf('%.100000c', '['))",),
    )
    before = image(db)
    try:
        with pytest.raises(bootmigrate.LedgerError):
            bootmigrate.migrate(db, source)
    finally:
        assert image(db) == before


@pytest.mark.parametrize("case", list(TOLERATED))
def test_a_harmless_oddity_in_the_ledger_runs_nothing(tmp_path: Path, case: str) -> None:
    source, db = _hostile(tmp_path, TOLERATED[case])
    calls: list[Any] = []
    conn = _app(db, calls)
    try:
        report = bootmigrate.migrate(conn, source)
    finally:
        conn.close()
    assert report.to_version == 2
    assert calls == []
    assert bootmigrate.status(db, source).current == 2


@pytest.mark.parametrize("case", list(TEMPORARY))
def test_a_temp_trigger_on_the_runners_tables_is_refused(tmp_path: Path, case: str) -> None:
    source, db = _hostile(tmp_path, ())
    before = image(db)
    calls: list[Any] = []
    conn = _app(db, calls, TEMPORARY[case])
    try:
        with pytest.raises(bootmigrate.LedgerError) as info:
            bootmigrate.migrate(conn, source)
        assert "planted" in str(info.value)
    finally:
        conn.close()
    assert calls == []
    assert image(db) == before


@pytest.mark.parametrize("case", list(SHADOWS))
def test_a_temp_object_named_like_the_ledger_is_never_read(tmp_path: Path, case: str) -> None:
    source, db = _hostile(tmp_path, ())
    calls: list[Any] = []
    conn = _app(db, calls, SHADOWS[case])
    planted_calls = len(calls)
    try:
        assert bootmigrate.migrate(conn, source).to_version == 2
    finally:
        conn.close()
    assert len(calls) == planted_calls  # only the app's own INSERT above called it
    assert [row[:2] for row in read_db(db).ledger] == [(1, "a"), (2, "b")]


# -- a migration that reaches for the ledger indirectly ------------------------------------

BASE = {"0001_a.up.sql": FILES["0001_a.up.sql"]}

REFUSED = {
    # A trigger on an app table that writes the ledger, fired later in the same file.
    "trigger-fired-later": (
        "CREATE TRIGGER sneaky AFTER INSERT ON a BEGIN DELETE FROM bootmigrate_ledger; END;\n"
        "INSERT INTO a VALUES (2);\n"
    ),
    "trigger-updating-meta": (
        "CREATE TRIGGER sneaky AFTER INSERT ON a BEGIN "
        "UPDATE bootmigrate_meta SET value = '9'; END;\nINSERT INTO a VALUES (2);\n"
    ),
    "view-instead-of-trigger": (
        "CREATE VIEW va AS SELECT x FROM a;\n"
        "CREATE TRIGGER sneaky INSTEAD OF INSERT ON va BEGIN "
        "DELETE FROM bootmigrate_ledger; END;\nINSERT INTO va VALUES (2);\n"
    ),
    "alter-rename-ledger": "ALTER TABLE bootmigrate_ledger RENAME TO gone;\n",
    # A TEMP trigger on the ledger: the runner's own ledger insert would fire it
    # (rewriting the row, or calling the app).
    "temp-trigger-on-ledger": (
        "CREATE TEMP TRIGGER sneaky AFTER INSERT ON main.bootmigrate_ledger BEGIN "
        "UPDATE bootmigrate_ledger SET name = 'hacked' WHERE version = NEW.version; END;\n"
        "CREATE TABLE b (x);\n"
    ),
    # writable_schema rewrites sqlite_master: the ledger renamed, or a trigger planted on it.
    "writable-schema-rename": (
        "PRAGMA writable_schema = ON;\n"
        "UPDATE sqlite_master SET name = 'gone', tbl_name = 'gone', "
        "sql = replace(sql, 'bootmigrate_ledger', 'gone') WHERE name = 'bootmigrate_ledger';\n"
        "PRAGMA writable_schema = OFF;\nCREATE TABLE b (x);\n"
    ),
    "writable-schema-trigger": (
        "PRAGMA writable_schema = ON;\n"
        "INSERT INTO sqlite_master VALUES ('trigger', 'sneaky', 'bootmigrate_ledger', 0, "
        "'CREATE TRIGGER sneaky AFTER INSERT ON bootmigrate_ledger BEGIN SELECT 1; END');\n"
        "PRAGMA writable_schema = OFF;\nCREATE TABLE b (x);\n"
    ),
}


def _reach(tmp_path: Path, text: str) -> tuple[Path, Path, tuple[bytes, tuple[str, ...]]]:
    source, db = at_version(tmp_path, BASE, 1)
    make_set(tmp_path, {"0002_b.up.sql": text})
    return source, db, image(db)


@pytest.mark.parametrize("case", list(REFUSED))
def test_a_migration_cannot_reach_the_ledger_indirectly(tmp_path: Path, case: str) -> None:
    source, db, before = _reach(tmp_path, REFUSED[case])
    with pytest.raises(bootmigrate.MigrationError) as info:
        bootmigrate.migrate(db, source)
    assert "0002_b.up.sql" in str(info.value)
    assert image(db) == before


def test_a_no_transaction_step_cannot_put_a_temp_trigger_on_the_ledger(tmp_path: Path) -> None:
    source, db, _ = _reach(
        tmp_path,
        NO_TX + "CREATE TEMP TRIGGER sneaky AFTER INSERT ON main.bootmigrate_ledger BEGIN "
        "UPDATE bootmigrate_ledger SET name = 'hacked' WHERE version = NEW.version; END;\n"
        "CREATE TABLE b (x);\n",
    )
    before = read_db(db)
    with pytest.raises(bootmigrate.StatementError) as info:
        bootmigrate.migrate(db, source)
    message = str(info.value)
    assert message.startswith("'0002_b.up.sql' statement 1 (line 2) failed: "), message
    assert (
        "it is a no-transaction migration and none of its statements took effect; the "
        "migrations before it were committed, so the database is at version 1" in message
    ), message
    after = read_db(db)
    assert (after.schema, after.rows) == (before.schema, before.rows)
    assert bootmigrate.status(db, source).current == 1


@pytest.mark.parametrize(
    "sql",
    [
        "PRAGMA writable_schema = ON;\nUPDATE sqlite_master SET sql = replace(sql, 'NOT NULL', "
        "'') WHERE name = 'bootmigrate_ledger';\nPRAGMA writable_schema = OFF;",
    ],
    ids=["writable-schema"],
)
def test_a_step_that_damaged_the_ledger_says_it_took_effect(tmp_path: Path, sql: str) -> None:
    source, db, _ = _reach(tmp_path, NO_TX + sql + "\nCREATE TABLE b (x);\n")
    with pytest.raises(bootmigrate.MigrationError) as info:
        bootmigrate.migrate(db, source)
    assert "b" in read_db(db).tables  # the step's CREATE TABLE took effect
    assert str(info.value) == (
        "'0002_b.up.sql' changed bootmigrate's own tables by editing sqlite_master "
        "(PRAGMA writable_schema): bootmigrate_ledger is not the table bootmigrate made; "
        "it is a no-transaction migration, so what it ran took effect and could not be "
        "undone: the database is at version 1 with '0002_b.up.sql' partly applied and not "
        "recorded. The next run retries the whole file, which is only safe if the file can "
        "run twice; otherwise restore the database from a backup first (backup=True takes "
        "one). A migration may edit only its own tables' entries; take that edit out"
    )


def test_a_borrowed_connection_with_writable_schema_on_cannot_hide_an_edit(
    tmp_path: Path,
) -> None:
    """The app left writable_schema on: the run turns it off, so a migration must set it
    itself to edit sqlite_master, which the runner watches for; the app gets it back."""
    source, db, before = _reach(
        tmp_path,
        "UPDATE sqlite_master SET sql = replace(sql, 'NOT NULL', '') "
        "WHERE name = 'bootmigrate_ledger';\nCREATE TABLE b (x);\n",
    )
    conn = sqlite3.connect(db)
    try:
        conn.execute("PRAGMA writable_schema = ON")
        with pytest.raises(bootmigrate.StatementError) as info:
            bootmigrate.migrate(conn, source)
        assert "table sqlite_master may not be modified" in str(info.value)
        assert conn.execute("PRAGMA writable_schema").fetchone() == (1,)
    finally:
        conn.close()
    assert image(db) == before


def _own_table_checks(tmp_path: Path, files: int) -> int:
    """How often a run of *files* plain DDL migrations reads the runner's table shapes."""
    source = make_set(
        tmp_path / str(files),
        {f"{n:04d}_t{n}.up.sql": f"CREATE TABLE t{n} (x);\n" for n in range(1, files + 1)},
    )
    conn = sqlite3.connect(tmp_path / f"{files}.db")
    sent: list[str] = []
    conn.set_trace_callback(sent.append)
    try:
        bootmigrate.migrate(conn, source)
    finally:
        conn.close()
    return sum("FROM temp.sqlite_master" in s for s in sent)


def test_plain_ddl_does_not_make_the_runner_check_its_own_tables(tmp_path: Path) -> None:
    # Every CREATE writes sqlite_master; only writable_schema makes that an edit.
    assert _own_table_checks(tmp_path, 1) == _own_table_checks(tmp_path, 20)
