"""The lock-file format: render, parse, the boot's fast reader, differences. Pure, no files.

The property of the architecture issue (item 4): for ANY text, :func:`read_fast`
returns None or exactly the entries :func:`parse` returns, in the same order, and
:func:`parse` accepts that text. The old boot read a lock written one word per line
that the parser refused; these tests hold the two readers to one format.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pytest
from hypothesis import event, example, given, settings
from hypothesis import strategies as st

from bootmigrate import LockFileError, Migration, MigrationSet, Script
from bootmigrate._source.filenames import MAX_VERSION, compose_filename
from bootmigrate._source.lockfile import (
    FastLock,
    LockEntry,
    differences,
    down_changes,
    parse,
    read_fast,
    render,
)
from processes import rounds

Row = tuple[int, str, str, str]

# A few hundred examples per property in `make check`; 20 times that with BOOTMIGRATE_STRESS=1.
EXAMPLES = rounds(300, 6000)


def mig(version: int, name: str, up: str, down: str | None = None) -> Migration:
    up_script = Script.from_text(compose_filename(version, name, "up"), up)
    down_script = (
        None if down is None else Script.from_text(compose_filename(version, name, "down"), down)
    )
    return Migration(version, name, up_script, down_script)


def mset(*migrations: Migration) -> MigrationSet:
    return MigrationSet("test", tuple(migrations))


def expected_rows(migrations: MigrationSet) -> list[Row]:
    rows: list[Row] = []
    for m in migrations:
        rows.append((m.version, m.name, "up", m.up.checksum))
        if m.down is not None:
            rows.append((m.version, m.name, "down", m.down.checksum))
    return rows


def entry_rows(entries: Sequence[LockEntry]) -> list[Row]:
    return [(e.version, e.name, e.kind, e.checksum) for e in entries]


def fast_rows(lock: FastLock) -> list[Row]:
    columns = (lock.versions, lock.names, lock.kinds, lock.checksums)
    assert len({len(column) for column in columns}) == 1, columns
    return [(int(v), n, k, c) for v, n, k, c in zip(*columns)]


def agree(text: str) -> FastLock | None:
    """The property: read_fast(text) is None, or parse(text) succeeds with the same rows.

    Also, when the fast reader reads it, its ledger rows and file names are those of the
    parsed entries (up entries only for the ledger), as the boot uses them.
    """
    fast = read_fast(text)
    if fast is None:
        return None
    entries = parse(text)  # must not raise: the boot would trust a lock the CLI calls broken
    assert fast_rows(fast) == entry_rows(entries)
    assert [(int(v), n, c) for v, n, c in fast.ledger_rows()] == [
        (e.version, e.name, e.checksum) for e in entries if e.kind == "up"
    ]
    assert fast.filenames() == {
        compose_filename(v, e.name, e.kind) for v, e in zip(fast.versions, entries)
    }
    return fast


def counted(fast: FastLock | None) -> None:
    # --hypothesis-show-statistics shows how often the property had something to compare.
    event("the fast reader declined" if fast is None else "the fast reader read it")


# -- generated migration sets -------------------------------------------------------

names = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789_", min_size=1, max_size=20)
sql = st.integers().map(lambda i: f"SELECT {i};")


@st.composite
def migration_sets(draw: st.DrawFn, min_size: int = 0) -> MigrationSet:
    versions = draw(
        st.lists(
            st.one_of(st.integers(1, 30), st.integers(1, MAX_VERSION)),
            unique=True,
            min_size=min_size,
            max_size=8,
        )
    )
    return mset(
        *(mig(v, draw(names), draw(sql), draw(st.one_of(st.none(), sql))) for v in sorted(versions))
    )


@settings(max_examples=EXAMPLES)
@given(migration_sets())
def test_render_then_parse_round_trips(migrations: MigrationSet) -> None:
    text = render(migrations)
    assert entry_rows(parse(text)) == expected_rows(migrations)
    fast = agree(text)
    if len(migrations):
        # What render writes, the fast reader reads: the boot's common case.
        assert fast is not None
        assert fast_rows(fast) == expected_rows(migrations)
        assert fast.ledger_rows() == [
            (f"{m.version:04d}", m.name, m.up.checksum) for m in migrations
        ]
        # The names the boot looks for are the set's files, up and down.
        assert fast.filenames() == {
            s.filename for m in migrations for s in (m.up, m.down) if s is not None
        }


def test_render_writes_the_documented_format() -> None:
    text = render(mset(mig(1, "create_notes", "SELECT 1;", "SELECT 2;"), mig(12, "b", "SELECT 3;")))
    up1, down1, up12 = (
        Script.from_text("x", s).checksum for s in ("SELECT 1;", "SELECT 2;", "SELECT 3;")
    )
    lines = text.splitlines()
    assert all(line.startswith("# ") for line in lines[:2])
    assert lines[2:] == [
        "format 1",
        f"0001 create_notes up {up1}",
        f"0001 create_notes down {down1}",
        f"0012 b up {up12}",
    ]
    assert text.endswith("\n")


# -- the two readers agree on any text ----------------------------------------------

HEX = st.text(alphabet="0123456789abcdef", min_size=64, max_size=64)
_words = st.sampled_from(
    [
        *"0123456789",
        "0001", "0002", "00001", "a", "b", "x_y", "up", "down", "Up", "format", "format 1",
        "format 1\n", "format 01", "#", "# c\n", " ", "  ", "\t", "\n", "\n", "\n", "\r",
        "\r\n", "\x0b", "\x0c", "\x1c", "\x1d", "\x85", "\u2028", "\u2029", "\xa0", "\u3000",
        "\ufeff", "٣", "²", "\uff12",
    ]
)  # fmt: skip
_pieces = st.one_of(_words, _words, HEX, HEX.map(lambda h: f"0001 a up {h}\n"))
# Characters from a small alphabet: collisions with the format are likely.
soup = st.lists(_pieces, max_size=40).map("".join)


def mostly(usual: str, *others: str) -> st.SearchStrategy[str]:
    """*usual* about 49 times in 50, else one of *others*."""
    return st.sampled_from([usual] * (49 * len(others)) + list(others))


# Lines that are nearly entries, joined by nearly line breaks: the fast reader reads some.
_sep = mostly(" ", "  ", "\t", "\xa0", "\u3000", "\x0b", "\x1c", "\n", "")
_entry = st.tuples(
    mostly("0001", "1", "00001", "0", "٣", "000²", "", "#1", "0001 "),
    _sep,
    mostly("a", "", "up", "format", "a\ufeff", "a\x85b", "a\xa0b", "#", "a b"),
    _sep,
    mostly("up", "down", "Up", "", "up down"),
    _sep,
    st.one_of(*[HEX] * 9, HEX.map(lambda h: h[1:]), HEX.map(lambda h: h + "0\t")),
    mostly("\n", "\r\n", "\r", "\x0b", "\x0c", "\x1c", "\x85", "\u2028", " \n", ""),
).map("".join)
_line = st.one_of(*[_entry] * 8, st.sampled_from(["format 1\n", "# c\n", "\n", "#\n", " "]), soup)
structured = st.tuples(
    mostly("format 1\n", "# h\nformat 1\n", "", "\ufeffformat 1\n", "format 1\r\n"),
    st.lists(_line, min_size=1, max_size=5).map("".join),
).map("".join)
random_texts = st.one_of(soup, structured, structured, structured)


@settings(max_examples=EXAMPLES)
@given(random_texts)
# the two examples a reader of one line at a time and a reader of words disagree on
@example("format 1\n0001\na\nup\n" + "0" * 64 + "\n")
@example("format 1\n0001 a up " + "0" * 64 + "\n0002 b up " + "0" * 64)
def test_fast_reader_agrees_with_parse_on_random_text(text: str) -> None:
    counted(agree(text))


@settings(max_examples=EXAMPLES)
@given(migration_sets(min_size=1), st.sampled_from(["\n", "\r\n"]))
def test_fast_reader_reads_every_rendered_lock(migrations: MigrationSet, newline: str) -> None:
    # LF as written, CRLF as a Windows checkout has it: both are read, and read alike.
    text = render(migrations).replace("\n", newline)
    fast = agree(text)
    assert fast is not None
    assert fast_rows(fast) == expected_rows(migrations)


def _nth(text: str, char: str, at: int) -> int:
    """The index of the (at mod count)-th *char* in *text*, or -1 if there is none."""
    places = [i for i, c in enumerate(text) if c == char]
    return places[at % len(places)] if places else -1


def _lines(text: str, at: int, change: Callable[[str], str]) -> str:
    """*change* applied to one line (picked by *at*), its newline kept."""
    lines = text.splitlines(keepends=True)
    i = at % len(lines)
    body = lines[i].rstrip("\r\n")
    lines[i] = change(body) + lines[i][len(body) :]
    return "".join(lines)


def _replace_at(text: str, index: int, new: str, width: int = 1) -> str:
    return text if index < 0 else text[:index] + new + text[index + width :]


def _empty_word(line: str, at: int) -> str:
    words = line.split(" ")
    words[at % len(words)] = ""
    return " ".join(words)


def _versioned(text: str, at: int, change: Callable[[str], str]) -> str:
    """*change* applied to the version of one entry line."""

    def on_line(line: str) -> str:
        version, space, rest = line.partition(" ")
        return change(version) + space + rest if version[:1].isdigit() else line

    return _lines(text, at, on_line)


DAMAGES: dict[str, Callable[[str, int, str], str]] = {
    "delete a char": lambda t, at, c: _replace_at(t, at % len(t), ""),
    "insert a char": lambda t, at, c: _replace_at(t, at % (len(t) + 1), c, 0),
    "duplicate a char": lambda t, at, c: _replace_at(t, at % len(t), t[at % len(t)] * 2),
    "replace a char": lambda t, at, c: _replace_at(t, at % len(t), c),
    "space to newline": lambda t, at, c: _replace_at(t, _nth(t, " ", at), "\n"),
    "space to tab": lambda t, at, c: _replace_at(t, _nth(t, " ", at), "\t"),
    "space to a unicode space": lambda t, at, c: _replace_at(t, _nth(t, " ", at), c),
    "empty a word": lambda t, at, c: _lines(t, at, lambda s: _empty_word(s, at)),
    "split a line": lambda t, at, c: _replace_at(t, at % len(t), "\n", 0),
    "one word per line, one line": lambda t, at, c: _lines(t, at, lambda s: s.replace(" ", "\n")),
    "one word per line, all": lambda t, at, c: t.replace(" ", "\n"),
    "CRLF everywhere": lambda t, at, c: t.replace("\n", "\r\n"),
    "CR everywhere": lambda t, at, c: t.replace("\n", "\r"),
    "one CRLF": lambda t, at, c: _replace_at(t, _nth(t, "\n", at), "\r\n"),
    "one CR": lambda t, at, c: _replace_at(t, _nth(t, "\n", at), "\r"),
    "one newline to a unicode break": lambda t, at, c: _replace_at(t, _nth(t, "\n", at), c),
    "comment line": lambda t, at, c: _replace_at(t, _nth(t, "\n", at), "\n# note\n"),
    "blank line": lambda t, at, c: _replace_at(t, _nth(t, "\n", at), "\n\n"),
    "trailing spaces": lambda t, at, c: _replace_at(t, _nth(t, "\n", at), "  \n"),
    "leading space": lambda t, at, c: _lines(t, at, lambda s: " " + s),
    "BOM at the start": lambda t, at, c: "\ufeff" + t,
    "BOM anywhere": lambda t, at, c: _replace_at(t, at % (len(t) + 1), "\ufeff", 0),
    "doubled format line": lambda t, at, c: t.replace("format 1\n", "format 1\nformat 1\n"),
    "no final newline": lambda t, at, c: t.rstrip("\n"),
    "leading zeros": lambda t, at, c: _versioned(t, at, lambda v: "00" + v),
    "unicode digit": lambda t, at, c: _versioned(t, at, lambda v: v[:-1] + "٣²\uff12"[at % 3]),
    "short version": lambda t, at, c: _versioned(t, at, lambda v: v.lstrip("0") or "0"),
}
_damage_chars = st.sampled_from(
    [" ", "\t", "\n", "\r", "#", "0", "a", "\x0b", "\x0c", "\x1c", "\x85", "\u2028", "\xa0",
     "\u3000", "\ufeff", "٣"]
)  # fmt: skip
damages = st.tuples(st.sampled_from(sorted(DAMAGES)), st.integers(min_value=0), _damage_chars)


@settings(max_examples=EXAMPLES)
@given(migration_sets(min_size=1), st.lists(damages, min_size=1, max_size=3))
def test_fast_reader_agrees_with_parse_on_damaged_locks(
    migrations: MigrationSet, steps: list[tuple[str, int, str]]
) -> None:
    text = render(migrations)
    for kind, at, char in steps:
        text = DAMAGES[kind](text, at, char)
    counted(agree(text))


# The base of the hand-written damages: three migrations, two with down files.
BASE = mset(
    mig(1, "create_notes", "CREATE TABLE notes (id);", "DROP TABLE notes;"),
    mig(2, "add_tags", "CREATE TABLE tags (id);"),
    mig(13, "index_notes", "CREATE INDEX i ON notes (id);", "DROP INDEX i;"),
)
LOCK = render(BASE)
BODY = LOCK[LOCK.index("format 1\n") :]
UP2 = f"0002 add_tags up {BASE.migrations[1].up.checksum}"


def damaged(old: str, new: str, text: str = LOCK) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


SAME = "read alike"  # the fast reader reads it, exactly as parse does
SLOW = "parse only"  # the fast reader declines: the boot reads and checks every file
REFUSED = "refused"  # both refuse it: parse raises LockFileError


@pytest.mark.parametrize(
    ("text", "outcome"),
    [
        # as rendered
        (LOCK, SAME),
        # a Windows checkout: CRLF throughout
        (LOCK.replace("\n", "\r\n"), SAME),
        # CRLF on one line only
        (damaged(UP2 + "\n", UP2 + "\r\n"), SAME),
        # classic Mac line ends: lone CR throughout
        (LOCK.replace("\n", "\r"), SLOW),
        # one lone CR
        (damaged(UP2 + "\n", UP2 + "\r"), SLOW),
        # a CR doubled before the LF
        (damaged(UP2 + "\n", UP2 + "\r\r\n"), SLOW),
        # a UTF-8 byte-order mark before the header (Notepad): both skip it
        ("\ufeff" + LOCK, SAME),
        # a byte-order mark before the format line: both skip it
        ("\ufeff" + BODY, SAME),
        # the case: one word per line, the whole file
        (LOCK.replace(" ", "\n"), REFUSED),
        # one word per line, the entries only
        (LOCK.replace(BODY, BODY.replace(" ", "\n")), REFUSED),
        # one entry written one word per line
        (damaged(UP2, UP2.replace(" ", "\n")), REFUSED),
        # one space replaced by a newline: an entry split in two lines
        (damaged("0002 add_tags up", "0002 add_tags\nup"), REFUSED),
        # a tab between two words
        (damaged("0002 add_tags", "0002\tadd_tags"), SLOW),
        # two spaces between two words
        (damaged("0002 add_tags", "0002  add_tags"), SLOW),
        # a no-break space between two words: Python's split() splits there
        (damaged("0002 add_tags", "0002\xa0add_tags"), SLOW),
        # an ideographic space between two words
        (damaged("0002 add_tags", "0002\u3000add_tags"), SLOW),
        # a vertical tab between two words: a line break to splitlines()
        (damaged("0002 add_tags", "0002\x0badd_tags"), REFUSED),
        # a file separator between two words: a line break to splitlines()
        (damaged("0002 add_tags", "0002\x1cadd_tags"), REFUSED),
        # a vertical tab as the line break between entries
        (damaged(UP2 + "\n", UP2 + "\x0b"), SLOW),
        # a form feed as the line break
        (damaged(UP2 + "\n", UP2 + "\x0c"), SLOW),
        # a file separator as the line break
        (damaged(UP2 + "\n", UP2 + "\x1c"), SLOW),
        # NEL as the line break
        (damaged(UP2 + "\n", UP2 + "\x85"), SLOW),
        # LINE SEPARATOR as the line break
        (damaged(UP2 + "\n", UP2 + "\u2028"), SLOW),
        # a comment line between entries
        (damaged(UP2 + "\n", UP2 + "\n# hand-edited\n"), SLOW),
        # a blank line between entries
        (damaged(UP2 + "\n", UP2 + "\n\n"), SLOW),
        # a blank line at the end
        (LOCK + "\n", SLOW),
        # trailing spaces on an entry
        (damaged(UP2 + "\n", UP2 + "   \n"), SLOW),
        # a trailing no-break space on an entry
        (damaged(UP2 + "\n", UP2 + "\xa0\n"), SLOW),
        # a trailing space on the format line
        (damaged("format 1\n", "format 1 \n"), SLOW),
        # a leading space on an entry
        (damaged(UP2, " " + UP2), SLOW),
        # the last entry without its newline
        (LOCK.rstrip("\n"), SLOW),
        # the format line doubled
        (damaged("format 1\n", "format 1\nformat 1\n"), REFUSED),
        # format 01: the same number to parse
        (damaged("format 1\n", "format 01\n"), SLOW),
        # a format this bootmigrate does not read
        (damaged("format 1\n", "format 2\n"), REFUSED),
        # no format line
        (damaged("format 1\n", ""), REFUSED),
        # an entry before the format line
        (damaged("format 1\n", UP2 + "\nformat 1\n"), REFUSED),
        # an empty file
        ("", REFUSED),
        # comments only
        (LOCK[: LOCK.index("format 1")], REFUSED),
        # the format line and no entry
        ("format 1\n", SLOW),
        # no header comments
        (BODY, SAME),
        # one more comment line in the header
        ("# mine\n" + LOCK, SAME),
        # a version with leading zeros: both read version 2
        (damaged("0002 add_tags", "000002 add_tags"), SAME),
        # a version without its zeros: both read version 2
        (damaged("0002 add_tags", "2 add_tags"), SAME),
        # a version with an Arabic-Indic digit (str.isdigit() is true for it)
        (damaged("0002 add_tags", "000٣ add_tags"), REFUSED),
        # a version with a superscript digit (isdigit() true, int() refuses it)
        (damaged("0002 add_tags", "000² add_tags"), REFUSED),
        # a version with a full-width digit
        (damaged("0002 add_tags", "000\uff12 add_tags"), REFUSED),
        # the kind in upper case
        (damaged("0002 add_tags up", "0002 add_tags UP"), REFUSED),
        # a checksum one character short
        (damaged(UP2, UP2[:-1]), REFUSED),
        # a checksum one character long
        (damaged(UP2, UP2 + "f"), REFUSED),
        # an entry without its checksum
        (damaged(UP2, "0002 add_tags up"), REFUSED),
        # an entry without its name: two spaces where it was
        (damaged("0002 add_tags up", "0002  up"), REFUSED),
        # a character inserted into a name: both read the other name
        (damaged("add_tags", "add_tagsx"), SAME),
        # a byte-order mark inside a name: no whitespace to Python, so both read it
        (damaged("add_tags", "add\ufefftags"), SAME),
        # an ideographic space inside a name: five words to parse
        (damaged("add_tags", "add\u3000tags"), REFUSED),
    ],
)
def test_hand_damaged_locks(text: str, outcome: str) -> None:
    fast = agree(text)
    try:
        entries = parse(text)
    except LockFileError:
        got = REFUSED
    else:
        got = SLOW if fast is None else SAME
        if fast is not None and text.replace("\r\n", "\n") in (LOCK, BODY):
            assert entry_rows(entries) == expected_rows(BASE)
    assert got == outcome


@pytest.mark.parametrize(
    "text",
    [
        # an entry whose version has 5000 digits
        "format 1\n" + "1" * 5000 + " a up " + "0" * 64 + "\n",
        # a format line whose number has 5000 digits
        "format " + "1" * 5000 + "\n",
    ],
)
def test_parse_raises_only_lock_file_errors_on_huge_numbers(text: str) -> None:
    try:
        entries = parse(text)
    except LockFileError:
        assert read_fast(text) is None
    else:
        fast = read_fast(text)
        assert fast is None or fast.versions == [str(e.version) for e in entries]


# -- what the boot takes from the fast reader ---------------------------------------


def test_ledger_rows_are_the_up_entries() -> None:
    fast = read_fast(LOCK)
    assert fast is not None
    assert fast.ledger_rows() == [
        (f"{m.version:04d}", m.name, m.up.checksum) for m in BASE.migrations
    ]
    # Without a down entry, every entry is a ledger row.
    only_up = read_fast(render(mset(mig(3, "c", "SELECT 3;"), mig(4, "d", "SELECT 4;"))))
    assert only_up is not None
    assert [v for v, _, _ in only_up.ledger_rows()] == ["0003", "0004"]


def test_filenames_are_every_locked_file() -> None:
    fast = read_fast(LOCK)
    assert fast is not None
    assert fast.filenames() == {
        "0001_create_notes.up.sql",
        "0001_create_notes.down.sql",
        "0002_add_tags.up.sql",
        "0013_index_notes.up.sql",
        "0013_index_notes.down.sql",
    }


def test_filenames_of_zero_padded_versions_are_the_files() -> None:
    migrations = mset(
        Migration(1, "a", Script.from_text("00001_a.up.sql", "SELECT 1;")),
        Migration(2, "b", Script.from_text("00002_b.up.sql", "SELECT 2;")),
    )
    fast = read_fast(render(migrations))
    assert fast is not None
    assert fast.filenames() == {"00001_a.up.sql", "00002_b.up.sql"}


# -- differences: what changed since the lock was written ---------------------------

ENTRIES = parse(LOCK)


def test_no_differences_when_nothing_changed() -> None:
    assert differences(ENTRIES, BASE) == []


def _with(*migrations: Migration) -> MigrationSet:
    """BASE with some migrations replaced (same version) or added."""
    by_version = {m.version: m for m in BASE}
    by_version.update({m.version: m for m in migrations})
    return mset(*(by_version[v] for v in sorted(by_version)))


def _without(version: int) -> MigrationSet:
    return mset(*(m for m in BASE if m.version != version))


NOTES_DOWN = "DROP TABLE notes;"


@pytest.mark.parametrize(
    ("migrations", "expected"),
    [
        # an up file edited after it was locked
        (
            _with(mig(1, "create_notes", "CREATE TABLE notes (id, body);", NOTES_DOWN)),
            [["'0001_create_notes.up.sql' changed after it was locked"]],
        ),
        # a down file edited after it was locked: not a difference (see down_changes)
        (
            _with(
                mig(1, "create_notes", "CREATE TABLE notes (id);", "DROP TABLE IF EXISTS notes;")
            ),
            [],
        ),
        # a migration renamed: same version, same content, another name
        (
            _with(mig(2, "add_labels", "CREATE TABLE tags (id);")),
            [["version 2 was locked as 'add_tags' and is now 'add_labels'", "renamed"]],
        ),
        # a released number reused: the old migration removed, a new one in its place
        (
            _with(mig(2, "add_colors", "CREATE TABLE colors (id);")),
            [
                [
                    "version 2 was locked as 'add_tags' and is now 'add_colors'",
                    "reused",
                    "give the new migration the next free number",
                ]
            ],
        ),
        # a migration removed: its up and its down entry are both gone
        (
            _without(13),
            [
                ["version 13 (index_notes) is locked but its up file is gone", "restore it"],
                ["version 13 (index_notes) is locked but its down file is gone"],
            ],
        ),
        # only the down file of a locked migration removed
        (
            _with(mig(13, "index_notes", "CREATE INDEX i ON notes (id);")),
            [["version 13 (index_notes): the locked down file is gone"]],
        ),
        # a newer migration that is not locked yet: not a difference
        (_with(mig(14, "add_more", "CREATE TABLE more (x);")), []),
        # a newer migration with its down file: not a difference either
        (_with(mig(99, "later", "SELECT 1;", "SELECT 2;")), []),
    ],
)
def test_differences(migrations: MigrationSet, expected: list[list[str]]) -> None:
    found = differences(ENTRIES, migrations)
    assert len(found) == len(expected), found
    for sentence, fragments in zip(found, expected):
        for fragment in fragments:
            assert fragment in sentence


def test_down_changes_list_edited_and_added_down_files_of_locked_migrations() -> None:
    assert down_changes(ENTRIES, BASE) == []
    fixed = _with(
        mig(1, "create_notes", "CREATE TABLE notes (id);", "DROP TABLE IF EXISTS notes;"),
        mig(2, "add_tags", "CREATE TABLE tags (id);", "DROP TABLE tags;"),
        mig(99, "later", "SELECT 1;", "SELECT 2;"),  # not locked: nothing to say
    )
    assert down_changes(ENTRIES, fixed) == [
        "0001_create_notes.down.sql: down file changed, checksum updated",
        "0002_add_tags.down.sql: down file added, checksum recorded",
    ]
    assert differences(ENTRIES, fixed) == []
    # An up file edited as well: a difference, whatever its down file did.
    both = _with(mig(1, "create_notes", "CREATE TABLE notes (id, x);", "DROP TABLE notes;;"))
    assert len(differences(ENTRIES, both)) == 1
    assert down_changes(ENTRIES, both) == [
        "0001_create_notes.down.sql: down file changed, checksum updated"
    ]


def test_differences_name_both_checksums() -> None:
    edited = _with(mig(2, "add_tags", "CREATE TABLE tags (id, name);"))
    (sentence,) = differences(ENTRIES, edited)
    old = BASE.migrations[1].up.checksum
    new = edited.migrations[1].up.checksum
    assert f"sha256 {old[:12]} -> {new[:12]}" in sentence
    assert "put the change in a new migration" in sentence


def test_differences_are_in_lock_order() -> None:
    changed = _with(
        mig(1, "create_notes", "CREATE TABLE notes (id, x);", NOTES_DOWN),
        mig(13, "renamed", "CREATE INDEX i ON notes (id);"),
    )
    found = differences(ENTRIES, changed)
    # up 1 changed; version 13's up and down entries each name the rename
    assert len(found) == 3
    assert "0001_create_notes.up.sql" in found[0]
    assert all("version 13 was locked as 'index_notes'" in s for s in found[1:])


def test_an_unlocked_migration_below_a_locked_one_is_a_difference() -> None:
    # Lock 1, 2, 13; then 0005 is added: it is not newer than every locked migration, so
    # it is not merely "not locked yet" (the docstring's words) but a change of history.
    found = differences(ENTRIES, _with(mig(5, "sneaked_in", "CREATE TABLE s (x);")))
    assert len(found) == 1
    assert "5" in found[0]
