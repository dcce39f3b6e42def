"""SQL text handling: normalising, checksums, directives, statement splitting. Pure.

Splitting uses :func:`sqlite3.complete_statement`, which is SQLite's own tokenizer: it
knows string literals, quoted identifiers, both comment styles and ``CREATE TRIGGER ...
BEGIN ... END``, so a statement ends exactly where SQLite would end it. It is linear in
the file size for ordinary files (each ``;`` is checked once against the statement it
ends) and measured at 60-75 MB/s, where ``sqlparse.split`` manages about 1 MB/s and
mis-splits a trigger on a column named ``begin`` (see BENCHMARKS.md).
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from .._errors import DirectiveError, EncodingError

#: Statements that open or close a transaction; a transactional migration may not hold them.
TRANSACTION_KEYWORDS = frozenset({"BEGIN", "COMMIT", "END", "ROLLBACK", "SAVEPOINT", "RELEASE"})

#: The directives a migration may declare on its leading comment lines.
DIRECTIVES = frozenset({"no-transaction", "backward-compatible"})

#: Whitespace and comments before a statement's first token.
LEADING = re.compile(r"(?:\s+|--[^\n]*(?:\n|\Z)|/\*.*?\*/)*", re.DOTALL)
_WORD = re.compile(r"[A-Za-z_]+")
# A ';' followed by what could begin a transaction keyword (or a comment that could hide
# one). Spelled without re.IGNORECASE so the search runs at memchr speed between the ';'s.
# Only a prefilter: a match is confirmed statement by statement.
_CONTROL_CANDIDATE = re.compile(r";\s*(?:--|/\*|[Bb][Ee]|[Cc][Oo]|[Ee][Nn]|[Rr][OoEe]|[Ss][Aa])")
_DIRECTIVE_LINE = re.compile(
    r"^[ \t]*--[ \t]*bootmigrate[ \t]*:(.*)$", re.MULTILINE | re.IGNORECASE
)


@dataclass(frozen=True)
class Statement:
    """One SQL statement of a script: its 1-based number, the line its first token is on."""

    number: int
    line: int
    sql: str


def decode(data: bytes, filename: str) -> str:
    """Decode a migration file's bytes as UTF-8, normalised (see :func:`normalize`)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise EncodingError(filename, f"byte {exc.start}: {exc.reason}") from exc
    nul = text.find("\x00")
    if nul >= 0:
        # sqlite3.complete_statement() would raise a bare ValueError on it.
        raise EncodingError(filename, f"character {nul} is a NUL, so this is not a text file")
    return normalize(text)


def normalize(text: str) -> str:
    """Strip a UTF-8 byte-order mark and turn CRLF and CR line endings into LF."""
    if text.startswith("\ufeff"):
        text = text[1:]
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text


def checksum(text: str) -> str:
    """SHA-256 (hex) of the normalised text, so Windows and Linux checkouts agree."""
    import hashlib  # not on the no-op boot path: OpenSSL's _hashlib costs milliseconds

    return hashlib.sha256(normalize(text).encode("utf-8")).hexdigest()


def directives(text: str, filename: str) -> frozenset[str]:
    """The ``-- bootmigrate: ...`` directives of a script.

    Directives belong on the file's leading comment lines, before the first statement.
    An unknown directive, or one further down (where a reader could think it applies to
    part of the file), is a :class:`DirectiveError` rather than something silently ignored.
    """
    if "--" not in text or "bootmigrate" not in text.lower():
        return frozenset()  # the common case; "--" first, as lower() copies a big file
    header_end = LEADING.match(text).end()  # type: ignore[union-attr]
    found: set[str] = set()
    for match in _DIRECTIVE_LINE.finditer(text):
        line = text.count("\n", 0, match.start()) + 1
        if match.start() >= header_end:
            raise DirectiveError(
                filename,
                line,
                "a '-- bootmigrate:' directive must be on the leading comment lines, before "
                "the first statement; move it to the top of the file",
            )
        for word in match.group(1).replace(",", " ").split():
            word = word.strip().lower()
            if word not in DIRECTIVES:
                raise DirectiveError(
                    filename,
                    line,
                    f"unknown directive {word!r}; the directives are "
                    + ", ".join(sorted(DIRECTIVES)),
                )
            found.add(word)
    return frozenset(found)


def split(text: str) -> list[Statement]:
    """Split a script into statements, dropping empty ones and comment-only tails.

    A last statement without ``;`` is kept. Each statement's line is the line of its
    first token, counted from 1, so errors can point into the file.
    """
    return list(iter_split(text))


def iter_split(text: str) -> Iterator[Statement]:
    """:func:`split` as a generator: statements are made only as far as they are read."""
    number = 0
    complete = sqlite3.complete_statement
    find = text.find
    leading = LEADING.match
    start = 0
    pos = 0
    line = 1  # the line `start` is on
    while True:
        semi = find(";", pos)
        if semi < 0:
            break
        pos = semi + 1
        if not complete(text[start:pos]):
            continue  # the ';' is inside a string, a comment or a trigger body
        first = leading(text, start, pos).end()  # type: ignore[union-attr]
        if first < semi:  # not an empty statement
            number += 1
            yield Statement(number, line + text.count("\n", start, first), text[first:pos])
        line += text.count("\n", start, pos)
        start = pos
    first = leading(text, start).end()  # type: ignore[union-attr]
    if first < len(text):
        yield Statement(number + 1, line + text.count("\n", start, first), text[first:])


def has_statement(text: str) -> bool:
    """True when the script holds at least one statement (it is not only comments)."""
    return next(iter_split(text), None) is not None


def first_keyword(sql: str) -> str:
    """The statement's first keyword, upper-cased (``""`` if it starts with no word)."""
    match = _WORD.match(sql)
    return match.group(0).upper() if match else ""


def find_transaction_control(statements: Iterable[Statement], text: str) -> Statement | None:
    """The first statement that opens or closes a transaction, if any.

    *statements* may be lazy (:func:`iter_split`): it is only read when a cheap scan
    of *text* finds a place where such a statement could start, which a data file of
    ``INSERT`` statements never has.
    """
    first = _WORD.match(text, LEADING.match(text).end())  # type: ignore[union-attr]
    at_start = first is not None and first.group(0).upper() in TRANSACTION_KEYWORDS
    if not at_start and not _CONTROL_CANDIDATE.search(text):
        return None  # no statement can begin with one of the keywords
    for statement in statements:
        if first_keyword(statement.sql) in TRANSACTION_KEYWORDS:
            return statement
    return None
