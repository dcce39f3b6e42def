"""The pure file-name parser: which names are migrations, which are ignored, which are wrong."""

from __future__ import annotations

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from bootmigrate import InvalidFileName, SourceError
from bootmigrate._source.filenames import (
    MAX_VERSION,
    FileName,
    compose_filename,
    format_version,
    label,
    parse_filename,
)


@pytest.mark.parametrize(
    ("filename", "expected"),
    [
        # the common case
        ("0001_create_notes.up.sql", FileName(1, "create_notes", "up", "0001_create_notes.up.sql")),
        # a down file
        (
            "0001_create_notes.down.sql",
            FileName(1, "create_notes", "down", "0001_create_notes.down.sql"),
        ),
        # a test-kit fixture file
        ("0007_seed.fixture.sql", FileName(7, "seed", "fixture", "0007_seed.fixture.sql")),
        # more than 4 digits is fine (date-style numbering)
        (
            "20240315_add_tags.up.sql",
            FileName(20240315, "add_tags", "up", "20240315_add_tags.up.sql"),
        ),
        # digits and underscores in the name
        ("0042_v2_index_2.up.sql", FileName(42, "v2_index_2", "up", "0042_v2_index_2.up.sql")),
        # leading zeros beyond 4 digits are still version 3
        ("000003_x.up.sql", FileName(3, "x", "up", "000003_x.up.sql")),
        # the largest version PRAGMA user_version can hold, and one more
        ("2147483647_last.up.sql", FileName(2**31 - 1, "last", "up", "2147483647_last.up.sql")),
        ("2147483648_big.up.sql", FileName(2**31, "big", "up", "2147483648_big.up.sql")),
        # a timestamp version, as golang-migrate, sqlx, diesel and dbmate write them
        (
            "20240315120000_add.up.sql",
            FileName(20240315120000, "add", "up", "20240315120000_add.up.sql"),
        ),
        # the largest version: SQLite's INTEGER, the ledger's primary key
        (
            "9223372036854775807_last.up.sql",
            FileName(MAX_VERSION, "last", "up", "9223372036854775807_last.up.sql"),
        ),
    ],
)
def test_valid_names(filename: str, expected: FileName) -> None:
    assert parse_filename(filename) == expected


@pytest.mark.parametrize(
    "filename",
    [
        # documentation beside the migrations
        "README.md",
        # the folder made into a package so it ships as package data
        "__init__.py",
        # macOS Finder metadata
        ".DS_Store",
        # a schema dump that does not start with a version
        "schema.sql",
        # the checksum lock file of the test kit
        "bootmigrate.lock",
        # macOS AppleDouble twin of a real migration on a non-HFS volume
        "._0001_create_notes.up.sql",
        # Emacs lock file
        ".#0001_create_notes.up.sql",
        # editor backup: not a .sql file
        "0001_create_notes.up.sql~",
        # compiled bytecode folder entries and other extensions
        "0001_create_notes.up.sql.bak",
        "notes.txt",
    ],
)
def test_non_migration_files_are_ignored(filename: str) -> None:
    assert parse_filename(filename) is None


@pytest.mark.parametrize(
    ("filename", "reason", "suggestion"),
    [
        # too few digits: padded to 4
        ("12_x.up.sql", "at least 4 digits", "0012_x.up.sql"),
        # a dash instead of the underscore
        ("0003-add.up.sql", "followed by '_', not '-'", "0003_add.up.sql"),
        # upper case name and suffix
        ("0003_Add.UP.sql", "lower case", "0003_add.up.sql"),
        # upper case .SQL extension
        ("0003_add.up.SQL", "lower case", "0003_add.up.sql"),
        # no direction: most likely an up file
        ("0003_add.sql", "must end in .up.sql or .down.sql", "0003_add.up.sql"),
        # an unknown direction
        ("0003_add.sideways.sql", "must end in .up.sql or .down.sql", None),
        # version 0 is "no migration applied"
        ("0000_init.up.sql", "greater than 0", None),
        # version 0 with too few digits: still version 0
        ("0_init.up.sql", "greater than 0", None),
        # spaces and dashes in the name
        (
            "0004_add user-email.up.sql",
            "only lower-case letters, digits and '_'",
            "0004_add_user_email.up.sql",
        ),
        # an upper-case name with a valid suffix
        ("0005_AddTags.down.sql", "only lower-case letters", "0005_addtags.down.sql"),
        # nothing after the version
        ("0006_.up.sql", "name after the version is empty", None),
        # a name that is not numbered at all
        ("add_tags.up.sql", "must start with a version number", None),
        # above SQLite's 64-bit INTEGER
        ("9223372036854775808_big.up.sql", f"at most {MAX_VERSION}", None),
        # thousands of digits: int() would refuse them on Python 3.11+ with ValueError
        ("1" * 5000 + "_huge.up.sql", f"at most {MAX_VERSION}", None),
    ],
)
def test_malformed_names(filename: str, reason: str, suggestion: str | None) -> None:
    with pytest.raises(InvalidFileName) as info:
        parse_filename(filename)
    error = info.value
    assert isinstance(error, SourceError)
    assert error.filename == filename
    assert reason in error.reason
    assert error.suggestion == suggestion
    message = str(error)
    assert repr(filename) in message
    assert "NNNN_name.up.sql" in message  # says what the rule is
    if suggestion is not None:
        assert f"rename it to {suggestion!r}" in message
    else:
        assert "rename it to" not in message


def test_the_suggested_name_is_itself_valid() -> None:
    # A suggestion that is refused in turn would send the user round in circles.
    for bad in ["12_x.up.sql", "0003-add.up.sql", "0003_Add.UP.sql", "0003_add.sql"]:
        with pytest.raises(InvalidFileName) as info:
            parse_filename(bad)
        assert info.value.suggestion is not None
        assert parse_filename(info.value.suggestion) is not None


names = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789_", min_size=1, max_size=30)
kinds = st.sampled_from(["up", "down", "fixture"])


@given(
    version=st.integers(min_value=1, max_value=MAX_VERSION),
    width=st.integers(min_value=4, max_value=12),
    name=names,
    kind=kinds,
)
def test_valid_names_round_trip(version: int, width: int, name: str, kind: str) -> None:
    filename = f"{version:0{width}d}_{name}.{kind}.sql"
    assert parse_filename(filename) == FileName(version, name, kind, filename)  # type: ignore[arg-type]


# Names built from migration-like parts, so most land in the interesting branches.
migrationish = st.builds(
    lambda digits, sep, name, kind, ext: f"{digits}{sep}{name}{kind}{ext}",
    st.text(alphabet="0123456789", max_size=12),
    st.sampled_from(["_", "-", "", ".", " ", "__"]),
    st.text(alphabet="abcXYZ09_- .é", max_size=10),
    st.sampled_from(["", ".up", ".down", ".UP", ".Down", ".fixture", ".x", "."]),
    st.sampled_from([".sql", ".SQL", ".Sql", "", ".sql~", ".txt"]),
)


@given(st.one_of(st.text(max_size=40), migrationish))
@example("1" * 5000 + "_a.up.sql")
@example("²³⁴⁵_a.up.sql")  # str.isdigit() is true for superscripts; int() is not
@example("١٢٣٤_a.up.sql")  # Arabic-Indic digits
@example(".up.sql")
def test_parse_raises_nothing_but_invalid_file_name(filename: str) -> None:
    try:
        result = parse_filename(filename)
    except InvalidFileName as error:
        assert error.filename == filename
        if error.suggestion is not None:
            # Whatever it suggests must parse as a valid migration name.
            assert isinstance(parse_filename(error.suggestion), FileName)
        return
    if result is not None:
        assert result.filename == filename
        assert 1 <= result.version <= MAX_VERSION
        assert f"{result.version:04d}_{result.name}.{result.kind}.sql".lstrip("0") == (
            filename.lstrip("0")
        )


# -- whitespace around a name ------------------------------------------------------


@pytest.mark.parametrize(
    ("filename", "suggestion"),
    [
        # a leading space
        (" 0001_create_notes.up.sql", "0001_create_notes.up.sql"),
        # a trailing space (invisible in a listing)
        ("0001_create_notes.up.sql ", "0001_create_notes.up.sql"),
        # a leading tab
        ("\t0002_add_tags.down.sql", "0002_add_tags.down.sql"),
        # a trailing tab
        ("0002_add_tags.down.sql\t", "0002_add_tags.down.sql"),
        # a trailing newline (a name pasted from a terminal)
        ("0003_seed.fixture.sql\n", "0003_seed.fixture.sql"),
        # spaces on both sides
        ("  0004_x.up.sql  ", "0004_x.up.sql"),
        # a no-break space
        ("\xa00005_x.up.sql", "0005_x.up.sql"),
        # an ideographic space
        ("0006_x.up.sql\u3000", "0006_x.up.sql"),
        # stripped, the name is still wrong (too few digits): no suggestion
        (" 12_x.up.sql", None),
        # stripped, it is no migration name at all, but ends in .sql: no suggestion
        (" notes.sql", None),
        # stripped, the suffix is wrong
        ("0007_x.UP.sql ", None),
    ],
)
def test_whitespace_around_a_name_is_invalid(filename: str, suggestion: str | None) -> None:
    with pytest.raises(InvalidFileName) as info:
        parse_filename(filename)
    error = info.value
    assert error.filename == filename
    assert "begins or ends with whitespace" in error.reason
    assert error.suggestion == suggestion
    if suggestion is not None:
        assert f"rename it to {suggestion!r}" in str(error)


@pytest.mark.parametrize(
    "filename",
    [
        # a README with a leading space
        " README.md",
        # a hidden file with a leading space
        " .DS_Store",
        # a lock file with a trailing space
        "bootmigrate.lock ",
    ],
)
def test_whitespace_around_a_name_that_is_no_migration_is_ignored(filename: str) -> None:
    assert parse_filename(filename) is None


_around = st.sampled_from([" ", "  ", "\t", "\n", "\r", "\xa0", "\u3000", "\x0b", "\x0c", "\x85"])


@given(
    version=st.integers(min_value=1, max_value=MAX_VERSION),
    name=names,
    kind=kinds,
    before=st.one_of(st.just(""), _around),
    after=st.one_of(st.just(""), _around),
)
def test_whitespace_around_a_valid_name_suggests_the_name(
    version: int, name: str, kind: str, before: str, after: str
) -> None:
    filename = compose_filename(version, name, kind)
    padded = before + filename + after
    if padded == filename:
        assert parse_filename(padded) == FileName(version, name, kind, filename)  # type: ignore[arg-type]
        return
    with pytest.raises(InvalidFileName) as info:
        parse_filename(padded)
    assert info.value.suggestion == filename


@pytest.mark.parametrize(
    "filename",
    [
        # version 0, with a trailing space: suggests '0000_init.up.sql'
        "0000_init.up.sql ",
        # above the largest version, with a leading space
        " 9223372036854775808_big.up.sql",
    ],
)
def test_the_suggestion_for_a_padded_name_is_valid(filename: str) -> None:
    with pytest.raises(InvalidFileName) as info:
        parse_filename(filename)
    suggestion = info.value.suggestion
    assert suggestion is None or isinstance(parse_filename(suggestion), FileName)


# -- composing names: the inverse of parsing ---------------------------------------


@given(version=st.integers(min_value=1, max_value=MAX_VERSION), name=names, kind=kinds)
def test_compose_then_parse_round_trips(version: int, name: str, kind: str) -> None:
    filename = compose_filename(version, name, kind)
    assert parse_filename(filename) == FileName(version, name, kind, filename)  # type: ignore[arg-type]
    digits = format_version(version)
    assert len(digits) >= 4
    assert int(digits) == version
    assert filename == f"{label(version, name)}.{kind}.sql"
    assert label(version, name) == f"{digits}_{name}"
    # The lock file's spelling of the version composes the same name.
    assert compose_filename(digits, name, kind) == filename


@given(
    version=st.integers(min_value=1, max_value=MAX_VERSION),
    width=st.integers(min_value=4, max_value=12),
    name=names,
    kind=kinds,
)
def test_compose_keeps_the_digits_it_is_given(
    version: int, width: int, name: str, kind: str
) -> None:
    # A version as digits (how a lock file or a directory spells it) is kept as spelled.
    digits = f"{version:0{width}d}"
    filename = compose_filename(digits, name, kind)
    assert filename == f"{digits}_{name}.{kind}.sql"
    parsed = parse_filename(filename)
    assert parsed is not None
    assert (parsed.version, parsed.name, parsed.kind) == (version, name, kind)


@pytest.mark.parametrize(
    ("version", "expected"),
    [
        # padded to four digits
        (1, "0001"),
        # four already
        (1234, "1234"),
        # more than four: as is
        (20240315, "20240315"),
        # a timestamp
        (20240313170000, "20240313170000"),
        # the largest version
        (MAX_VERSION, "9223372036854775807"),
    ],
)
def test_format_version(version: int, expected: str) -> None:
    assert format_version(version) == expected
    assert label(version, "x") == f"{expected}_x"
