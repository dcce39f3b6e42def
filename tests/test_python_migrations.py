"""Python migrations (``NNNN_name.up.py``): loading, the guard, errors, files, packaging.

Every test works on real database files, reopened through new connections; "nothing
changed" is the file's bytes and modification time (:func:`dbfiles.file_state`).
"""

from __future__ import annotations

import hashlib
import sqlite3
import sys
import textwrap
import traceback
import zipfile
from pathlib import Path

import pytest

import bootmigrate
from bootmigrate import (
    DirectiveError,
    DuplicateMigration,
    ForeignKeyViolation,
    InvalidFileName,
    InvalidPythonMigration,
    PythonMigrationError,
)
from bootmigrate._apply.boot import settled
from bootmigrate._source import lockfile
from bootmigrate._source.filenames import parse_filename
from bootmigrate._source.locate import resolve
from bootmigrate.testing import MigrationCheckFailed, MigrationKit
from dbfiles import file_state, make_set, read_db
from processes import run_cli
from wheels import build_wheel, make_venv, run

TOKENS = (
    "CREATE TABLE tokens (id INTEGER PRIMARY KEY, owner TEXT NOT NULL, token TEXT NOT NULL);\n"
    "INSERT INTO tokens (owner, token) VALUES ('ann', 'secret-a'), ('bob', 'secret-b');\n"
)
HASH_UP = '''"""Store a SHA-256 of each token instead of the token."""
import hashlib


def up(conn):
    rows = conn.execute("SELECT id, token FROM tokens ORDER BY id").fetchall()
    conn.executemany(
        "UPDATE tokens SET token = ? WHERE id = ?",
        [(hashlib.sha256(token.encode()).hexdigest(), id_) for id_, token in rows],
    )
'''
HASH_DOWN = """def down(conn):
    conn.execute("UPDATE tokens SET token = 'forgotten'")
"""


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def rows(path: Path, sql: str) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def up_file(body: str, *, header: str = "") -> str:
    """A Python migration whose up() runs *body* (indented by the caller's lines)."""
    return header + "def up(conn):\n" + textwrap.indent(textwrap.dedent(body), "    ")


# -- names ------------------------------------------------------------------------


def test_the_grammar_knows_python_files() -> None:
    parsed = parse_filename("0003_hash_tokens.up.py")
    assert parsed is not None
    assert (parsed.version, parsed.name, parsed.kind, parsed.language) == (
        3,
        "hash_tokens",
        "up",
        "python",
    )
    down = parse_filename("0003_hash_tokens.down.py")
    assert down is not None and (down.kind, down.language) == ("down", "python")
    sql = parse_filename("0003_hash_tokens.up.sql")
    assert sql is not None and sql.language == "sql"
    # Ignored as before: not migrations at all.
    assert parse_filename("__init__.py") is None
    assert parse_filename("helpers.py") is None


@pytest.mark.parametrize(
    ("filename", "message"),
    [
        # A fixture holds rows as SQL.
        (
            "0003_x.fixture.py",
            "'0003_x.fixture.py' is not a valid migration file name: a fixture file holds "
            "SQL rows, so it ends in .fixture.sql. Migration files are named NNNN_name.up.sql "
            "and NNNN_name.down.sql (a version of at least 4 digits, a lower-case name of "
            "[a-z0-9_]); rename it to '0003_x.fixture.sql'",
        ),
        # No direction: most likely an up file, in Python.
        (
            "0003_hash.py",
            "'0003_hash.py' is not a valid migration file name: it must end in .up.py or "
            ".down.py. Migration files are named NNNN_name.up.sql and NNNN_name.down.sql (a "
            "version of at least 4 digits, a lower-case name of [a-z0-9_]); rename it to "
            "'0003_hash.up.py'",
        ),
        # Too few digits.
        (
            "12_hash.up.py",
            "'12_hash.up.py' is not a valid migration file name: the version must have at "
            "least 4 digits. Migration files are named NNNN_name.up.sql and "
            "NNNN_name.down.sql (a version of at least 4 digits, a lower-case name of "
            "[a-z0-9_]); rename it to '0012_hash.up.py'",
        ),
    ],
)
def test_a_misnamed_python_migration_names_the_right_name(filename: str, message: str) -> None:
    with pytest.raises(InvalidFileName) as error:
        parse_filename(filename)
    assert str(error.value) == message


def test_a_version_is_sql_or_python_not_both(tmp_path: Path) -> None:
    source = make_set(
        tmp_path,
        {"0001_tokens.up.sql": TOKENS, "0002_hash.up.py": HASH_UP, "0002_hash.up.sql": "SELECT 1;"},
    )
    with pytest.raises(DuplicateMigration) as error:
        bootmigrate.load(source)
    assert str(error.value) == (
        "version 2 has more than one migration file: '0002_hash.up.py', '0002_hash.up.sql'; "
        "a version is written in SQL or in Python, not both: remove one of them"
    )


# -- a run, its ledger and its lock ---------------------------------------------------


def test_a_python_migration_transforms_rows_and_is_recorded_like_sql(tmp_path: Path) -> None:
    # Saved with a byte-order mark and CRLF: the checksum is of the normalised text.
    saved = "\ufeff" + HASH_UP.replace("\n", "\r\n")
    source = make_set(tmp_path, {"0001_tokens.up.sql": TOKENS, "0002_hash.up.py": saved})
    db = tmp_path / "app.db"
    report = bootmigrate.migrate(db, source)
    assert [(s.version, s.name) for s in report.steps] == [(1, "tokens"), (2, "hash")]
    assert rows(db, "SELECT owner, token FROM tokens ORDER BY id") == [
        ("ann", sha("secret-a")),
        ("bob", sha("secret-b")),
    ]
    snapshot = read_db(db)
    assert snapshot.versions == (1, 2) and snapshot.user_version == 2
    ledger = dict(zip(snapshot.ledger_columns, snapshot.ledger[1]))
    assert (ledger["name"], ledger["checksum"]) == ("hash", sha(HASH_UP))

    written = bootmigrate.write_lock(source)
    entries = lockfile.parse(Path(written).read_text())
    assert [(e.version, e.name, e.kind, e.checksum) for e in entries] == [
        (1, "tokens", "up", sha(TOKENS)),
        (2, "hash", "up", sha(HASH_UP)),
    ]
    assert bootmigrate.check_lock(source).ok
    # The boot's one query: the lock names the .py file as the version's up file.
    fast = settled(db, resolve(str(source)), 5.0)
    assert fast is not None and (fast.state, fast.to_version) == ("up-to-date", 2)
    # An edited Python migration is caught like an edited SQL file: by the lock check and
    # by every full load (the boot trusts the shipped lock, as for SQL files).
    (source / "0002_hash.up.py").write_text(HASH_UP + "# edited\n")
    assert not bootmigrate.check_lock(source).ok
    assert bootmigrate.status(db, source).modified == (2,)
    (source / "bootmigrate.lock").unlink()
    before = file_state(db)
    with pytest.raises(bootmigrate.ModifiedMigration):
        bootmigrate.migrate(db, source)
    assert file_state(db) == before


def test_the_boot_without_a_lock_hashes_the_python_file(tmp_path: Path) -> None:
    source = make_set(tmp_path, {"0001_tokens.up.sql": TOKENS, "0002_hash.up.py": HASH_UP})
    db = tmp_path / "app.db"
    bootmigrate.migrate(db, source)
    fast = settled(db, resolve(str(source)), 5.0)
    assert fast is not None and fast.to_version == 2


def test_the_function_gets_a_usable_connection_and_its_settings_are_put_back(
    tmp_path: Path,
) -> None:
    source = make_set(
        tmp_path,
        {
            "0001_tokens.up.sql": TOKENS,
            "0002_owners.up.py": up_file(
                """\
                conn.row_factory = sqlite3.Row
                conn.create_function("shout", 1, str.upper)
                cursor = conn.cursor()
                assert cursor.connection is conn
                names = [row["owner"] for row in cursor.execute("SELECT owner FROM tokens")]
                conn.execute("CREATE TABLE owners (name TEXT)")
                conn.executemany("INSERT INTO owners VALUES (shout(?))", [(n,) for n in names])
                assert conn.in_transaction
                """,
                header="import sqlite3\n\n\n",
            ),
            "0003_after.up.sql": "CREATE TABLE after_python (x);\n",
        },
    )
    db = tmp_path / "app.db"
    conn = sqlite3.connect(db)
    bootmigrate.migrate(conn, source)
    # The borrowed connection's row factory is its own again.
    assert conn.row_factory is None
    assert conn.execute("SELECT name FROM owners ORDER BY name").fetchall() == [("ANN",), ("BOB",)]
    conn.close()
    assert read_db(db).versions == (1, 2, 3)


# -- what is refused ------------------------------------------------------------------

_OWN = (
    "a Python migration runs inside bootmigrate's transaction, which commits with its ledger "
    "row or rolls back; put '# bootmigrate: no-transaction' on the file's first line if it "
    "must manage its own transactions"
)
_UNCHANGED = "the run was rolled back and the database is unchanged"


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ("conn.commit()", "line 4: up() tried to call conn.commit(), which would end or leave"),
        ("conn.rollback()", "line 4: up() tried to call conn.rollback(), which would end or leave"),
        ("conn.close()", "line 4: up() tried to call conn.close(), which would end or leave"),
        (
            "conn.executescript('SELECT 1;')",
            "line 4: up() tried to call conn.executescript(), which would end or leave",
        ),
        (
            "conn.cursor().executescript('SELECT 1;')",
            "line 4: up() tried to call conn.executescript(), which would end or leave",
        ),
        (
            "with conn:\n    pass",
            "line 4: up() tried to use 'with conn:', which would end or leave",
        ),
        (
            "conn.isolation_level = 'DEFERRED'",
            "line 4: up() tried to set conn.isolation_level, which would end or leave",
        ),
        (
            "conn.autocommit = False",
            "line 4: up() tried to set conn.autocommit, which would end or leave",
        ),
        # Through the cursor's connection: it is the guarded one too.
        (
            "conn.cursor().connection.commit()",
            "line 4: up() tried to call conn.commit(), which would end or leave",
        ),
        # A cursor of the function's own class is guarded as well.
        (
            "class Mine(sqlite3.Cursor):\n    pass\nconn.cursor(Mine).connection.close()",
            "line 6: up() tried to call conn.close(), which would end or leave",
        ),
        # A refusal the function catches still fails the run.
        (
            "try:\n    conn.commit()\nexcept sqlite3.Error:\n    pass",
            "line 5: up() tried to call conn.commit(), which would end or leave",
        ),
    ],
)
def test_a_function_that_ends_the_transaction_fails_and_changes_nothing(
    tmp_path: Path, body: str, problem: str
) -> None:
    source = make_set(
        tmp_path,
        {
            "0001_tokens.up.sql": TOKENS,
            "0002_sneaky.up.py": up_file(
                "conn.execute(\"DELETE FROM tokens WHERE owner = 'ann'\")\n" + body,
                header="import sqlite3\n",
            ),
        },
    )
    db = tmp_path / "app.db"
    bootmigrate.migrate(db, source, target=1)
    before = file_state(db)
    with pytest.raises(PythonMigrationError) as error:
        bootmigrate.migrate(db, source)
    line = int(problem.split()[1].rstrip(":"))
    assert str(error.value) == (
        f"'0002_sneaky.up.py' {problem} the run's transaction; {_UNCHANGED}. "
        f"Remove the call: {_OWN}"
    )
    assert error.value.line == line
    assert file_state(db) == before
    assert read_db(db).versions == (1,)


@pytest.mark.parametrize(
    ("statement", "keyword"),
    [("COMMIT", "COMMIT"), ("BEGIN", "BEGIN"), ("ROLLBACK", "ROLLBACK"), ("END", "COMMIT")],
)
def test_transaction_control_statements_are_refused_by_the_guard(
    tmp_path: Path, statement: str, keyword: str
) -> None:
    source = make_set(
        tmp_path,
        {
            "0001_tokens.up.sql": TOKENS,
            "0002_sneaky.up.py": up_file(
                f"conn.execute(\"DELETE FROM tokens WHERE owner = 'ann'\")\n"
                f"conn.execute({statement!r})\n"
            ),
        },
    )
    db = tmp_path / "app.db"
    bootmigrate.migrate(db, source, target=1)
    before = file_state(db)
    with pytest.raises(PythonMigrationError) as error:
        bootmigrate.migrate(db, source)
    assert str(error.value) == (
        f"'0002_sneaky.up.py' line 3: up() ran {keyword}, which is refused; {_UNCHANGED}. "
        f"Remove the statement: {_OWN}"
    )
    assert file_state(db) == before


@pytest.mark.parametrize(
    ("body", "effect"),
    [
        ("conn.set_authorizer(None)", "call conn.set_authorizer(), which would switch off"),
        (
            "conn.set_progress_handler(None, 1)",
            "call conn.set_progress_handler(), which would replace bootmigrate's progress",
        ),
        ("conn.deserialize(b'')", "call conn.deserialize(), which would replace the database"),
    ],
)
def test_a_function_may_not_replace_the_guard_or_the_database(
    tmp_path: Path, body: str, effect: str
) -> None:
    source = make_set(tmp_path, {"0001_tokens.up.sql": TOKENS, "0002_x.up.py": up_file(body)})
    db = tmp_path / "app.db"
    bootmigrate.migrate(db, source, target=1)
    before = file_state(db)
    with pytest.raises(PythonMigrationError) as error:
        bootmigrate.migrate(db, source)
    assert str(error.value).startswith(f"'0002_x.up.py' line 2: up() tried to {effect}")
    assert str(error.value).endswith(f"; {_UNCHANGED}. Remove the call")
    assert file_state(db) == before


def test_a_connection_kept_after_the_function_returned_is_refused(tmp_path: Path) -> None:
    source = make_set(
        tmp_path,
        {
            "0001_tokens.up.sql": TOKENS,
            "0002_keep.up.py": "KEPT = []\n\n\ndef up(conn):\n    KEPT.append(conn)\n",
        },
    )
    migrations = bootmigrate.load(source)
    function = migrations.get(2).up.function()  # type: ignore[union-attr]
    kept = function.__globals__["KEPT"]
    bootmigrate.migrate(tmp_path / "app.db", migrations)
    assert kept == []  # each run executes the file again: the set's namespace is untouched
    spy = tmp_path / "spy.db"
    conn = sqlite3.connect(spy)
    from bootmigrate._apply.executor import GuardedConnection

    guarded = GuardedConnection(conn, "x", alone=False)
    function(guarded)  # type: ignore[arg-type]
    guarded.finish()
    with pytest.raises(sqlite3.ProgrammingError, match="usable only while the migration's"):
        kept[0].execute("SELECT 1")
    conn.close()


def test_writing_the_ledger_is_refused(tmp_path: Path) -> None:
    source = make_set(
        tmp_path,
        {
            "0001_tokens.up.sql": TOKENS,
            "0002_forge.up.py": up_file("conn.execute('DELETE FROM bootmigrate_ledger')\n"),
        },
    )
    db = tmp_path / "app.db"
    bootmigrate.migrate(db, source, target=1)
    before = file_state(db)
    with pytest.raises(PythonMigrationError) as error:
        bootmigrate.migrate(db, source)
    assert str(error.value) == (
        "'0002_forge.up.py' line 2: up() wrote bootmigrate_ledger, bootmigrate's own table, "
        f"which a migration may not change; {_UNCHANGED}. The ledger must say what ran: "
        "remove that statement"
    )
    assert file_state(db) == before


def test_orphans_a_function_leaves_are_a_foreign_key_violation(tmp_path: Path) -> None:
    source = make_set(
        tmp_path,
        {
            "0001_tree.up.sql": (
                "CREATE TABLE parent (id INTEGER PRIMARY KEY);\n"
                "CREATE TABLE child (id INTEGER PRIMARY KEY, "
                "parent_id INTEGER REFERENCES parent (id));\n"
                "INSERT INTO parent VALUES (1);\nINSERT INTO child VALUES (10, 1);\n"
            ),
            "0002_prune.up.py": up_file("conn.execute('DELETE FROM parent')\n"),
        },
    )
    db = tmp_path / "app.db"
    bootmigrate.migrate(db, source, target=1)
    before = file_state(db)
    with pytest.raises(ForeignKeyViolation) as error:
        bootmigrate.migrate(db, source)
    assert str(error.value) == (
        "after the run the database has 1 foreign key violation(s): child rowid 10 -> parent; "
        f"{_UNCHANGED}. Fix the migration so it keeps or deletes the child rows"
    )
    assert file_state(db) == before


# -- errors name the file and the line ------------------------------------------------


def test_an_exception_names_file_line_and_exception_and_shows_the_source(tmp_path: Path) -> None:
    source = make_set(
        tmp_path,
        {
            "0001_tokens.up.sql": TOKENS,
            "0002_parse.up.py": (
                "import json\n"
                "\n"
                "\n"
                "def decode(text):\n"
                "    return json.loads(text)\n"
                "\n"
                "\n"
                "def up(conn):\n"
                "    conn.execute(\"UPDATE tokens SET token = 'x'\")\n"
                "    for (token,) in conn.execute('SELECT token FROM tokens'):\n"
                "        decode(token)\n"
            ),
        },
    )
    db = tmp_path / "app.db"
    bootmigrate.migrate(db, source, target=1)
    before = file_state(db)
    with pytest.raises(PythonMigrationError) as error:
        bootmigrate.migrate(db, source)
    # The innermost frame in the file: decode(), line 5.
    assert str(error.value) == (
        "'0002_parse.up.py' line 5: up() raised JSONDecodeError: Expecting value: line 1 "
        f"column 1 (char 0); {_UNCHANGED}. Fix the migration; the exception's traceback "
        "(chained) shows where"
    )
    assert error.value.line == 5
    cause = error.value.__cause__
    assert cause is not None and type(cause).__name__ == "JSONDecodeError"
    shown = "".join(traceback.format_exception(type(cause), cause, cause.__traceback__))
    location = str(source / "0002_parse.up.py")
    assert f'File "{location}", line 11, in up\n    decode(token)' in shown
    assert f'File "{location}", line 5, in decode\n    return json.loads(text)' in shown
    assert file_state(db) == before


@pytest.mark.parametrize(
    ("text", "message"),
    [
        # (Messages that read the same on Python 3.9 to 3.13.)
        (
            "def up(conn):\n    return return\n",
            "'0002_bad.up.py' line 2: SyntaxError: invalid syntax; fix the Python "
            "syntax; the file must define up(conn) and may import what it needs",
        ),
        (
            "def up(conn):\n  x = 1\n    y = 2\n",
            "'0002_bad.up.py' line 3: IndentationError: unexpected indent; fix the Python "
            "syntax; the file must define up(conn) and may import what it needs",
        ),
        (
            "def helper(conn):\n    pass\n",
            "'0002_bad.up.py': it defines no function up(conn); define "
            "'def up(conn: sqlite3.Connection) -> None:' at its top level",
        ),
        (
            "up = 'UPDATE tokens SET token = 1'\n",
            "'0002_bad.up.py': up is str, not a function; define "
            "'def up(conn: sqlite3.Connection) -> None:' at its top level",
        ),
        (
            "import os\nSETTING = os.environ['NO_SUCH_VARIABLE_SET_HERE']\n",
            "'0002_bad.up.py' line 2: loading the file raised KeyError: 'NO_SUCH_VARIABLE_SET_HERE'"
            "; keep the top level of a migration to imports and definitions; the work goes in "
            "up(conn)",
        ),
        (
            "import no_such_module_for_bootmigrate\n",
            "'0002_bad.up.py' line 1: loading the file raised ModuleNotFoundError: No module "
            "named 'no_such_module_for_bootmigrate'; install the module it imports, or import "
            "it inside the function",
        ),
        (
            "def up():\n    pass\n",
            "'0002_bad.up.py' line 1: up() cannot be called with one argument, the connection; "
            "define it as 'def up(conn):'",
        ),
        (
            "async def up(conn):\n    pass\n",
            "'0002_bad.up.py' line 1: up() is async, so calling it would run nothing; make up "
            "a plain function (def, no yield)",
        ),
    ],
)
def test_a_broken_python_file_is_refused_when_the_set_loads(
    tmp_path: Path, text: str, message: str
) -> None:
    source = make_set(tmp_path, {"0001_tokens.up.sql": TOKENS, "0002_bad.up.py": text})
    db = tmp_path / "app.db"
    with pytest.raises(InvalidPythonMigration) as error:
        bootmigrate.migrate(db, source)
    assert str(error.value) == message
    assert not db.exists()  # found before anything ran, or was created


def test_a_python_down_file_is_checked_too(tmp_path: Path) -> None:
    source = make_set(
        tmp_path,
        {
            "0001_tokens.up.sql": TOKENS,
            "0002_hash.up.py": HASH_UP,
            "0002_hash.down.py": "def up(conn):\n    pass\n",
        },
    )
    with pytest.raises(InvalidPythonMigration) as error:
        bootmigrate.load(source)
    assert str(error.value) == (
        "'0002_hash.down.py': it defines no function down(conn); define "
        "'def down(conn: sqlite3.Connection) -> None:' at its top level"
    )


# -- down, round trip, the test kit -----------------------------------------------------


def test_a_python_down_in_an_up_down_up_round_trip(tmp_path: Path) -> None:
    source = make_set(
        tmp_path,
        {
            "0001_tokens.up.sql": TOKENS,
            "0002_owners.up.py": up_file(
                """\
                conn.execute("CREATE TABLE owners (name TEXT PRIMARY KEY)")
                conn.execute("INSERT INTO owners SELECT DISTINCT owner FROM tokens")
                """
            ),
            "0002_owners.down.py": (
                "def down(conn):\n"
                "    assert conn.in_transaction\n"
                "    conn.execute('DROP TABLE owners')\n"
            ),
        },
    )
    db = tmp_path / "app.db"
    bootmigrate.migrate(db, source)
    first = read_db(db)
    assert first.rows["owners"] == (("ann",), ("bob",))
    report = bootmigrate.downgrade(db, source, 1)
    assert [(s.version, s.direction) for s in report.steps] == [(2, "down")]
    down = read_db(db)
    assert "owners" not in down.tables and down.versions == (1,)
    bootmigrate.migrate(db, source)
    again = read_db(db)
    assert (again.schema, again.rows["owners"]) == (first.schema, first.rows["owners"])
    assert again.versions == (1, 2)


def test_the_test_kit_runs_python_migrations_in_every_check(tmp_path: Path) -> None:
    files = {
        "0001_tokens.up.sql": TOKENS,
        "0001_tokens.down.sql": "DROP TABLE tokens;\n",
        "0002_hash.up.py": HASH_UP,
        "0002_hash.down.py": HASH_DOWN,
        "0003_owners.up.py": up_file('conn.execute("CREATE TABLE owners (name TEXT)")\n'),
        # Undoes nothing: the round trip must see it.
        "0003_owners.down.py": "def down(conn):\n    pass\n",
    }
    source = make_set(tmp_path, files)
    kit = MigrationKit(source)
    kit.check_round_trip(2)
    kit.check_convergence(0)
    kit.check_convergence(2)
    kit.check_populated(2)
    with pytest.raises(MigrationCheckFailed) as failure:
        kit.check_round_trip(3)
    assert str(failure.value).startswith(
        "round trip of 0003_owners: 0003_owners.down.py does not undo 0003_owners.up.py"
    )
    # A function that fails on the kit's rows fails the populated check, naming the line.
    make_set(
        tmp_path,
        {
            "0004_strict.up.py": up_file(
                "if conn.execute('SELECT count(*) FROM owners').fetchone()[0]:\n"
                "    raise ValueError('owners must be empty')\n"
            )
        },
    )
    with pytest.raises(MigrationCheckFailed) as populated:
        MigrationKit(source).check_populated(4)
    assert "'0004_strict.up.py' line 3: up() raised ValueError: owners must be empty" in str(
        populated.value
    )


# -- no-transaction -------------------------------------------------------------------

NO_TX = "# bootmigrate: no-transaction\n"


def test_a_no_transaction_function_manages_its_own_transactions(tmp_path: Path) -> None:
    source = make_set(
        tmp_path,
        {
            "0001_tokens.up.sql": TOKENS,
            "0002_batches.up.py": up_file(
                """\
                assert not conn.in_transaction
                for owner in ("carl", "dora"):
                    conn.execute("BEGIN")
                    conn.execute("INSERT INTO tokens (owner, token) VALUES (?, 't')", (owner,))
                    conn.commit()
                    assert not conn.in_transaction
                conn.execute("BEGIN")
                conn.execute("DELETE FROM tokens")
                conn.rollback()
                with conn:
                    conn.execute("INSERT INTO tokens (owner, token) VALUES ('emma', 't')")
                conn.execute("VACUUM")
                """,
                header=NO_TX + '"""Rows in batches, each committed, then VACUUM."""\n\n\n',
            ),
            "0003_after.up.sql": "CREATE TABLE after_step (x);\n",
        },
    )
    assert bootmigrate.load(source).get(2).up.directives == frozenset({"no-transaction"})  # type: ignore[union-attr]
    db = tmp_path / "app.db"
    report = bootmigrate.migrate(db, source)
    assert [s.version for s in report.steps] == [1, 2, 3]
    assert rows(db, "SELECT owner FROM tokens ORDER BY id") == [
        ("ann",),
        ("bob",),
        ("carl",),
        ("dora",),
        ("emma",),
    ]
    assert read_db(db).versions == (1, 2, 3)


def test_a_failing_no_transaction_function_says_what_took_effect(tmp_path: Path) -> None:
    source = make_set(
        tmp_path,
        {
            "0001_tokens.up.sql": TOKENS,
            "0002_step.up.py": up_file(
                """\
                conn.execute("INSERT INTO tokens (owner, token) VALUES ('carl', 't')")
                raise RuntimeError("half way")
                """,
                header=NO_TX,
            ),
        },
    )
    db = tmp_path / "app.db"
    bootmigrate.migrate(db, source, target=1)
    with pytest.raises(PythonMigrationError) as error:
        bootmigrate.migrate(db, source)
    assert str(error.value) == (
        "'0002_step.up.py' line 4: up() raised RuntimeError: half way; it is a "
        "no-transaction migration, so what it ran took effect and could not be undone: the "
        "database is at version 1 with '0002_step.up.py' partly applied and not recorded. "
        "The next run retries the whole file, which is only safe if the file can run twice; "
        "otherwise restore the database from a backup first (backup=True takes one). Fix "
        "the migration; the exception's traceback (chained) shows where"
    )
    assert ("carl",) in rows(db, "SELECT owner FROM tokens")
    assert read_db(db).versions == (1,)


def test_a_no_transaction_function_that_wrote_nothing_changed_nothing(tmp_path: Path) -> None:
    source = make_set(
        tmp_path,
        {
            "0001_tokens.up.sql": TOKENS,
            "0002_step.up.py": up_file(
                "conn.execute('SELECT 1')\nraise RuntimeError('no')\n", header=NO_TX
            ),
        },
    )
    db = tmp_path / "app.db"
    bootmigrate.migrate(db, source, target=1)
    with pytest.raises(PythonMigrationError) as error:
        bootmigrate.migrate(db, source)
    assert error.value.state == (
        "it is a no-transaction migration and none of its statements took effect; the "
        "migrations before it were committed, so the database is at version 1. Fix the "
        "migration and run again: it will be retried"
    )


def test_a_no_transaction_function_that_leaves_a_transaction_open_is_rolled_back(
    tmp_path: Path,
) -> None:
    source = make_set(
        tmp_path,
        {
            "0001_tokens.up.sql": TOKENS,
            "0002_step.up.py": up_file(
                "conn.execute('BEGIN')\nconn.execute('DELETE FROM tokens')\n", header=NO_TX
            ),
        },
    )
    db = tmp_path / "app.db"
    bootmigrate.migrate(db, source, target=1)
    with pytest.raises(PythonMigrationError) as error:
        bootmigrate.migrate(db, source)
    assert str(error.value).startswith(
        "'0002_step.up.py': up() left a transaction open, and it was rolled back; "
    )
    assert len(rows(db, "SELECT * FROM tokens")) == 2


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '"""Doc."""\n# bootmigrate: no-transaction\ndef up(conn):\n    pass\n',
            "'0002_x.up.py' line 2: a '# bootmigrate:' directive must be on the leading "
            "comment lines, before the first statement or docstring; move it to the top of "
            "the file",
        ),
        (
            "# bootmigrate: no-transactions\ndef up(conn):\n    pass\n",
            "'0002_x.up.py' line 1: unknown directive 'no-transactions'; the directives are "
            "backward-compatible, no-transaction",
        ),
    ],
)
def test_a_misplaced_or_unknown_directive_is_refused(
    tmp_path: Path, text: str, message: str
) -> None:
    source = make_set(tmp_path, {"0001_tokens.up.sql": TOKENS, "0002_x.up.py": text})
    with pytest.raises(DirectiveError) as error:
        bootmigrate.load(source)
    assert str(error.value) == message


def test_directive_words_in_a_string_are_data(tmp_path: Path) -> None:
    text = 'NOTE = """\n# bootmigrate: no-transaction\n"""\n\n\ndef up(conn):\n    pass\n'
    source = make_set(tmp_path, {"0001_x.up.py": text})
    assert bootmigrate.load(source).get(1).up.directives == frozenset()  # type: ignore[union-attr]


# -- bootmigrate new --python ---------------------------------------------------------


def test_new_python_writes_a_template_that_loads_and_refuses_to_run(tmp_path: Path) -> None:
    source = make_set(tmp_path, {"0001_tokens.up.sql": TOKENS})
    result = run_cli(["--source", str(source), "new", "--python", "hash_tokens"], cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    up, down = source / "0002_hash_tokens.up.py", source / "0002_hash_tokens.down.py"
    assert result.stdout == f"created {up}\ncreated {down}\n"
    text = up.read_text()
    assert text.startswith('"""0002_hash_tokens: a Python migration (bootmigrate calls up(conn)).')
    assert "conn.commit(), conn.rollback(), conn.close()" in text
    assert "def up(conn: sqlite3.Connection) -> None:" in text
    assert "def down(conn: sqlite3.Connection) -> None:" in down.read_text()
    migrations = bootmigrate.load(source)  # the template is a valid file
    assert migrations.head == 2 and migrations.get(2).reversible  # type: ignore[union-attr]
    db = tmp_path / "app.db"
    bootmigrate.migrate(db, source, target=1)
    before = file_state(db)
    with pytest.raises(PythonMigrationError) as error:
        bootmigrate.migrate(db, source)
    line = text.splitlines().index(
        '    raise NotImplementedError("0002_hash_tokens: write the migration in up()")'
    )
    assert str(error.value).startswith(
        f"'0002_hash_tokens.up.py' line {line + 1}: up() raised NotImplementedError: "
        "0002_hash_tokens: write the migration in up(); "
    )
    assert file_state(db) == before


# -- sources: a zip import and an installed wheel ---------------------------------------


def test_a_python_migration_from_a_zip_import(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = f"bm_pyzip_{abs(hash(str(tmp_path))) % 10**8}"
    archive = tmp_path / "app.zip"
    failing = up_file("raise ValueError('from the zip')\n")
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr(f"{name}/__init__.py", "")
        zf.writestr(f"{name}/migrations/0001_tokens.up.sql", TOKENS)
        zf.writestr(f"{name}/migrations/0002_hash.up.py", HASH_UP)
        zf.writestr(f"{name}/broken/0001_tokens.up.sql", TOKENS)
        zf.writestr(f"{name}/broken/0002_fail.up.py", failing)
    monkeypatch.syspath_prepend(str(archive))
    db = tmp_path / "app.db"
    bootmigrate.migrate(db, f"{name}:migrations")
    assert rows(db, "SELECT token FROM tokens ORDER BY id") == [
        (sha("secret-a"),),
        (sha("secret-b"),),
    ]
    assert read_db(db).ledger[1][2] == sha(HASH_UP)
    # Not imported as a module of the package: nothing of the migrations in sys.modules.
    assert [m for m in sys.modules if m.startswith(f"{name}.")] == []
    # The traceback names the file as the source names it, with its line.
    other = tmp_path / "other.db"
    bootmigrate.migrate(other, f"{name}:broken", target=1)
    with pytest.raises(PythonMigrationError) as error:
        bootmigrate.migrate(other, f"{name}:broken")
    assert str(error.value).startswith(
        "'0002_fail.up.py' line 2: up() raised ValueError: from the zip; "
    )
    cause = error.value.__cause__
    assert isinstance(cause, ValueError)
    shown = "".join(traceback.format_exception(type(cause), cause, cause.__traceback__))
    assert (
        f'File "{name}:broken/0002_fail.up.py", line 2, in up\n'
        "    raise ValueError('from the zip')" in shown
    )


@pytest.mark.slow
def test_a_python_migration_from_an_installed_wheel(tmp_path: Path, project_wheel: Path) -> None:
    project = tmp_path / "project"
    package = project / "src" / "bm_pyapp"
    package.mkdir(parents=True)
    (project / "pyproject.toml").write_text(
        textwrap.dedent(
            """\
            [build-system]
            requires = ["setuptools>=68"]
            build-backend = "setuptools.build_meta"

            [project]
            name = "bm-pyapp"
            version = "1.0"

            [tool.setuptools.package-data]
            bm_pyapp = ["migrations/*.sql", "migrations/*.py", "migrations/bootmigrate.lock"]
            """
        )
    )
    (package / "__init__.py").write_text('"""An app with a Python migration."""\n')
    migrations = make_set(
        package,
        {"0001_tokens.up.sql": TOKENS, "0002_hash.up.py": HASH_UP, "0002_hash.down.py": HASH_DOWN},
    )
    bootmigrate.write_lock(migrations)
    wheel = build_wheel(project, tmp_path / "dist")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {"bm_pyapp/migrations/0002_hash.up.py", "bm_pyapp/migrations/0002_hash.down.py"} <= names
    python = make_venv(tmp_path / "env", project_wheel, wheel)
    db = tmp_path / "app.db"
    script = textwrap.dedent(
        """\
        import sys, bootmigrate, bm_pyapp
        assert "site-packages" in bm_pyapp.__file__, bm_pyapp.__file__
        print(bootmigrate.migrate(sys.argv[1], "bm_pyapp:migrations").to_version)
        print(bootmigrate.migrate(sys.argv[1], "bm_pyapp:migrations").state)
        print(bootmigrate.downgrade(sys.argv[1], "bm_pyapp:migrations", 1).to_version)
        """
    )
    out = run([python, "-c", script, db], cwd=tmp_path)
    assert out.split() == ["2", "up-to-date", "1"]
    assert rows(db, "SELECT token FROM tokens") == [("forgotten",), ("forgotten",)]
    ledger = read_db(db)
    assert ledger.versions == (1,)


def test_additive_repair_replays_python_migrations(tmp_path: Path) -> None:
    # The repair learns each version's schema by running the files, Python ones included.
    source = make_set(
        tmp_path,
        {
            "0001_items.up.sql": "CREATE TABLE items (id INTEGER PRIMARY KEY);\n",
            "0002_label.up.py": up_file(
                'conn.execute("ALTER TABLE items ADD COLUMN label TEXT")\n'
            ),
            "0003_tags.up.sql": "CREATE TABLE tags (name TEXT);\n",
        },
    )
    db = tmp_path / "legacy.db"
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE items (id INTEGER PRIMARY KEY)")
    conn.execute("CREATE TABLE legacy_version (v INTEGER)")
    conn.execute("INSERT INTO legacy_version VALUES (2)")
    conn.commit()
    conn.close()
    baseline = bootmigrate.Baseline(
        detect=lambda c: c.execute("SELECT v FROM legacy_version").fetchone()[0],
        highest=2,
        repair=bootmigrate.additive_repair(source, through=2),
    )
    report = bootmigrate.migrate(db, source, baseline=baseline)
    assert report.adoption is not None
    assert report.adoption.repairs == ("added the missing column items.label",)
    assert [s.version for s in report.steps] == [3]
    assert rows(db, "SELECT name FROM pragma_table_info('items')") == [("id",), ("label",)]
