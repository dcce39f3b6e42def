"""From files to a validated MigrationSet: build_set (pure) and load (directories)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bootmigrate import (
    DirectiveError,
    DuplicateMigration,
    EmptyMigration,
    EncodingError,
    MigrationSet,
    NameMismatch,
    OrphanDownFile,
    SourceError,
    SourceNotFound,
    TransactionControlError,
    UsageError,
    load,
)
from bootmigrate._source.model import build_set
from bootmigrate._source.text import checksum
from dbfiles import EXAMPLE_SET, make_set


def files(**named: str) -> dict[str, bytes]:
    return {name: text.encode("utf-8") for name, text in named.items()}


def build(mapping: dict[str, str]) -> MigrationSet:
    return build_set({k: v.encode("utf-8") for k, v in mapping.items()}, "test")


def test_build_orders_pairs_and_ignores_other_files() -> None:
    result = build(
        {
            "0010_late.up.sql": "CREATE TABLE late (x);",
            "0002_second.up.sql": "CREATE TABLE second (x);",
            "0002_second.down.sql": "DROP TABLE second;",
            "0001_first.up.sql": "CREATE TABLE first (x);",
            "0001_first.fixture.sql": "INSERT INTO first VALUES (1);",
            "README.md": "# not a migration",
            "__init__.py": "",
            ".DS_Store": "\x00\x01",
            "schema.sql": "CREATE TABLE everything (x);",
            "bootmigrate.lock": "whatever",
        }
    )
    assert result.versions == (1, 2, 10)
    assert result.head == 10
    first, second, late = result.migrations
    assert (first.name, first.reversible, first.fixture is not None) == ("first", False, True)
    assert (second.name, second.reversible) == ("second", True)
    assert late.label == "0010_late"
    assert first.checksum == checksum("CREATE TABLE first (x);")
    assert result.get(2) is second
    assert result.get(3) is None
    assert list(result) == [first, second, late]


def test_an_empty_source_is_an_empty_set() -> None:
    result = build({"README.md": "nothing yet"})
    assert (len(result), result.head, result.versions) == (0, None, ())


def test_two_ups_for_one_version() -> None:
    with pytest.raises(DuplicateMigration) as info:
        build({"0003_add_a.up.sql": "SELECT 1;", "0003_add_b.up.sql": "SELECT 2;"})
    assert info.value.version == 3
    message = str(info.value)
    assert "'0003_add_a.up.sql', '0003_add_b.up.sql'" in message
    assert "version 3" in message
    assert "renumber or remove" in message


def test_same_version_written_with_more_digits_is_a_duplicate() -> None:
    with pytest.raises(DuplicateMigration, match=re.escape("'00003_a.up.sql', '0003_a.up.sql'")):
        build({"0003_a.up.sql": "SELECT 1;", "00003_a.up.sql": "SELECT 1;"})


def test_up_and_down_named_differently() -> None:
    with pytest.raises(NameMismatch) as info:
        build({"0004_add_tags.up.sql": "SELECT 1;", "0004_add_tag.down.sql": "SELECT 1;"})
    message = str(info.value)
    assert "version 4" in message
    assert "'0004_add_tags.up.sql'" in message
    assert "'0004_add_tag.down.sql'" in message
    assert "rename the down file" in message


def test_down_without_up() -> None:
    with pytest.raises(OrphanDownFile) as info:
        build({"0001_a.up.sql": "SELECT 1;", "0002_b.down.sql": "SELECT 1;"})
    assert info.value.filename == "0002_b.down.sql"
    assert "'0002_b.down.sql' is a down file without an up file" in str(info.value)


def test_not_utf8() -> None:
    with pytest.raises(EncodingError) as info:
        build_set({"0001_a.up.sql": "INSERT INTO t VALUES ('café');".encode("cp1252")}, "test")
    assert "'0001_a.up.sql' is not valid UTF-8" in str(info.value)


def test_a_bom_and_crlf_file_is_fine_and_has_the_lf_checksum() -> None:
    lf = "CREATE TABLE a (x);\nCREATE TABLE b (y);\n"
    windows = build_set({"0001_a.up.sql": b"\xef\xbb\xbf" + lf.replace("\n", "\r\n").encode()}, "t")
    assert windows.migrations[0].checksum == build({"0001_a.up.sql": lf}).migrations[0].checksum
    assert windows.migrations[0].up.text == lf


@pytest.mark.parametrize(
    "text",
    [
        "",
        "\n\n   \n",
        "-- TODO: write this migration; later\n",
        "/* nothing;\n here */\n-- still nothing\n",
        ";\n;;\n",
    ],
)
def test_up_file_without_a_statement(text: str) -> None:
    with pytest.raises(EmptyMigration) as info:
        build({"0005_todo.up.sql": text})
    assert "'0005_todo.up.sql' contains no SQL statement" in str(info.value)


@pytest.mark.parametrize("text", ["", "-- 0001_a: write here how to undo it\n"])
def test_a_down_file_without_a_statement(text: str) -> None:
    # It would undo nothing yet delete the ledger row: a forgotten `new` placeholder.
    with pytest.raises(EmptyMigration) as info:
        build({"0001_a.up.sql": "CREATE TABLE a (x);", "0001_a.down.sql": text})
    assert "'0001_a.down.sql' contains no SQL statement" in str(info.value)


@pytest.mark.parametrize(
    ("keyword", "line", "text"),
    [
        ("BEGIN", 2, "-- wrapped in a transaction by habit\nBEGIN;\nCREATE TABLE a (x);\nCOMMIT;"),
        ("COMMIT", 3, "CREATE TABLE a (x);\nCREATE TABLE b (y);\nCOMMIT;"),
        ("END", 2, "CREATE TABLE a (x);\nEND;"),
        ("ROLLBACK", 4, "CREATE TABLE a (x);\n\n\nrollback;"),
        ("SAVEPOINT", 1, "SAVEPOINT before_change;\nCREATE TABLE a (x);"),
        ("RELEASE", 2, "CREATE TABLE a (x);\nRELEASE before_change;"),
    ],
)
def test_transaction_control_is_refused_naming_file_and_line(
    keyword: str, line: int, text: str
) -> None:
    with pytest.raises(TransactionControlError) as info:
        build({"0002_wrapped.up.sql": text})
    assert (info.value.filename, info.value.line, info.value.keyword) == (
        "0002_wrapped.up.sql",
        line,
        keyword,
    )
    message = str(info.value)
    assert f"'0002_wrapped.up.sql' line {line}: {keyword} is transaction control" in message
    assert "no-transaction" in message  # says the way out


def test_transaction_control_in_a_down_file_is_refused_too() -> None:
    with pytest.raises(TransactionControlError, match=re.escape("'0001_a.down.sql' line 1: BEGIN")):
        build({"0001_a.up.sql": "SELECT 1;", "0001_a.down.sql": "BEGIN; DROP TABLE a; COMMIT;"})


def test_no_transaction_migration_may_manage_its_own_transaction() -> None:
    result = build(
        {"0001_big.up.sql": "-- bootmigrate: no-transaction\nBEGIN;\nCREATE TABLE a (x);\nCOMMIT;"}
    )
    up = result.migrations[0].up
    # One explicit transaction: its body runs inside the run's transaction.
    assert up.no_transaction and result.migrations[0].transactional
    assert up.transaction_body is not None
    assert up.text[slice(*up.transaction_body)] == "CREATE TABLE a (x);"


@pytest.mark.parametrize(
    "text",
    [
        "BEGIN;\nCREATE TABLE a (x);\nCOMMIT;\nVACUUM;",  # something after it
        "CREATE TABLE a (x);\nBEGIN;\nCREATE TABLE b (x);\nCOMMIT;",  # something before
        "BEGIN;\nCREATE TABLE a (x);\nCOMMIT;\nBEGIN;\nCREATE TABLE b (x);\nCOMMIT;",
        "BEGIN;\nSAVEPOINT s;\nCREATE TABLE a (x);\nRELEASE s;\nCOMMIT;",
        "BEGIN;\nCREATE TABLE a (x);\nROLLBACK;",
        "PRAGMA journal_mode = WAL;\nBEGIN;\nCREATE TABLE a (x);\nCOMMIT;",
        "BEGIN;\nCOMMIT;",
        "CREATE TABLE a (x);\nINSERT INTO a VALUES (1);",
    ],
)
def test_a_no_transaction_migration_that_is_not_one_transaction_runs_alone(text: str) -> None:
    result = build({"0001_big.up.sql": "-- bootmigrate: no-transaction\n" + text})
    migration = result.migrations[0]
    assert migration.up.transaction_body is None and not migration.transactional


@pytest.mark.parametrize(
    "text",
    [
        "PRAGMA foreign_keys = OFF;\nBEGIN TRANSACTION;\nCREATE TABLE a (x);\nCOMMIT;\n"
        "PRAGMA foreign_keys = ON;\n",
        "PRAGMA foreign_keys=0;\nbegin immediate;\nCREATE TABLE a (x);\nend transaction;",
        "BEGIN EXCLUSIVE;\n-- a comment\nCREATE TABLE a (x);\n/* another */\nEND",
    ],
)
def test_a_no_transaction_migration_that_is_one_transaction_runs_in_the_runs(text: str) -> None:
    result = build({"0001_big.up.sql": "-- bootmigrate: no-transaction\n" + text})
    up = result.migrations[0].up
    assert up.transaction_body is not None and result.migrations[0].transactional
    assert up.text[slice(*up.transaction_body)] == "CREATE TABLE a (x);"


def test_triggers_are_not_transaction_control() -> None:
    result = build(
        {
            "0001_t.up.sql": "CREATE TABLE a (x);\nCREATE TRIGGER tr AFTER INSERT ON a\n"
            "BEGIN\n  DELETE FROM a WHERE x IS NULL;\nEND;\n"
        }
    )
    assert len(result.migrations[0].up.statements) == 2


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        ("-- bootmigrate: no-transacton\nVACUUM;", 1, "unknown directive 'no-transacton'"),
        ("CREATE TABLE a (x);\n-- bootmigrate: no-transaction\n", 2, "leading comment lines"),
    ],
)
def test_directive_errors_name_file_and_line(text: str, line: int, fragment: str) -> None:
    with pytest.raises(DirectiveError) as info:
        build({"0003_vacuum.up.sql": text})
    assert f"'0003_vacuum.up.sql' line {line}" in str(info.value)
    assert fragment in str(info.value)


def test_errors_come_in_file_name_order() -> None:
    # The same broken set always reports the same file first.
    broken = {"0002_b.up.sql": "", "0001_a.down.sql": "SELECT 1;", "0003_c.up.sql": "BEGIN;"}
    for _ in range(3):
        with pytest.raises(OrphanDownFile):
            build(dict(reversed(list(broken.items()))))


# -- load() from a directory --------------------------------------------------------


def test_load_directory_as_str_and_path(tmp_path: Path) -> None:
    directory = make_set(tmp_path, {"0001_a.up.sql": "CREATE TABLE a (x);", "notes.txt": "hi"})
    from_str = load(str(directory))
    from_path = load(directory)
    assert from_str.versions == from_path.versions == (1,)
    assert from_str.origin == from_path.origin == str(directory)
    assert from_str.migrations == from_path.migrations


def test_load_ignores_subdirectories(tmp_path: Path) -> None:
    directory = make_set(tmp_path, {"0001_a.up.sql": "SELECT 1;"})
    make_set(directory, {"0002_b.up.sql": "SELECT 2;"}, subdir="__pycache__")
    assert load(directory).versions == (1,)


def test_load_reads_the_lock_file(tmp_path: Path) -> None:
    directory = make_set(tmp_path, {"0001_a.up.sql": "SELECT 1;", "bootmigrate.lock": "x 1\n"})
    assert load(directory).lock_text == "x 1\n"


def test_load_a_loaded_set_returns_it() -> None:
    loaded = load(EXAMPLE_SET)
    assert load(loaded) is loaded


def test_load_errors_name_the_file_in_the_directory(tmp_path: Path) -> None:
    directory = make_set(tmp_path, {"0001_a.up.sql": b"SELECT '\xff';"})
    with pytest.raises(EncodingError, match=re.escape("'0001_a.up.sql'")):
        load(directory)


@pytest.mark.parametrize("kind", [str, Path])
def test_missing_directory(tmp_path: Path, kind: type) -> None:
    missing = kind(tmp_path / "nowhere")
    with pytest.raises(SourceNotFound) as info:
        load(missing)
    assert isinstance(info.value, SourceError)
    assert f"{os.fspath(missing)!r} does not exist" in str(info.value)
    assert "'pkg:folder'" in str(info.value)


def test_a_file_is_not_a_directory_source(tmp_path: Path) -> None:
    single = make_set(tmp_path, {"0001_a.up.sql": "SELECT 1;"}) / "0001_a.up.sql"
    with pytest.raises(SourceNotFound, match="not a directory"):
        load(single)


def test_package_that_does_not_import() -> None:
    with pytest.raises(SourceNotFound) as info:
        load("no_such_package_xyz:migrations")
    message = str(info.value)
    assert "cannot import package 'no_such_package_xyz'" in message
    assert "'no_such_package_xyz:migrations'" in message


def test_package_without_the_folder() -> None:
    with pytest.raises(SourceNotFound) as info:
        load("bootmigrate:no_such_folder")
    assert "package 'bootmigrate' has no resource folder 'no_such_folder'" in str(info.value)
    assert "package data" in str(info.value)


def test_a_source_of_the_wrong_type() -> None:
    with pytest.raises(UsageError, match="'pkg:folder' string or a directory path"):
        load(42)  # type: ignore[arg-type]


def test_a_windows_drive_path_is_a_directory_not_a_package() -> None:
    # 'C:/Users/me/migrations' must not be read as package 'C', folder '/Users/...'.
    with pytest.raises(SourceNotFound) as info:
        load("C:/Users/me/app/migrations")
    assert "migration directory 'C:/Users/me/app/migrations' does not exist" in str(info.value)
    assert "cannot import package" not in str(info.value)


def test_transaction_control_is_refused_before_anything_runs(tmp_path: Path) -> None:
    from bootmigrate import migrate

    source = make_set(
        tmp_path,
        {"0001_a.up.sql": "CREATE TABLE a (x);", "0002_b.up.sql": "CREATE TABLE b (x);\nCOMMIT;"},
    )
    with pytest.raises(TransactionControlError, match=re.escape("'0002_b.up.sql' line 2: COMMIT")):
        migrate(tmp_path / "app.db", source)
    assert not (tmp_path / "app.db").exists()


_names = st.one_of(
    st.builds(
        lambda v, n, k: f"{v:04d}_{n}.{k}.sql",
        st.integers(1, 4),
        st.sampled_from(["a", "b"]),
        st.sampled_from(["up", "down", "fixture"]),
    ),
    st.sampled_from(["README.md", "__init__.py", "0001-a.up.sql", "12_x.up.sql", ".DS_Store"]),
)
_contents = st.one_of(
    st.sampled_from(
        [
            b"CREATE TABLE a (x);",
            b"-- nothing\n",
            b"",
            b"BEGIN;\nSELECT 1;",
            b"-- bootmigrate: no-transaction\nVACUUM;",
            b"-- bootmigrate: bogus\nSELECT 1;",
            b"SELECT '\xff';",
            b"\xef\xbb\xbfSELECT 1;\r\n",
            b"SELECT 1\x00;",
            b"CREATE TRIGGER t AFTER INSERT ON a BEGIN SELECT 1; END;",
        ]
    ),
    st.binary(max_size=40),
)


@given(st.dictionaries(_names, _contents, max_size=8))
def test_build_set_raises_nothing_but_source_errors(files: dict[str, bytes]) -> None:
    try:
        result = build_set(files, "generated")
    except SourceError:
        return
    # What it accepts is consistent: ordered versions, each with an up script.
    assert list(result.versions) == sorted(set(result.versions))
    for migration in result:
        assert migration.up.statements
        assert migration.down is None or migration.down.filename.endswith(".down.sql")


def test_a_lock_file_that_is_not_utf8(tmp_path: Path) -> None:
    from bootmigrate import migrate
    from bootmigrate._source.locate import resolve

    directory = make_set(
        tmp_path, {"0001_a.up.sql": "CREATE TABLE a (x);", "bootmigrate.lock": b"\xff\xfe1 a\n"}
    )
    with pytest.raises(EncodingError, match=re.escape("'bootmigrate.lock' is not valid UTF-8")):
        load(directory)
    with pytest.raises(EncodingError, match=re.escape("'bootmigrate.lock'")):
        resolve(str(directory)).read_text("bootmigrate.lock")
    with pytest.raises(EncodingError):
        migrate(tmp_path / "app.db", directory)
