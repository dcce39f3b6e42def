"""SQL text: splitting into statements, checksums, directives, encoding. Pure, no database."""

from __future__ import annotations

import sqlite3

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bootmigrate import DirectiveError, EncodingError
from bootmigrate._source.text import (
    checksum,
    decode,
    directives,
    find_transaction_control,
    normalize,
    split,
)

TRIGGER = """CREATE TRIGGER notes_touch AFTER UPDATE ON notes
BEGIN
    UPDATE notes SET updated_at = 'x' WHERE id = NEW.id;
    INSERT INTO log (what) VALUES ('touched');
END;"""


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # two plain statements
        (
            "CREATE TABLE a (x);\nCREATE TABLE b (y);\n",
            ["CREATE TABLE a (x);", "CREATE TABLE b (y);"],
        ),
        # a trigger body holds ';' that do not end the statement
        (TRIGGER + "\nSELECT 1;", [TRIGGER, "SELECT 1;"]),
        # CASE ... END outside a trigger
        (
            "SELECT CASE WHEN x THEN 'a' ELSE 'b' END FROM t;\nSELECT 2;",
            ["SELECT CASE WHEN x THEN 'a' ELSE 'b' END FROM t;", "SELECT 2;"],
        ),
        # CASE ... END inside a trigger: END of CASE does not end the trigger
        (
            "CREATE TRIGGER t1 AFTER INSERT ON t BEGIN SELECT CASE WHEN 1 THEN 2 END; "
            "DELETE FROM u; END;\nSELECT 3;",
            [
                "CREATE TRIGGER t1 AFTER INSERT ON t BEGIN SELECT CASE WHEN 1 THEN 2 END; "
                "DELETE FROM u; END;",
                "SELECT 3;",
            ],
        ),
        # ';' inside a string literal, with an escaped quote
        (
            "INSERT INTO t VALUES ('a;b', 'it''s; fine');\nSELECT 1;",
            ["INSERT INTO t VALUES ('a;b', 'it''s; fine');", "SELECT 1;"],
        ),
        # ';' inside "double-quoted", [bracketed] and `backtick` identifiers
        (
            'CREATE TABLE "we;ird" ([a;b] TEXT, `c;d` INT);\nSELECT 1;',
            ['CREATE TABLE "we;ird" ([a;b] TEXT, `c;d` INT);', "SELECT 1;"],
        ),
        # ';' inside a -- comment between statements
        ("SELECT 1; -- first; not a statement\nSELECT 2;", ["SELECT 1;", "SELECT 2;"]),
        # ';' inside a /* */ comment inside a statement
        ("SELECT /* a; b; */ 1;\nSELECT 2;", ["SELECT /* a; b; */ 1;", "SELECT 2;"]),
        # a last statement without ';'
        ("CREATE TABLE a (x);\nCREATE TABLE b (y)", ["CREATE TABLE a (x);", "CREATE TABLE b (y)"]),
        # a trailing -- comment after the last statement is not a statement
        ("SELECT 1;\n-- the end; really\n", ["SELECT 1;"]),
        # a trailing /* */ comment likewise
        ("SELECT 1;\n/* done; */\n\n", ["SELECT 1;"]),
        # empty statements are dropped
        ("SELECT 1;;\n;  ;\nSELECT 2;", ["SELECT 1;", "SELECT 2;"]),
        # leading comments belong to no statement
        ("-- header; with a semicolon\n/* more */\nSELECT 1;", ["SELECT 1;"]),
        # only comments: no statement
        ("-- nothing here;\n/* or here; */\n", []),
        # nothing at all
        ("", []),
        # whitespace only
        ("  \n\t\n", []),
    ],
)
def test_split(text: str, expected: list[str]) -> None:
    assert [s.sql for s in split(text)] == expected


def test_statement_numbers_and_lines() -> None:
    text = (
        "-- header line 1\n"  # 1
        "CREATE TABLE a (x);\n"  # 2
        "\n"  # 3
        "/* a comment\n"  # 4
        "   on two lines; */\n"  # 5
        "CREATE TRIGGER tr AFTER INSERT ON a\n"  # 6
        "BEGIN\n"  # 7
        "  DELETE FROM a;\n"  # 8
        "END; SELECT 1;\n"  # 9: two statements end on this line
        "INSERT INTO a\n"  # 10
        "VALUES ('x;\n"  # 11
        "y');"  # 12
    )
    got = [(s.number, s.line, s.sql.split()[0]) for s in split(text)]
    assert got == [(1, 2, "CREATE"), (2, 6, "CREATE"), (3, 9, "SELECT"), (4, 10, "INSERT")]


def test_split_pieces_run_in_sqlite() -> None:
    # The pieces are what SQLite itself would run: executing them one by one works.
    text = "CREATE TABLE notes (id INTEGER PRIMARY KEY, updated_at TEXT);\n"
    text += "CREATE TABLE log (what TEXT);\n" + TRIGGER + "\nINSERT INTO notes (id) VALUES (1);"
    text += "\nUPDATE notes SET id = 1 WHERE id = 1 -- no ';' at the end"
    conn = sqlite3.connect(":memory:")
    try:
        for statement in split(text):
            conn.execute(statement.sql)
        assert conn.execute("SELECT what FROM log").fetchall() == [("touched",)]
    finally:
        conn.close()


# -- Hypothesis: joining statements and splitting gives them back -----------------------

_safe_text = st.text(
    alphabet=st.characters(codec="utf-8", exclude_characters="\x00\r"),
    max_size=12,
)
_atoms = st.one_of(
    st.sampled_from(["1", "x", "NULL", "+", "-", "*", "(1)", "CASE WHEN 1 THEN 2 END"]),
    _safe_text.map(lambda s: "'" + s.replace("'", "''") + "'"),
    _safe_text.map(lambda s: '"' + s.replace('"', '""') + '"'),
    _safe_text.filter(lambda s: "]" not in s).map(lambda s: f"[{s}]"),
    _safe_text.map(lambda s: "`" + s.replace("`", "``") + "`"),
    _safe_text.filter(lambda s: "*/" not in s and not s.endswith("*")).map(lambda s: f"/*{s}*/"),
    _safe_text.filter(lambda s: "\n" not in s).map(lambda s: f"--{s}\n"),
)
_select = st.lists(_atoms, min_size=1, max_size=6).map(lambda atoms: "SELECT " + " ".join(atoms))
_trigger = st.lists(_select, min_size=1, max_size=3).map(
    lambda body: "CREATE TRIGGER tr AFTER INSERT ON t BEGIN\n  " + ";\n  ".join(body) + ";\nEND"
)
_separators = st.sampled_from(["\n", " ", "\n\n", "\n-- between; statements\n", "/* ; */"])


@given(
    statements=st.lists(st.one_of(_select, _trigger), min_size=1, max_size=6),
    separators=st.lists(_separators, min_size=6, max_size=6),
    last_semicolon=st.booleans(),
)
def test_join_then_split_round_trips(
    statements: list[str], separators: list[str], last_semicolon: bool
) -> None:
    pieces = [s + ";" for s in statements]
    if not last_semicolon and not statements[-1].endswith("\n"):
        pieces[-1] = statements[-1]  # a last statement without ';'
    text = ""
    starts = []
    for piece, separator in zip(pieces, separators):
        starts.append(text.count("\n") + 1)
        text += piece + separator
    result = split(text)
    got = [s.sql for s in result]
    if pieces[-1] == statements[-1]:
        # Without a ';' the last statement runs to the end of the text; what follows
        # the statement proper is whitespace and comments only.
        assert got[-1].startswith(pieces[-1])
        assert split(got[-1][len(pieces[-1]) :]) == []
        got[-1] = pieces[-1]
    assert got == pieces
    assert [s.number for s in result] == list(range(1, len(pieces) + 1))
    assert [s.line for s in result] == starts


# -- normalising and checksums -----------------------------------------------------

LF = "CREATE TABLE a (x);\nINSERT INTO a VALUES ('é');\n"


@pytest.mark.parametrize(
    "variant",
    [
        # Windows line endings
        LF.replace("\n", "\r\n"),
        # classic Mac line endings
        LF.replace("\n", "\r"),
        # a UTF-8 byte-order mark (Notepad)
        "\ufeff" + LF,
        # both
        "\ufeff" + LF.replace("\n", "\r\n"),
    ],
)
def test_checksum_ignores_bom_and_line_endings(variant: str) -> None:
    assert checksum(variant) == checksum(LF)
    assert normalize(variant) == LF
    assert decode(variant.encode("utf-8"), "0001_a.up.sql") == LF


def test_checksum_is_sha256_of_the_lf_text() -> None:
    import hashlib

    assert checksum(LF) == hashlib.sha256(LF.encode("utf-8")).hexdigest()
    # Any other change is a different checksum, whitespace included.
    assert checksum(LF + " ") != checksum(LF)
    assert checksum(LF.replace("é", "e")) != checksum(LF)


@pytest.mark.parametrize(
    ("data", "detail"),
    [
        # Latin-1 é
        (b"INSERT INTO a VALUES ('\xe9');", "byte 23"),
        # UTF-16 with its BOM
        ("SELECT 1;".encode("utf-16"), "byte 0"),
        # a NUL: sqlite3.complete_statement() would raise a bare ValueError
        (b"SELECT 1\x00;", "NUL"),
    ],
)
def test_decode_refuses_what_is_not_utf8_text(data: bytes, detail: str) -> None:
    with pytest.raises(EncodingError) as info:
        decode(data, "0002_latin.up.sql")
    message = str(info.value)
    assert "'0002_latin.up.sql'" in message
    assert detail in message
    assert "save the file as UTF-8" in message


# -- directives --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # no directive
        ("SELECT 1;", frozenset()),
        # one directive on the first line
        ("-- bootmigrate: no-transaction\nVACUUM;", frozenset({"no-transaction"})),
        # two, comma-separated, after another comment line, any case and spacing
        (
            "-- add an index\n--BootMigrate :  no-transaction, backward-compatible\nSELECT 1;",
            frozenset({"no-transaction", "backward-compatible"}),
        ),
        # the word bootmigrate elsewhere is not a directive
        ("SELECT 'bootmigrate';", frozenset()),
    ],
)
def test_directives(text: str, expected: frozenset[str]) -> None:
    assert directives(text, "0001_a.up.sql") == expected


@pytest.mark.parametrize(
    ("text", "line", "problem"),
    [
        # a typo
        ("-- bootmigrate: no-transactions\nSELECT 1;", 1, "unknown directive 'no-transactions'"),
        # below the first statement, where it could seem to apply to part of the file
        ("SELECT 1;\n\n-- bootmigrate: no-transaction\nSELECT 2;", 3, "leading comment lines"),
    ],
)
def test_directive_errors(text: str, line: int, problem: str) -> None:
    with pytest.raises(DirectiveError) as info:
        directives(text, "0004_idx.up.sql")
    assert info.value.line == line
    message = str(info.value)
    assert f"'0004_idx.up.sql' line {line}" in message
    assert problem in message


# -- transaction control ------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "keyword", "line"),
    [
        ("BEGIN;\nCREATE TABLE a (x);\nCOMMIT;", "BEGIN", 1),
        ("CREATE TABLE a (x);\ncommit;", "COMMIT", 2),
        ("CREATE TABLE a (x);\n\nEND TRANSACTION;", "END", 3),
        ("CREATE TABLE a (x);\nROLLBACK;", "ROLLBACK", 2),
        ("SAVEPOINT sp;\nCREATE TABLE a (x);", "SAVEPOINT", 1),
        ("CREATE TABLE a (x);\n/* note */ RELEASE sp;", "RELEASE", 2),
        ("CREATE TABLE a (x);\nBegin Immediate;", "BEGIN", 2),
    ],
)
def test_transaction_control_is_found(text: str, keyword: str, line: int) -> None:
    found = find_transaction_control(split(text), text)
    assert found is not None
    assert found.line == line
    assert found.sql.split()[0].upper().rstrip(";") == keyword


@pytest.mark.parametrize(
    "text",
    [
        # BEGIN ... END of a trigger
        TRIGGER,
        # CASE ... END
        "SELECT CASE WHEN 1 THEN 'commit' END;",
        # the words in strings, identifiers and comments
        "INSERT INTO t (\"begin\") VALUES ('ROLLBACK'); -- COMMIT\n",
        # a column named end
        "CREATE TABLE spans (start INTEGER, [end] INTEGER);",
    ],
)
def test_transaction_words_that_are_not_transaction_control(text: str) -> None:
    assert find_transaction_control(split(text), text) is None


_controls = st.sampled_from(
    ["BEGIN", "begin immediate", "BEGIN TRANSACTION", "COMMIT", "commit transaction", "End",
     "ROLLBACK", "rollback to sp", "SAVEPOINT sp", "release sp", "RELEASE SAVEPOINT sp"]
)  # fmt: skip
_lead = st.sampled_from(["", "\n", "  ", "-- note; here\n", "/* ; */ ", "\n/* a\nb */\n"])


@given(
    before=st.lists(st.one_of(_select, _trigger), max_size=4),
    control=_controls,
    lead=_lead,
    after=st.lists(_select, max_size=3),
)
def test_transaction_control_is_found_wherever_it_is(
    before: list[str], control: str, lead: str, after: list[str]
) -> None:
    # Whatever precedes it (triggers, comments, strings holding ';'), the control
    # statement is found, as the statement and on the line where it is.
    head = "".join(s + ";\n" for s in before)
    text = head + lead + control + ";\n" + "".join(s + ";\n" for s in after)
    found = find_transaction_control(split(text), text)
    assert found is not None
    assert found.number == len(before) + 1
    assert found.line == (head + lead).count("\n") + 1
    assert found.sql == control + ";"


@given(st.lists(st.one_of(_select, _trigger), min_size=1, max_size=5))
def test_no_transaction_control_in_selects_and_triggers(statements: list[str]) -> None:
    text = "".join(s + ";\n" for s in statements)
    assert find_transaction_control(split(text), text) is None
