"""Statement splitting held to SQLite's own answer. Pure: no database, no file.

The oracle is :func:`sqlite3.complete_statement` (SQLite's ``sqlite3_complete()``)
asked naively: at every ``;``, is the text since the last cut a complete statement?
That is quadratic in the ``;`` of one statement, so the splitter asks it only a few
times per statement and reads the rest with ``_statement_end``, a transcription of
SQLite's ``complete.c``; these properties hold both to the naive answer, and the
linearity tests count what the splitter hands to SQLite (reliability issue, case 20).
"""

from __future__ import annotations

import sqlite3

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from bootmigrate import DirectiveError
from bootmigrate._source.text import (
    _statement_end,
    directives,
    find_transaction_control,
    first_keyword,
    has_statement,
    split,
    statement_spans,
)
from processes import rounds

EXAMPLES = rounds(300, 6000)
complete = sqlite3.complete_statement

# What SQLite's tokenizer skips before a token (tokenize.c: CC_SPACE, and CC_BOM).
SQLITE_SPACE = " \t\n\f\r\ufeff"


def skip_space(text: str, i: int, end: int, *, open_comment: bool = True) -> int:
    """Where the first token at or after *i* begins, as SQLite's tokenizer reads it.

    An unterminated ``/*`` comment runs to the end of the text (*open_comment*), as in
    tokenize.c, unless ``/*`` are the last two characters: then ``/`` is an operator.
    """
    while i < end:
        if text[i] in SQLITE_SPACE:
            i += 1
        elif text.startswith("--", i, end):
            newline = text.find("\n", i, end)
            i = end if newline < 0 else newline + 1
        elif text.startswith("/*", i, end) and i + 2 < end:
            close = text.find("*/", i + 2, end)
            if close < 0 and not open_comment:
                break
            i = end if close < 0 else close + 2
        else:
            break
    return i


def reference_split(text: str) -> tuple[list[str], int]:
    """The naive splitter: cut at every ``;`` after which SQLite says "complete".

    Empty statements and a tail of only whitespace and comments are dropped; a last
    statement without ``;`` is kept. Also returns where the tail begins.
    """
    statements: list[str] = []
    start = 0
    probe = as_the_tokenizer_reads(text)
    for semi in [i for i, c in enumerate(text) if c == ";"]:
        if complete(probe[start : semi + 1]):
            first = skip_space(text, start, semi + 1)
            if first < semi:  # not ";" alone
                statements.append(text[first : semi + 1])
            start = semi + 1
    first = skip_space(text, start, len(text))
    if first < len(text):  # a last statement without ';'
        statements.append(text[first:])
    return statements, start


def as_the_tokenizer_reads(text: str) -> str:
    """*text* with each U+FEFF that SQLite's tokenizer skips as whitespace (one where a
    token could start: not after an identifier character) turned into a space.

    ``sqlite3_complete()`` reads U+FEFF as a word character, so without this it would not
    see ``\ufeffCREATE TRIGGER`` open a trigger body where SQLite's parser does.
    """
    out = list(text)
    for i, c in enumerate(text):
        if c == "\ufeff" and (i == 0 or not _identifier_char(out[i - 1])):
            out[i] = " "
    return "".join(out)


def _identifier_char(c: str) -> bool:
    return not c.isascii() or c.isalnum() or c in "_$"


def reference_end(text: str, start: int = 0) -> int:
    """The first position after a ``;`` where the text from *start* is complete, or -1."""
    for semi in range(start, len(text)):
        if text[semi] == ";" and complete(text[start : semi + 1]):
            return semi + 1
    return -1


# -- texts that stress the splitter ---------------------------------------------------

_words = [
    "SELECT", "x", "1", "CREATE", "create", "TRIGGER", "Trigger", "TEMP", "temporary",
    "EXPLAIN", "explain", "BEGIN", "END", "end", "CASE", "WHEN", "THEN", "ELSE", "QUERY",
    "PLAN", "endx", "xend", "createx", "$", "_", "\xe9", "\u200b",
]  # fmt: skip
_punctuation = [";", ";", ";", ";", "(", ")", ",", "+", "-", "/", "*", "=", "."]
_quoted = [
    "'a;b'", "'it''s; ok'", "';;;;;;'", "''", '"q;"', '""', '"a"";b"', "[b;]", "`c;`",
    "'--;'", "'/*;'", '"*/;"', "'\n;\n'", "'END;'", "[end;]",
]  # fmt: skip
_comments = [
    "-- c;\n", "-- */ ;\n", "--;\n", "-- 'x\n", "/* ; */", "/* -- ; */", "/**/", "/*/ ;*/",
    "/* ' */", "/* END; */",
]  # fmt: skip
_spaces = [" ", " ", " ", "\n", "\t", "\r", "\f", "\ufeff", "\x0b", "\u2028", "\xa0", "\x85"]
# Unterminated: only at the end of a text.
_open = ["'open;", '"open;', "[open;", "`open;", "/* open; x", "/*", "-- open;", "SELECT 1"]

# A string literal with more ';' than the splitter offers complete_statement.
many_semis = st.integers(min_value=4, max_value=12).map(lambda n: "'" + "a;" * n + "'")
soup = st.tuples(
    st.lists(
        st.one_of(
            st.sampled_from(_words + _punctuation + _quoted + _comments + _spaces), many_semis
        ),
        max_size=60,
    ).map("".join),
    st.one_of(st.just(""), st.sampled_from(_open)),
).map("".join)

_atom = st.one_of(
    st.sampled_from(["x", "1", "NULL", "NEW.x", "'a;b'", "[c;d]", '"e;f"', "`g;h`", "''''"]),
    many_semis,
    st.sampled_from(["/* ; */", "-- ;\n", "/* -- */", "-- */ ;\n"]),
)
_select = st.lists(_atom, min_size=1, max_size=5).map(lambda a: "SELECT " + ", ".join(a))
_insert = many_semis.map(lambda s: f"INSERT INTO t VALUES ({s}, 'x')")
_case = st.tuples(_atom, _atom).map(lambda a: f"SELECT CASE WHEN {a[0]} THEN {a[1]} END")
_trigger_openers = [
    "CREATE TRIGGER", "CREATE TEMP TRIGGER", "create temporary trigger", "EXPLAIN CREATE TRIGGER",
    "CREATE TRIGGER IF NOT EXISTS", "CREATE /* ; */ TRIGGER",
]  # fmt: skip
_trigger = st.tuples(
    st.sampled_from(_trigger_openers),
    st.lists(st.one_of(_select, _insert, _case), min_size=1, max_size=8),
).map(lambda t: f"{t[0]} tr AFTER INSERT ON t BEGIN\n  " + ";\n  ".join(t[1]) + ";\nEND")
_statement = st.one_of(
    _select,
    _insert,
    _case,
    _trigger,
    st.just("EXPLAIN QUERY PLAN SELECT ';;;;;'"),
    st.just("CREATE TABLE [a;b] (`c;d` TEXT DEFAULT 'e;f;g;h;i')"),
)
_between = st.sampled_from(
    ["\n", " ", "", "\n\n", ";", " ; ", "\ufeff", "\n-- between; */ statements\n", "/* ; */"]
)
structured = st.tuples(
    st.lists(st.tuples(_statement, st.just(";"), _between).map("".join), max_size=6).map("".join),
    st.one_of(st.just(""), st.sampled_from(_open), _statement),
).map("".join)
# complete.c's keywords, glued or spaced: every transition of its state machine.
_keywords = st.lists(
    st.tuples(
        st.sampled_from(
            ["EXPLAIN", "explain", "CREATE", "create", "TEMP", "TEMPORARY", "TRIGGER", "END",
             "end", "x", "QUERY", ";", ";", ";", "'a;b'", "[;]", "/* ; */", "-- ;\n", "$", "\xe9",
             "\ufeff", "1"]
        ),
        st.sampled_from([" ", " ", " ", "", "\n", "\ufeff", "/**/", "\t"]),
    ).map("".join),
    max_size=30,
).map("".join)  # fmt: skip
_glue = st.sampled_from([" ", " ", "", "\n", "/**/", "\ufeff"])
_other = st.sampled_from(["x", "QUERY", "$", "\xe9", "1", "END"])


@st.composite
def trigger_heads(draw: st.DrawFn) -> str:
    """[EXPLAIN other*] CREATE (TEMP | other)* TRIGGER, glued or spaced, then a body:
    the words that move complete.c between its EXPLAIN, CREATE and TRIGGER states."""
    words = []
    if draw(st.booleans()):
        words += [
            draw(st.sampled_from(["EXPLAIN", "explain"])),
            *draw(st.lists(_other, max_size=2)),
        ]
    words.append(draw(st.sampled_from(["CREATE", "create"])))
    words += draw(st.lists(st.one_of(st.sampled_from(["TEMP", "TEMPORARY"]), _other), max_size=2))
    words.append(draw(st.sampled_from(["TRIGGER", "trigger", "x"])))
    head = "".join(word + draw(_glue) for word in words)
    body = draw(st.sampled_from([" t BEGIN x; ", " BEGIN 'a;b'; y; ", ";", " BEGIN x;;"]))
    end = draw(
        st.sampled_from(["END;", "\ufeffEND;", "END END; END;", "x; END;", "", "END", "end;x;"])
    )
    return head + body + end


sqlish = st.one_of(soup, structured, _keywords, trigger_heads())


@settings(max_examples=EXAMPLES)
@given(sqlish)
@example("INSERT INTO t VALUES ('" + "a;" * 10 + "');\nSELECT 1;")
@example("CREATE TEMP TRIGGER tr AFTER INSERT ON t BEGIN " + "SELECT 1; " * 9 + "END; SELECT 2")
@example("EXPLAIN CREATE TRIGGER tr AFTER INSERT ON t BEGIN SELECT ';;;;;;'; END;")
@example("SELECT 1; -- a; b; */ c; d; e;\nSELECT 2;")
@example("\ufeffSELECT 1;\ufeff;\ufeffSELECT 2")
@example("SELECT 1;\n/*")
def test_split_is_the_naive_split(text: str) -> None:
    expected, _ = reference_split(text)
    spans = list(statement_spans(text))
    assert [sql for _, _, sql in spans] == expected
    assert all(text[first:end] == sql for first, end, sql in spans)
    statements = split(text)
    assert [s.sql for s in statements] == expected
    assert [s.number for s in statements] == list(range(1, len(expected) + 1))
    assert [s.line for s in statements] == [text.count("\n", 0, first) + 1 for first, _, _ in spans]


@settings(max_examples=EXAMPLES)
@given(sqlish, st.integers(min_value=0))
@example("SELECT ';;;;;;;;'; SELECT 2;", 0)
@example("-- a;\n/* b; */ ;", 0)
@example("SELECT 'open;", 0)
# complete.c's transitions, one example each
@example("CREATE TRIGGER t BEGIN x; END", 0)  # no ';' after END: never complete
@example("EXPLAIN QUERY PLAN CREATE TRIGGER t BEGIN x; END;", 0)  # EXPLAIN + other stays EXPLAIN
@example("EXPLAIN EXPLAIN CREATE TRIGGER t BEGIN x; END;", 0)  # EXPLAIN + EXPLAIN is normal
@example("EXPLAIN$CREATE TRIGGER t BEGIN x; END;", 0)  # '$' is part of the word
@example("EXPLAIN\xe9CREATE TRIGGER t BEGIN x; END;", 0)  # so is any non-ASCII character
@example("CREATE TEMPORARY TRIGGER t BEGIN x; END;", 0)
@example("CREATE TEMP TEMP TRIGGER t BEGIN x; END;", 0)  # CREATE + TEMP stays CREATE
@example("CREATE x TRIGGER t BEGIN x; END;", 0)  # CREATE + other is normal
@example("CREATE TRIGGER t BEGIN x; \ufeffEND; y; END;", 0)  # a BOM glued to END is a word
@example("CREATE TRIGGER t BEGIN x; END\ufeff; y; END;", 0)
@example("CREATE TRIGGER t BEGIN x; END END; y; END;", 0)  # END + END is back in the body
@example("CREATE TRIGGER t BEGIN x;; -- c\nEND;", 0)  # SEMI + SEMI, a comment before END
@example("CREATE TRIGGER t BEGIN x; /* ; */ END /* ; */ ;", 0)
def test_statement_end_is_where_sqlite_first_says_complete(text: str, at: int) -> None:
    # From the start, and from every place a statement can begin (just after a ';').
    starts = {0, at % (len(text) + 1)} | {i + 1 for i, c in enumerate(text) if c == ";"}
    for start in sorted(starts):
        assert _statement_end(text, start) == reference_end(text, start), start


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # after the last statement
        ("SELECT 1;\n/* trailing", ["SELECT 1;"]),
        # with a ';' inside it
        ("SELECT 1;\n/* x; y", ["SELECT 1;"]),
        # after a closed comment
        ("SELECT 1; /* a */ /* b", ["SELECT 1;"]),
        # the whole file: an up file with no statement at all
        ("/* nothing here", []),
    ],
)
def test_an_open_block_comment_tail_is_no_statement(text: str, expected: list[str]) -> None:
    assert reference_split(text)[0] == expected
    assert [s.sql for s in split(text)] == expected
    assert has_statement(text) == bool(expected)


# -- case 20: linear, whatever a statement holds ---------------------------------------


class CountingComplete:
    """sqlite3.complete_statement, counting the characters it is given."""

    def __init__(self) -> None:
        self.calls = 0
        self.chars = 0

    def __call__(self, statement: str) -> bool:
        self.calls += 1
        self.chars += len(statement)
        return complete(statement)


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> CountingComplete:
    counter = CountingComplete()
    # text.py reads the binding's complete_statement (sqlite3's here) when a split starts.
    monkeypatch.setattr(sqlite3, "complete_statement", counter)
    return counter


def naive_chars(text: str, ends: list[int]) -> int:
    """What the naive splitter hands complete_statement for *text* cut at *ends*."""
    total = start = 0
    for i, c in enumerate(text):
        if c == ";":
            total += i + 1 - start
            if i + 1 in ends:
                start = i + 1
    return total


def test_a_long_string_literal_splits_in_linear_work(counted: CountingComplete) -> None:
    # 300 KiB inside one string literal holding 20,000 ';'.
    literal = "abcdefghijklmn;" * 20_000 + "x" * 7_200
    insert = f"INSERT INTO t VALUES ('{literal}');"
    text = f"CREATE TABLE t (x);\n{insert}\nSELECT 1;\n"
    spans = list(statement_spans(text))
    assert [sql for _, _, sql in spans] == ["CREATE TABLE t (x);", insert, "SELECT 1;"]
    assert counted.chars <= 4 * len(text), counted.chars
    # Before the fix every ';' offered the growing chunk: 3,000,937,256 characters for
    # this 307,257-character text (9,767 times its length; 9.8 s for 312 KiB in the issue).
    assert naive_chars(text, [end for _, end, _ in spans]) == 3_000_937_256


def test_a_trigger_of_2000_statements_splits_in_linear_work(counted: CountingComplete) -> None:
    body = "  INSERT INTO log VALUES ('a;b', NEW.x);\n" * 2_000
    trigger = f"CREATE TRIGGER tr AFTER INSERT ON t BEGIN\n{body}END;"
    text = f"{trigger}\nSELECT 1;\n"
    spans = list(statement_spans(text))
    assert [sql for _, _, sql in spans] == [trigger, "SELECT 1;"]
    assert counted.chars <= 4 * len(text), counted.chars
    # Before the fix: 164,306,056 characters for this 82,057-character text (2,002x).
    assert naive_chars(text, [end for _, end, _ in spans]) == 164_306_056


def test_many_statements_each_with_many_semicolons_stay_linear(
    counted: CountingComplete,
) -> None:
    # The fallback is per statement: 500 statements of 40 ';' each.
    statement = "INSERT INTO t VALUES ('" + "a;" * 40 + "');"
    text = "\n".join([statement] * 500)
    assert [s.sql for s in split(text)] == [statement] * 500
    assert counted.chars <= 4 * len(text), counted.chars


# -- directives further down -------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        # in a string literal further down: data
        "CREATE TABLE t (x);\nINSERT INTO t VALUES ('\n-- bootmigrate: no-transaction\n');",
        # an unknown one in a string literal: still data
        "SELECT 1;\nINSERT INTO t VALUES ('\n-- bootmigrate: whatever\n');",
        # in a string in a last statement without ';'
        "SELECT 1;\nINSERT INTO t VALUES ('\n-- bootmigrate: no-transaction\n')",
        # in a string after more ';' than the splitter offers complete_statement
        "SELECT 1;\nINSERT INTO t VALUES ('" + ";" * 9 + "\n-- bootmigrate: no-transaction\n');",
        # in a string inside a trigger body
        "CREATE TRIGGER tr AFTER INSERT ON t BEGIN\n  SELECT 1;\n  INSERT INTO u VALUES ('\n"
        "-- bootmigrate: backward-compatible\n');\nEND;",
        # in a "quoted identifier" spanning lines
        'SELECT 1;\nCREATE TABLE "odd\n-- bootmigrate: no-transaction\n" (x);',
        # in a [bracketed identifier] spanning lines
        "SELECT 1;\nCREATE TABLE [odd\n-- bootmigrate: no-transaction\n] (x);",
    ],
)
def test_a_directive_line_inside_a_literal_is_data(text: str) -> None:
    assert directives(text, "0002_x.up.sql") == frozenset()


@pytest.mark.parametrize(
    ("text", "line"),
    [
        # a real comment between two statements
        ("SELECT 1;\n-- bootmigrate: no-transaction\nSELECT 2;", 2),
        # a real comment after the last statement
        ("SELECT 1;\nSELECT 2;\n\n-- bootmigrate: backward-compatible\n", 4),
        # a real comment after a string that holds the same words
        (
            "INSERT INTO t VALUES ('\n-- bootmigrate: no-transaction\n');\n"
            "-- bootmigrate: no-transaction\n",
            4,
        ),
        # a real comment inside a trigger body
        (
            "CREATE TRIGGER tr AFTER INSERT ON t BEGIN\n  SELECT 1;\n"
            "-- bootmigrate: no-transaction\n  SELECT 2;\nEND;",
            3,
        ),
        # a real comment inside a statement, after its first line
        ("SELECT 1,\n-- bootmigrate: no-transaction\n2;", 2),
        # an unknown directive further down: still misplaced, still reported
        ("SELECT 1;\n  -- bootmigrate: sideways\n", 2),
        # in a block comment between two statements: _in_comment sees whitespace and
        # comments between statements, so it is a comment line further down
        ("SELECT 1;\n/*\n-- bootmigrate: no-transaction\n*/\nSELECT 2;", 3),
        # in a block comment after the last statement
        ("SELECT 1;\n/* notes\n   -- bootmigrate: no-transaction\n*/\n", 3),
    ],
)
def test_a_directive_line_in_a_comment_further_down_is_an_error(text: str, line: int) -> None:
    with pytest.raises(DirectiveError) as info:
        directives(text, "0002_x.up.sql")
    assert info.value.line == line
    assert f"'0002_x.up.sql' line {line}" in str(info.value)
    assert "leading comment lines" in str(info.value)


def test_a_directive_line_in_a_block_comment_inside_a_statement_is_an_error() -> None:
    text = "SELECT 1 /*\n-- bootmigrate: no-transaction\n*/;\nSELECT 2;"
    with pytest.raises(DirectiveError) as info:
        directives(text, "0002_x.up.sql")
    assert info.value.line == 2


# -- whitespace is SQLite's, not Python's ----------------------------------------------

_candidates = [
    " ", "\t", "\n", "\r", "\f", "\ufeff", "\x0b", "\xa0", "\x85", "\x1c", "\u2028",
    "\u3000", "\u200b",
]  # fmt: skip


@pytest.mark.parametrize("char", _candidates)
def test_only_what_sqlite_skips_is_stripped(char: str) -> None:
    # SQLite is the oracle: it runs `<char>SELECT 1` only if <char> is whitespace to it.
    conn = sqlite3.connect(":memory:")
    try:
        conn.execute(f"{char}SELECT 1")
        skipped = True
    except sqlite3.Error:
        skipped = False
    finally:
        conn.close()
    assert skipped == (char in SQLITE_SPACE)
    (statement,) = split(f"{char}SELECT 1;")
    assert statement.sql == ("SELECT 1;" if skipped else f"{char}SELECT 1;")
    assert has_statement(f"{char}\n") == (not skipped)
    assert [s.sql for s in split(f"SELECT 1;{char}SELECT 2;")] == [
        "SELECT 1;",
        "SELECT 2;" if skipped else f"{char}SELECT 2;",
    ]


@pytest.mark.parametrize(
    ("sql", "keyword"),
    [
        # a byte-order mark before the keyword is whitespace to SQLite
        ("\ufeffCOMMIT", "COMMIT"),
        # several, with a comment between them
        ("\ufeff/* x */\ufeff commit;", "COMMIT"),
        # a no-break space is part of an identifier to SQLite: no keyword
        ("\xa0COMMIT", ""),
        # a vertical tab is an illegal token to SQLite: no keyword
        ("\x0bCOMMIT", ""),
        # a zero-width space likewise begins an identifier
        ("\u200bBEGIN", ""),
    ],
)
def test_first_keyword_skips_what_sqlite_skips(sql: str, keyword: str) -> None:
    assert first_keyword(sql) == keyword


def test_a_hidden_commit_is_transaction_control() -> None:
    # Reliability case 1: a BOM before COMMIT, which SQLite runs as COMMIT.
    text = "INSERT INTO a VALUES (1);\n\ufeffCOMMIT;\nINSERT INTO nope VALUES (1);"
    found = find_transaction_control(split(text), text)
    assert found is not None
    assert (found.number, found.line, found.sql) == (2, 2, "COMMIT;")


def test_a_no_break_space_keeps_its_statement() -> None:
    # Python's str.strip() would make this `SELECT 1;`, which is not what SQLite reads.
    assert [s.sql for s in split("\xa0SELECT 1;")] == ["\xa0SELECT 1;"]
    assert [s.sql for s in split("SELECT 0;\n\xa0SELECT 1;")] == ["SELECT 0;", "\xa0SELECT 1;"]
