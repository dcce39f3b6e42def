"""Connections the app prepares: SQL functions and collations a migration relies on."""

from __future__ import annotations

import sqlite3
import unicodedata
from pathlib import Path

import pytest

import bootmigrate
from dbfiles import make_set, read_db
from processes import cli_env, run_cli

FILES = {
    "0001_person.up.sql": "CREATE TABLE person (id INTEGER PRIMARY KEY, name TEXT NOT NULL);\n"
    "INSERT INTO person (name) VALUES ('  José '), ('ÅSA'), ('bob');\n",
    "0001_person.down.sql": "DROP TABLE person;\n",
    "0002_search_key.up.sql": (
        "ALTER TABLE person ADD COLUMN search_key TEXT;\n"
        "UPDATE person SET search_key = normalize(name);\n"
        "CREATE INDEX person_by_name ON person (name COLLATE folded);\n"
    ),
    "0002_search_key.down.sql": (
        "DROP INDEX person_by_name;\n"
        "UPDATE person SET name = normalize(name) || '!';\n"
        "ALTER TABLE person DROP COLUMN search_key;\n"
    ),
}

# What the app registers on every connection it opens.
PREPARE_MODULE = """
import unicodedata


def normalize(value):
    text = unicodedata.normalize("NFKD", value)
    return "".join(c for c in text if not unicodedata.combining(c)).strip().lower()


def folded(a, b):
    a, b = normalize(a), normalize(b)
    return (a > b) - (a < b)


def prepare(conn):
    conn.create_function("normalize", 1, normalize, deterministic=True)
    conn.create_collation("folded", folded)
"""


def normalize(value: str) -> str:
    text = unicodedata.normalize("NFKD", value)
    return "".join(c for c in text if not unicodedata.combining(c)).strip().lower()


def _prepare(conn: sqlite3.Connection) -> None:
    conn.create_function("normalize", 1, normalize, deterministic=True)
    conn.create_collation(
        "folded", lambda a, b: (normalize(a) > normalize(b)) - (normalize(a) < normalize(b))
    )


def test_migrate_on_a_connection_the_app_prepared(tmp_path: Path) -> None:
    source = make_set(tmp_path, FILES)
    db = tmp_path / "app.db"
    with pytest.raises(bootmigrate.StatementError, match="no such function: normalize"):
        bootmigrate.migrate(db, source)  # a plain path knows no normalize()
    assert read_db(db).versions == ()
    conn = sqlite3.connect(db)
    _prepare(conn)
    report = bootmigrate.migrate(conn, source)
    assert report.to_version == 2
    assert conn.execute("SELECT name FROM person ORDER BY name COLLATE folded").fetchall() == [
        ("ÅSA",),
        ("bob",),
        ("  José ",),
    ]
    conn.close()
    assert sorted(row[2] for row in read_db(db).rows["person"]) == ["asa", "bob", "jose"]


def _cli(tmp_path: Path, *args: str | Path, prepare: bool = True) -> tuple[int, str, str]:
    (tmp_path / "app_hooks").mkdir(exist_ok=True)
    (tmp_path / "app_hooks" / "__init__.py").write_text(PREPARE_MODULE, encoding="utf-8")
    env = cli_env(PYTHONPATH=str(tmp_path))
    extra = ["--prepare", "app_hooks:prepare"] if prepare else []
    done = run_cli([*extra, *args], env=env)
    return done.returncode, done.stdout, done.stderr


def test_the_cli_prepares_its_connections_for_up_and_down(tmp_path: Path) -> None:
    source = make_set(tmp_path, FILES)
    db = tmp_path / "app.db"
    code, _, err = _cli(tmp_path, "--db", db, "--source", source, "up", prepare=False)
    assert code == 1 and "no such function: normalize" in err and "Traceback" not in err
    assert read_db(db).versions == ()

    code, out, err = _cli(tmp_path, "--db", db, "--source", source, "up")
    assert code == 0, err
    assert "migrated from an empty database to version 2" in out
    assert sorted(row[2] for row in read_db(db).rows["person"]) == ["asa", "bob", "jose"]

    code, out, err = _cli(tmp_path, "--db", db, "--source", source, "down", "--to", "1")
    assert code == 0, err
    assert sorted(row[1] for row in read_db(db).rows["person"]) == ["asa!", "bob!", "jose!"]
    assert read_db(db).versions == (1,)


def test_the_prepare_function_from_the_environment(tmp_path: Path) -> None:
    source = make_set(tmp_path, FILES)
    db = tmp_path / "app.db"
    (tmp_path / "app_hooks").mkdir()
    (tmp_path / "app_hooks" / "__init__.py").write_text(PREPARE_MODULE, encoding="utf-8")
    env = cli_env(PYTHONPATH=str(tmp_path), BOOTMIGRATE_PREPARE="app_hooks:prepare")
    done = run_cli(["--db", db, "--source", source, "up"], env=env)
    assert done.returncode == 0, done.stderr
    assert read_db(db).versions == (1, 2)


@pytest.mark.parametrize(
    ("spec", "says"),
    [("app_hooks:missing", "cannot load the --prepare function"), ("nomodule:f", "nomodule")],
)
def test_a_prepare_function_that_cannot_be_loaded(tmp_path: Path, spec: str, says: str) -> None:
    source = make_set(tmp_path, FILES)
    db = tmp_path / "app.db"
    (tmp_path / "app_hooks").mkdir()
    (tmp_path / "app_hooks" / "__init__.py").write_text(PREPARE_MODULE, encoding="utf-8")
    done = run_cli(
        ["--prepare", spec, "--db", db, "--source", source, "up"],
        env=cli_env(PYTHONPATH=str(tmp_path)),
    )
    assert done.returncode == 1 and says in done.stderr and "Traceback" not in done.stderr
    assert not db.exists()
