"""The app's own SQLite: SQLCipher (an encrypted file) and pysqlite3 (a newer SQLite).

Each test reopens the real files through new connections (and, for the CLI, a new
process). A test skips, saying why, when its binding cannot be imported; ``make install``
installs both (the ``test`` extra pulls ``bootmigrate[sqlcipher,pysqlite3]``).
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

import bootmigrate
from bootmigrate._apply import floor
from bootmigrate.testing import MigrationKit

# A key no message, log record or report may ever show.
KEY = "hunter2-KEY-5f1e9c"
NOTE = b"PLAINTEXT-NOTE-"
HEADER = b"SQLite format 3\x00"


def _binding(name: str, extra: str) -> ModuleType:
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        pytest.skip(f"{name} cannot be imported here ({exc}); pip install 'bootmigrate[{extra}]'")


@pytest.fixture
def cipher() -> ModuleType:
    return _binding("sqlcipher3.dbapi2", "sqlcipher")


@pytest.fixture
def pysqlite3() -> ModuleType:
    return _binding("pysqlite3.dbapi2", "pysqlite3")


BINDINGS = ["sqlcipher3.dbapi2", "pysqlite3.dbapi2"]


def opener(name: str) -> tuple[ModuleType, Any]:
    """The binding *name* (skipped when missing) and the app's connect for it."""
    if name.startswith("sqlcipher"):
        module = _binding(name, "sqlcipher")
        return module, keyed(module)
    module = _binding(name, "pysqlite3")
    return module, module.connect


def keyed(module: ModuleType, key: str = KEY) -> Any:
    """The app's connect: SQLCipher's, then the key."""

    def connect(database: Any, **options: Any) -> Any:
        conn = module.connect(database, **options)
        conn.execute(f"PRAGMA key = '{key}'")
        return conn

    return connect


def write(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir(exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(textwrap.dedent(text), encoding="utf-8")
    return folder


NOTES = {
    "0001_notes.up.sql": """\
        CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL);
        WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 300)
        INSERT INTO notes (body) SELECT 'PLAINTEXT-NOTE-' || i FROM n;
        """,
    "0001_notes.down.sql": "DROP TABLE notes;\n",
    "0002_tag.up.sql": "ALTER TABLE notes ADD COLUMN tag TEXT;\n",
    "0002_tag.down.sql": "ALTER TABLE notes DROP COLUMN tag;\n",
}


@pytest.fixture
def notes(tmp_path: Path) -> Path:
    return write(tmp_path / "migrations", NOTES)


def files_in(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def assert_encrypted(path: Path) -> None:
    data = path.read_bytes()
    assert len(data) > 4096, f"{path.name} holds no pages"
    assert data[:16] != HEADER, f"{path.name} is a plaintext SQLite file"
    assert NOTE not in data, f"{path.name} holds a plaintext page of the notes"


def read_with_key(cipher: ModuleType, path: Path) -> tuple[int, list[str], int]:
    """(ledger version, tables, notes) read through a new keyed connection."""
    conn = keyed(cipher)(str(path))
    try:
        version = conn.execute("SELECT max(version) FROM bootmigrate_ledger").fetchone()[0]
        tables = [
            r[0]
            for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE "
                "'bootmigrate_%' ORDER BY name"
            )
        ]
        count = conn.execute("SELECT count(*) FROM notes").fetchone()[0]
        return version, tables, count
    finally:
        conn.close()


# -- SQLCipher ---------------------------------------------------------------------------


def test_an_encrypted_database_is_migrated_and_stays_encrypted(cipher, notes, tmp_path):
    db = tmp_path / "app.db"
    report = bootmigrate.migrate(db, notes, connect=keyed(cipher))
    assert (report.state, report.to_version) == ("migrated", 2)
    assert read_with_key(cipher, db) == (2, ["notes"], 300)
    assert_encrypted(db)
    # Without the key, the interpreter's sqlite3 cannot read it, and bootmigrate says why.
    plain = sqlite3.connect(db)
    with pytest.raises(sqlite3.DatabaseError, match="file is not a database"):
        plain.execute("SELECT * FROM sqlite_master").fetchall()
    plain.close()
    with pytest.raises(bootmigrate.NotADatabase) as raised:
        bootmigrate.status(db, notes)
    assert str(raised.value) == (
        f"{db}: the file is not a SQLite database, or it is encrypted and was opened "
        "without its key (give bootmigrate the app's connect function); the file was left "
        "as it is; point bootmigrate at the right file, or restore it from a backup"
    )
    # The wrong key is the same refusal, and the file is left as it was.
    before = db.read_bytes()
    with pytest.raises(bootmigrate.NotADatabase):
        bootmigrate.migrate(db, notes, connect=keyed(cipher, key="wrong"))
    assert db.read_bytes() == before


def test_a_backup_of_an_encrypted_database_is_encrypted_with_its_key(cipher, notes, tmp_path):
    db = tmp_path / "app.db"
    bootmigrate.migrate(db, notes, target=1, connect=keyed(cipher))
    report = bootmigrate.migrate(db, notes, backup=True, connect=keyed(cipher))
    assert report.backup is not None
    backup = Path(report.backup)
    assert_encrypted(backup)
    without_key = cipher.connect(str(backup))
    with pytest.raises(cipher.DatabaseError, match="file is not a database"):
        without_key.execute("SELECT count(*) FROM notes").fetchone()
    without_key.close()
    assert read_with_key(cipher, backup) == (1, ["notes"], 300)
    # Nothing else beside the database holds a plaintext page either.
    for name, data in files_in(tmp_path).items():
        assert NOTE not in data, name


def test_a_failing_migration_restores_an_encrypted_database(cipher, notes, tmp_path):
    write(
        notes,
        {
            "0003_extra.up.sql": """\
                -- bootmigrate: no-transaction
                CREATE TABLE extra (x);
                INSERT INTO nosuch VALUES (1);
                """,
            "0003_extra.down.sql": "DROP TABLE extra;\n",
        },
    )
    db = tmp_path / "app.db"
    bootmigrate.migrate(db, notes, target=2, connect=keyed(cipher))
    with pytest.raises(bootmigrate.StatementError) as raised:
        bootmigrate.migrate(db, notes, backup=True, connect=keyed(cipher))
    message = str(raised.value)
    assert "what it ran had taken effect, so the database was restored from the backup" in message
    assert "is as it was before the run (version 2)" in message
    assert read_with_key(cipher, db) == (2, ["notes"], 300)  # no table extra
    assert_encrypted(db)
    for name, data in files_in(tmp_path).items():
        assert NOTE not in data, name


@pytest.fixture
def borrowed_at_1(cipher, notes, tmp_path) -> Iterator[Any]:
    """A keyed SQLCipher connection the app opened, its database at version 1."""
    conn = keyed(cipher)(str(tmp_path / "app.db"))
    try:
        bootmigrate.migrate(conn, notes, target=1)
        yield conn
    finally:
        conn.close()


def test_a_borrowed_encrypted_connection_without_connect_takes_no_backup(
    cipher, notes, tmp_path, borrowed_at_1
):
    db = tmp_path / "app.db"
    conn = borrowed_at_1
    before = files_in(tmp_path)
    with pytest.raises(bootmigrate.UsageError) as raised:
        bootmigrate.migrate(conn, notes, backup=True)
    assert str(raised.value) == (
        f"{db} is encrypted, and bootmigrate cannot open its backup with the key, so it "
        "takes none and migrated nothing: pass connect=, the app's function that opens "
        "the database with its key (bootmigrate --connect MODULE:FUNCTION), or migrate "
        "without a backup"
    )
    assert files_in(tmp_path) == before
    assert bootmigrate.status(conn, notes).current == 1
    # Given the app's connect, the same borrowed connection is backed up encrypted.
    report = bootmigrate.migrate(conn, notes, backup=True, connect=keyed(cipher))
    assert report.backup is not None
    assert_encrypted(Path(report.backup))


def test_restore_rehearse_and_doctor_work_on_encrypted_files(cipher, notes, tmp_path):
    db = tmp_path / "app.db"
    bootmigrate.migrate(db, notes, target=1, connect=keyed(cipher))
    backup = Path(bootmigrate.migrate(db, notes, backup=True, connect=keyed(cipher)).backup or "")
    with pytest.raises(bootmigrate.RestoreError) as raised:
        bootmigrate.restore(db)
    assert str(raised.value) == (
        f"{db}: the backup {str(backup)!r} is encrypted, or not a SQLite database; the "
        "database was not changed; restore an encrypted backup with the app's function "
        "that opens the database with its key (connect=, bootmigrate --connect "
        "MODULE:FUNCTION)"
    )
    restored = bootmigrate.restore(db, connect=keyed(cipher))
    assert restored.version == 1
    assert read_with_key(cipher, db) == (1, ["notes"], 300)
    assert_encrypted(db)

    before = files_in(tmp_path)
    rehearsal = bootmigrate.rehearse(db, notes, connect=keyed(cipher))
    assert (rehearsal.state, rehearsal.to_version) == ("migrated", 2)
    assert files_in(tmp_path) == before  # a dry run on a scratch copy

    health = bootmigrate.doctor(db, notes, full=True, connect=keyed(cipher))
    assert health.healthy, health.summary()
    assert [f.code for f in health.findings] == ["pending", "backup"]
    unkeyed = bootmigrate.doctor(db, notes)
    assert not unkeyed.healthy
    assert unkeyed.findings[0].code == "unreadable"
    assert files_in(tmp_path) == before  # the doctor never writes


def test_no_key_appears_in_an_error_a_log_record_or_a_report(cipher, notes, tmp_path, caplog):
    caplog.set_level(logging.DEBUG, logger="bootmigrate")
    write(notes, {"0003_bad.up.sql": "INSERT INTO nosuch VALUES (1);\n"})
    db = tmp_path / "app.db"
    seen: list[str] = []
    errors: list[BaseException] = []
    bootmigrate.migrate(db, notes, target=2, connect=keyed(cipher), backup=True)
    for attempt in (
        lambda: bootmigrate.migrate(db, notes, connect=keyed(cipher), backup=True),
        lambda: bootmigrate.migrate(db, notes, connect=keyed(cipher, key=KEY + "x")),
        lambda: bootmigrate.migrate(db, notes),
        lambda: bootmigrate.restore(db),
    ):
        with pytest.raises(bootmigrate.MigrationError) as raised:
            attempt()
        seen += [str(raised.value), repr(raised.value)]
        errors.append(raised.value)
    report = bootmigrate.diagnose(db, notes, error=errors[0], connect=keyed(cipher))
    seen.append(json.dumps(report))
    seen.append(bootmigrate.doctor(db, notes, connect=keyed(cipher)).summary())
    seen += [r.getMessage() for r in caplog.records]
    assert report["versions"]["sqlite"] == cipher.sqlite_version
    assert report["error"]["class"] == "StatementError"
    assert all(KEY not in text for text in seen)
    assert all(NOTE.decode() not in text for text in seen[-3:])


# -- pysqlite3 ---------------------------------------------------------------------------

# concat() came with SQLite 3.44.0: a migration using it needs a newer SQLite than the
# interpreters here bundle (3.40), and pysqlite3-binary bundles one.
CONCAT = {
    "0003_label.up.sql": "CREATE VIEW labels AS SELECT concat('#', id) AS label FROM notes;\n"
}


def test_a_pysqlite3_connection_migrates_on_its_own_sqlite(pysqlite3, notes, tmp_path):
    assert pysqlite3.sqlite_version_info >= (3, 44, 0), "this pysqlite3 has no concat()"
    write(notes, CONCAT)
    db = tmp_path / "app.db"
    conn = pysqlite3.connect(str(db))
    try:
        version, _ = floor.running_sqlite(conn)
        assert version == pysqlite3.sqlite_version_info
        report = bootmigrate.migrate(conn, notes)
        assert (report.state, report.to_version) == ("migrated", 3)
        assert bootmigrate.status(conn, notes).current == 3
    finally:
        conn.close()
    check = pysqlite3.connect(str(db))
    assert check.execute("SELECT label FROM labels ORDER BY label LIMIT 2").fetchall() == [
        ("#1",),
        ("#10",),
    ]
    check.close()
    report = bootmigrate.diagnose(db, notes, connect=pysqlite3.connect)
    assert report["versions"]["sqlite"] == pysqlite3.sqlite_version


@pytest.mark.skipif(
    sqlite3.sqlite_version_info >= (3, 44, 0),
    reason=f"the interpreter's SQLite {sqlite3.sqlite_version} already has concat()",
)
def test_the_floor_is_the_sqlite_that_opens_the_path(pysqlite3, notes, tmp_path):
    write(notes, CONCAT)
    db = tmp_path / "app.db"
    bootmigrate.migrate(db, notes, target=2)
    before = db.read_bytes()
    with pytest.raises(bootmigrate.SQLiteTooOld) as raised:
        bootmigrate.migrate(db, notes)  # the interpreter's own, older SQLite
    assert f"SQLite {sqlite3.sqlite_version}" in str(raised.value)
    assert "concat() / concat_ws()" in str(raised.value)
    assert "0003_label.up.sql" in str(raised.value)
    assert db.read_bytes() == before
    report = bootmigrate.migrate(db, notes, connect=pysqlite3.connect)
    assert report.to_version == 3


def test_errors_of_another_binding_are_translated(pysqlite3, notes, tmp_path):
    write(
        notes, {"0003_bad.up.sql": "UPDATE notes SET tag = 'x';\nINSERT INTO nosuch VALUES (1);\n"}
    )
    db = tmp_path / "app.db"
    bootmigrate.migrate(db, notes, target=2, connect=pysqlite3.connect)
    before = db.read_bytes()
    conn = pysqlite3.connect(str(db))
    try:
        with pytest.raises(bootmigrate.StatementError) as raised:
            bootmigrate.migrate(conn, notes)
        assert str(raised.value).startswith(
            "'0003_bad.up.sql' statement 2 (line 2) failed: no such table: nosuch; the run "
            "was rolled back and the database is unchanged."
        )
        holder = pysqlite3.connect(str(db), isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        try:
            with pytest.raises(bootmigrate.DatabaseBusy):
                bootmigrate.migrate(conn, notes, timeout=0.05)
        finally:
            holder.execute("ROLLBACK")
            holder.close()
    finally:
        conn.close()
    assert db.read_bytes() == before


def test_a_connect_that_returns_no_connection_is_refused(notes, tmp_path):
    def connect(database: Any, **options: Any) -> object:
        return object()

    with pytest.raises(bootmigrate.UsageError) as raised:
        bootmigrate.migrate(tmp_path / "app.db", notes, connect=connect)  # type: ignore[arg-type]
    assert str(raised.value) == (
        "the connect function test_bindings.test_a_connect_that_returns_no_connection_is_"
        "refused.<locals>.connect returned object, not a connection of sqlite3 or a module "
        "that copies it (pysqlite3, sqlcipher3)"
    )
    with pytest.raises(bootmigrate.UsageError, match="connect must be a function"):
        bootmigrate.migrate(tmp_path / "app.db", notes, connect="sqlcipher3")  # type: ignore[arg-type]
    assert not (tmp_path / "app.db").exists()


# -- both --------------------------------------------------------------------------------


@pytest.mark.parametrize("name", BINDINGS)
def test_the_kit_checks_pass_on_both_bindings(name, notes, tmp_path):
    _, connect = opener(name)
    kit = MigrationKit(notes, connect=connect, directory=tmp_path / "kit")
    kit.check_all(snapshot=False, lock=False)
    built = kit.database_at(2, tmp_path / "at2.db")
    if name.startswith("sqlcipher"):
        assert_encrypted(built)
    else:
        assert built.read_bytes()[:16] == HEADER


def test_the_cli_opens_the_database_with_the_apps_connect(cipher, notes, tmp_path):
    (tmp_path / "appdb.py").write_text(
        textwrap.dedent(
            f"""\
            import sqlcipher3.dbapi2 as dbapi2

            def connect(database, **options):
                conn = dbapi2.connect(database, **options)
                conn.execute("PRAGMA key = '{KEY}'")
                return conn

            def prepare(conn):
                with open("prepared.log", "a") as log:
                    log.write(type(conn).__module__ + "\\n")
            """
        ),
        encoding="utf-8",
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("BOOTMIGRATE_")}
    env["BOOTMIGRATE_CONNECT"] = "appdb:connect"

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "bootmigrate", "--db", "app.db", "--source", str(notes), *args],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )

    up = cli("--prepare", "appdb:prepare", "up", "--to", "1")
    assert (up.returncode, up.stderr) == (0, "")
    # --prepare's connection was opened by --connect's function: SQLCipher's, keyed.
    assert (tmp_path / "prepared.log").read_text(encoding="utf-8") == "sqlcipher3.dbapi2\n"
    again = cli("up", "--backup")
    assert (again.returncode, again.stderr) == (0, "")
    status = cli("status", "--json")
    assert status.returncode == 0, status.stderr
    assert json.loads(status.stdout)["current"] == 2
    assert_encrypted(tmp_path / "app.db")
    backups = sorted(tmp_path.glob("app.db.*.bootmigrate-backup"))
    assert len(backups) == 1
    assert_encrypted(backups[0])
    del env["BOOTMIGRATE_CONNECT"]
    refused = cli("status")
    assert refused.returncode == 1
    assert "or it is encrypted and was opened without its key" in refused.stderr
    assert KEY not in refused.stderr + refused.stdout


def test_importing_bootmigrate_imports_no_binding(notes, tmp_path):
    code = (
        "import sys, bootmigrate\n"
        f"bootmigrate.migrate({str(tmp_path / 'app.db')!r}, {str(notes)!r})\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('sqlcipher3', 'pysqlite3')))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out == "[]\n"


STAMP = """\
def up(conn):
    cursor = conn.cursor()
    cursor.execute("UPDATE notes SET tag = 'python' WHERE id <= 2")
    assert cursor.connection is conn
    conn.execute("CREATE TABLE seen (module TEXT)")
    conn.execute("INSERT INTO seen VALUES (?)", (type(cursor).__mro__[2].__module__,))
"""
# The function catches the refusal: the run fails all the same (the proxy remembers it).
REFUSED = STAMP.replace(
    "    cursor = conn.cursor()\n",
    "    cursor = conn.cursor()\n"
    "    try:\n        conn.commit()\n    except Exception:\n        pass\n",
)


@pytest.mark.parametrize("name", BINDINGS)
def test_a_python_migration_gets_a_guarded_connection_of_the_binding(name, notes, tmp_path):
    _, connect = opener(name)
    db = tmp_path / "app.db"
    bootmigrate.migrate(db, notes, connect=connect)
    write(notes, {"0003_stamp.up.py": REFUSED})
    with pytest.raises(bootmigrate.PythonMigrationError) as raised:
        bootmigrate.migrate(db, notes, connect=connect)
    assert "up() tried to call conn.commit()" in str(raised.value)
    write(notes, {"0003_stamp.up.py": STAMP})
    assert bootmigrate.migrate(db, notes, connect=connect).to_version == 3
    conn = connect(str(db))
    assert conn.execute("SELECT count(*) FROM notes WHERE tag = 'python'").fetchone() == (2,)
    # The migration's cursor is the binding's own Cursor class, guarded.
    assert conn.execute("SELECT module FROM seen").fetchone() == (name,)
    conn.close()


def test_a_dry_run_of_a_borrowed_encrypted_connection_needs_its_connect(
    cipher, notes, tmp_path, borrowed_at_1
):
    db = tmp_path / "app.db"
    conn = borrowed_at_1
    before = files_in(tmp_path)
    with pytest.raises(bootmigrate.UsageError) as raised:
        bootmigrate.rehearse(conn, notes)
    assert str(raised.value) == (
        f"{db} is encrypted, and bootmigrate cannot open a scratch copy of it with the "
        "key, so the dry run did not run: pass connect=, the app's function that opens "
        "the database with its key (bootmigrate --connect MODULE:FUNCTION)"
    )
    assert files_in(tmp_path) == before
    report = bootmigrate.rehearse(conn, notes, connect=keyed(cipher))
    assert (report.state, report.to_version, report.dry_run) == ("migrated", 2, True)
    assert files_in(tmp_path) == before
    assert bootmigrate.status(conn, notes).current == 1


@pytest.mark.parametrize("name", BINDINGS)
def test_every_check_takes_a_connection_of_the_binding(name, notes, tmp_path):
    _, connect = opener(name)
    db = tmp_path / "app.db"
    conn = connect(str(db))
    try:
        bootmigrate.migrate(conn, notes, target=1)
        plan = bootmigrate.dry_run(conn, notes)
        assert [m.version for m in plan.pending] == [2]
        verification = bootmigrate.verify(conn, notes, schema=True, connect=connect)
        assert verification.problems == (), verification.problems
        assert bootmigrate.schema_drift(conn, notes, connect=connect) == ""
        with conn:
            conn.execute("CREATE TABLE by_hand (x)")
        assert "by_hand" in bootmigrate.schema_drift(conn, notes, connect=connect)
        assert [t.name for t in bootmigrate.canonical_schema(conn).tables] == ["by_hand", "notes"]
        from bootmigrate.testing import fingerprint

        assert set(fingerprint(conn)) >= {"notes", "by_hand"}
        assert bootmigrate.migrate(conn, notes).to_version == 2
        assert bootmigrate.downgrade(conn, notes, 1).state == "downgraded"
        assert bootmigrate.status(conn, notes).current == 1
    finally:
        conn.close()


def test_a_connect_that_fails_is_named_in_a_usage_error(notes, tmp_path):
    def connect(database: Any) -> sqlite3.Connection:  # no options taken
        return sqlite3.connect(database)

    def locked_keyring(database: Any, **options: Any) -> sqlite3.Connection:
        raise RuntimeError("the keyring is locked")

    with pytest.raises(bootmigrate.UsageError) as raised:
        bootmigrate.migrate(tmp_path / "app.db", notes, connect=connect)
    assert str(raised.value) == (
        "the connect function test_bindings.test_a_connect_that_fails_is_named_in_a_usage_"
        "error.<locals>.connect raised TypeError: "
        f"{raised.value.__cause__}; it is called as sqlite3.connect is: "
        "connect(database, **options), with options among timeout=, isolation_level= and uri="
    )
    assert "unexpected keyword argument 'timeout'" in str(raised.value.__cause__)
    assert not (tmp_path / "app.db").exists()
    bootmigrate.migrate(tmp_path / "app.db", notes)
    before = files_in(tmp_path)
    with pytest.raises(bootmigrate.UsageError, match="raised RuntimeError: the keyring is locked"):
        bootmigrate.status(tmp_path / "app.db", notes, connect=locked_keyring)
    assert files_in(tmp_path) == before


def test_the_doctor_reads_an_encrypted_hot_journal_on_a_private_copy(cipher, notes, tmp_path):
    db = tmp_path / "app.db"
    bootmigrate.migrate(db, notes, connect=keyed(cipher))
    # A writer of the app, keyed, killed before it commits a change of every row (a tiny
    # page cache spills the changed pages into the main file first).
    writer = textwrap.dedent(
        f"""
        import os, signal
        import sqlcipher3.dbapi2 as dbapi2
        conn = dbapi2.connect({str(db)!r}, isolation_level=None)
        conn.execute("PRAGMA key = '{KEY}'")
        conn.execute("PRAGMA cache_size = 2")
        conn.execute("BEGIN")
        conn.execute("UPDATE notes SET body = 'changed ' || id || hex(randomblob(200))")
        os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    assert subprocess.run([sys.executable, "-c", writer], check=False).returncode == -9
    journal = tmp_path / "app.db-journal"
    assert journal.read_bytes()[:1] not in (b"", b"\0")
    before = files_in(tmp_path)
    health = bootmigrate.doctor(db, notes, full=True, connect=keyed(cipher))
    assert files_in(tmp_path) == before  # the user's journal was not rolled back
    assert health.codes() == ["hot-journal"]  # the rest, checked on the rolled-back copy
    for name, data in files_in(tmp_path).items():
        assert NOTE not in data, name  # the journal is encrypted too
    assert read_with_key(cipher, db) == (2, ["notes"], 300)  # the next open rolls it back
    conn = keyed(cipher)(str(db))
    assert conn.execute("SELECT count(*) FROM notes WHERE body LIKE 'changed%'").fetchone() == (0,)
    conn.close()
