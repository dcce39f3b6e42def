"""Row fingerprints, and the data-survives guarantee they are used to prove."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

import bootmigrate
from bootmigrate.testing._fingerprint import fingerprint, row_digests
from dbfiles import file_state, make_set, numbered_set


def _db(path: Path, rows: list[tuple[object, ...]]) -> Path:
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE t (a, b)")
    conn.executemany("INSERT INTO t VALUES (?, ?)", rows)
    conn.commit()
    conn.close()
    return path


def test_the_fingerprint_sees_values_and_types_but_not_order(tmp_path: Path) -> None:
    base = fingerprint(_db(tmp_path / "a.db", [(1, "x"), (2, b"y")]))
    assert fingerprint(_db(tmp_path / "b.db", [(2, b"y"), (1, "x")])) == base  # order
    changed: list[list[tuple[object, ...]]] = [
        [(1.0, "x"), (2, b"y")],  # 1 became 1.0
        [(1, "x"), (2, "y")],  # bytes became text
        [(1, "x"), (2, b"y"), (2, b"y")],  # a duplicated row
        [(1, "x")],  # a lost row
        [(1, "x "), (2, b"y")],  # a changed value
    ]
    for i, rows in enumerate(changed):
        assert fingerprint(_db(tmp_path / f"c{i}.db", rows)) != base, rows


def test_taking_a_fingerprint_changes_nothing(tmp_path: Path) -> None:
    db = _db(tmp_path / "a.db", [(1, "x")])
    before = file_state(db)
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    assert fingerprint(conn) == fingerprint(db)
    assert len(row_digests(conn, "t")) == 1 and conn.row_factory is sqlite3.Row
    conn.close()
    assert file_state(db) == before
    with pytest.raises(FileNotFoundError):
        fingerprint(tmp_path / "missing.db")
    assert not (tmp_path / "missing.db").exists()


def test_a_failed_run_leaves_every_row_identical(tmp_path: Path) -> None:
    files = numbered_set(30)
    files["0031_fails.up.sql"] = "UPDATE t1 SET n = n + 1;\nDELETE FROM t2;\nSELECT nope();\n"
    source = make_set(tmp_path, files)
    db = tmp_path / "app.db"
    bootmigrate.migrate(db, source, target=10)
    before = fingerprint(db)
    with pytest.raises(bootmigrate.StatementError):
        bootmigrate.migrate(db, source)
    assert fingerprint(db) == before


def test_a_run_leaves_the_tables_it_does_not_touch_identical(tmp_path: Path) -> None:
    source = make_set(tmp_path, numbered_set(20))
    db = tmp_path / "app.db"
    bootmigrate.migrate(db, source, target=10)
    before = fingerprint(db, exclude={"bootmigrate_ledger"})
    bootmigrate.migrate(db, source)
    after = fingerprint(db, exclude={"bootmigrate_ledger"})
    assert {table: after[table] for table in before} == before
    assert set(after) - set(before) == {f"t{n}" for n in range(11, 21)} | {"t15_log", "t20_log"}
