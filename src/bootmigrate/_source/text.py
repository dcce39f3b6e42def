"""SQL text: decoding, normalising, checksums, directives, statement splitting. Pure.

Splitting asks SQLite's own tokenizer, :func:`sqlite3.complete_statement`, where a
statement ends: it knows string literals, quoted identifiers, both comment styles and
``CREATE TRIGGER ... BEGIN ... END``, so a statement ends exactly where SQLite would end
it. Each ``;`` is offered to it with the text since the statement began, which is linear
for ordinary files (measured at 60-75 MB/s; ``sqlparse.split`` manages about 1 MB/s and
mis-splits a trigger on a column named ``begin``, see BENCHMARKS.md). A statement whose
``;`` keep landing inside a string or a trigger body would make that quadratic, so after
a few such ``;`` the rest of that statement is read by :func:`_statement_end`, a
transcription of the same state machine (SQLite's ``complete.c``) that reads each
character once; the statement it finds is confirmed by ``complete_statement`` before it
is used, and a property test holds the two to the same answers.

What counts as whitespace is SQLite's (space, tab, CR, LF, form feed, and a byte-order
mark, which SQLite's tokenizer skips), never Python's wider idea of it: a statement is
never cut where SQLite would read on, and no character SQLite would see is dropped.
The transaction-control scan here only fails fast; the executor refuses transaction
control as SQLite's parser prepares it, whatever the text looks like.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from .. import _binding as binding
from .._errors import DirectiveError, EncodingError

#: Statements that open or close a transaction, or (VACUUM) need one of their own; a
#: transactional migration may not hold them.
TRANSACTION_KEYWORDS = frozenset(
    {"BEGIN", "COMMIT", "END", "ROLLBACK", "SAVEPOINT", "RELEASE", "VACUUM"}
)

#: The directives a migration may declare on its leading comment lines.
DIRECTIVES = frozenset({"no-transaction", "backward-compatible"})

# SQLite's whitespace (tokenize.c: CC_SPACE, and CC_BOM for U+FEFF).
_SPACE = " \t\n\f\r\ufeff"
#: Whitespace and comments before a statement's first token.
# An unterminated /* runs to the end of the text, as SQLite's tokenizer reads it, except
# when "/*" are the text's last two characters: then "/" is an operator (tokenize.c).
LEADING = re.compile(r"(?:[ \t\n\f\r\ufeff]+|--[^\n]*(?:\n|\Z)|/\*(?:.*?\*/|.+\Z))*", re.DOTALL)
_WORD = re.compile(r"[A-Za-z_]+")
# A byte-order mark where a token could start: SQLite's tokenizer skips it as whitespace
# (tokenize.c, CC_BOM), but sqlite3_complete() (complete.c) reads it as part of a word,
# so "\ufeffCREATE TRIGGER" would not open a trigger body there. Inside a word it is part
# of the word for both.
_BOM_AT_TOKEN_START = re.compile("(?<![A-Za-z0-9_$\x80-\U0010ffff])\ufeff+")
# A ';' followed by what could begin a transaction keyword (or a comment that could hide
# one). Spelled without re.IGNORECASE so the search runs at memchr speed between the ';'s.
# Only a prefilter: a match is confirmed statement by statement.
_CONTROL_CANDIDATE = re.compile(
    r";[ \t\n\f\r\ufeff]*(?:--|/\*|[Bb][Ee]|[Cc][Oo]|[Ee][Nn]|[Rr][OoEe]|[Ss][Aa]|[Vv][Aa])"
)
_DIRECTIVE_LINE = re.compile(
    r"^[ \t]*--[ \t]*bootmigrate[ \t]*:(.*)$", re.MULTILINE | re.IGNORECASE
)
# After this many ';' inside one statement (strings, trigger bodies), the rest of it is
# read once by _statement_end instead of offering complete_statement ever longer text.
_RESCANS = 4


@dataclass(frozen=True)
class Statement:
    """One SQL statement of a script: its 1-based number, the line its first token is on."""

    #: Its position in the script, from 1.
    number: int
    #: The line (from 1) its first token is on.
    line: int
    #: Its text as written, from its first token through its ``;`` (if it has one).
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
    return sha256(normalize(text))


def sha256(text: str) -> str:
    """SHA-256 (hex) of *text*, already normalised (:func:`checksum` for any text)."""
    import hashlib  # not on the no-op boot path: OpenSSL's _hashlib costs milliseconds

    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def directives(text: str, filename: str) -> frozenset[str]:
    """The ``-- bootmigrate: ...`` directives of a script.

    Directives belong on the file's leading comment lines, before the first statement.
    An unknown directive, or one further down (where a reader could think it applies to
    part of the file), is a :class:`DirectiveError` rather than something silently
    ignored; the same words inside a string literal further down are data.
    """
    if "--" not in text or "bootmigrate" not in text.lower():
        return frozenset()  # the common case; "--" first, as lower() copies a big file
    header_end = LEADING.match(text).end()  # type: ignore[union-attr]
    found: set[str] = set()
    for match in _DIRECTIVE_LINE.finditer(text):
        context = _context(text, match.start() + match.group(0).index("--"))
        if context == "data":
            continue  # inside a string literal or a quoted identifier
        line = text.count("\n", 0, match.start()) + 1
        if match.start() >= header_end:
            raise DirectiveError(
                filename,
                line,
                "a '-- bootmigrate:' directive must be on the leading comment lines, before "
                "the first statement; move it to the top of the file",
            )
        if context == "block":
            raise DirectiveError(
                filename,
                line,
                "a '-- bootmigrate:' directive inside a /* */ comment is ambiguous; write it "
                "as a '--' comment line of its own, or remove it",
            )
        found |= directive_words(match.group(1), filename, line)
    return frozenset(found)


def directive_words(words: str, filename: str, line: int) -> set[str]:
    """The directives named after ``bootmigrate:`` on one line (SQL's ``--`` or Python's
    ``#`` comment), lower-cased; an unknown one is a :class:`DirectiveError`."""
    found = set()
    for word in words.replace(",", " ").split():
        word = word.lower()
        if word not in DIRECTIVES:
            raise DirectiveError(
                filename,
                line,
                f"unknown directive {word!r}; the directives are " + ", ".join(sorted(DIRECTIVES)),
            )
        found.add(word)
    return found


def _context(text: str, position: int) -> str:
    """What the ``--`` at *position* is part of: ``"line"`` (it starts a comment),
    ``"block"`` (a ``/* */`` comment) or ``"data"`` (a string or quoted identifier)."""
    begin = 0  # a place outside every token: the start, or a statement's edge
    for start, end, _ in statement_spans(text):
        if position < start:
            break
        if position < end:
            begin = start
            break
        begin = end
    for token in _TOKEN.finditer(text, begin):
        if token.end() > position:
            kind = token.lastgroup
            if kind == "line" and token.start() == position:
                return "line"
            if kind in ("line", "block") or token.group().startswith("/*"):
                return "block"
            return "data"
    return "data"


# -- splitting --------------------------------------------------------------------------


def statement_spans(text: str) -> Iterator[tuple[int, int, str]]:
    """``(first, end, sql)`` of each statement: where its first token starts, where it
    ends (after its ``;``), and ``text[first:end]``. Empty statements are skipped; a last
    statement without ``;`` is kept.

    The one splitter: :func:`iter_split` numbers what it yields, and the executor runs it
    (a data migration of 200,000 statements makes no other object per statement).
    """
    # The tokenizer of the SQLite that will run the text (pysqlite3's, SQLCipher's).
    complete = binding.module().complete_statement
    # What complete_statement reads: the text itself, or the same text with the
    # byte-order marks SQLite's tokenizer skips turned into spaces (same offsets).
    probe = text
    if "\ufeff" in text:
        probe = _BOM_AT_TOKEN_START.sub(lambda bom: " " * len(bom.group()), text)
    if "\x00" in probe:
        # complete_statement raises a bare ValueError on a NUL. No file holds one (decode
        # refuses it), but the splitter takes any text: the features scan's, a lint's.
        probe = probe.replace("\x00", " ")
    find = text.find
    leading = LEADING.match
    start = pos = 0
    misses = 0
    while True:
        semi = find(";", pos)
        if semi < 0:
            break
        pos = semi + 1
        chunk = text[start:pos]
        # Not complete: the ';' is inside a string, a comment or a trigger body.
        if not complete(chunk if probe is text else probe[start:pos]):
            misses += 1
            if misses < _RESCANS:
                continue
            end = _statement_end(probe, start)
            if end < 0:
                pos = len(text)
                break
            if not complete(probe[start:end]):  # pragma: no cover - a property test agrees
                misses = -(1 << 62)  # trust complete_statement alone for this statement
                continue
            pos = end
        misses = 0
        if pos - start != len(chunk):  # _statement_end found a later ';'
            chunk = text[start:pos]
        sql = chunk.lstrip(_SPACE)
        if sql.startswith(("--", "/*")):
            first = leading(text, start, pos).end()  # type: ignore[union-attr]
            sql = text[first:pos]
        else:
            first = pos - len(sql)
        if first < pos - 1:  # not an empty statement (";" alone)
            yield first, pos, sql
        start = pos
    first = leading(text, start).end()  # type: ignore[union-attr]
    if first < len(text):
        yield first, len(text), text[first:]


def iter_split(text: str) -> Iterator[Statement]:
    """:func:`split` as a generator: statements are made only as far as they are read."""
    line = 1
    counted = 0  # `line` is the line of text[counted]
    for number, (first, _end, sql) in enumerate(statement_spans(text), start=1):
        line += text.count("\n", counted, first)
        counted = first
        yield Statement(number, line, sql)


def split(text: str) -> list[Statement]:
    """Split a script into statements, dropping empty ones and comment-only tails.

    A last statement without ``;`` is kept. Each statement's line is the line of its
    first token, counted from 1, so errors can point into the file.
    """
    return list(iter_split(text))


def has_statement(text: str) -> bool:
    """True when the script holds at least one statement (it is not only comments)."""
    first = LEADING.match(text).end()  # type: ignore[union-attr]
    if first < len(text) and text[first] != ";":
        return True  # a token that is not ';' begins a statement (or the last, unended one)
    return next(statement_spans(text), None) is not None


def statement_at(text: str, end: int) -> Statement:
    """The last statement that ends at or before offset *end*: the one that failed when
    the executor had run the text up to *end*."""
    done = split(text[:end])
    return done[-1] if done else Statement(1, 1, text[:end].strip(_SPACE))


# complete.c's tokens, for _statement_end. Identifier characters are SQLite's: ASCII
# letters, digits, '_', '$' and every character above U+007F.
_TOKEN = re.compile(
    r"""
    (?P<space>[ \t\n\f\r]+)
    | (?P<line>--[^\n]*)
    | (?P<block>/\*.*?\*/)
    | (?P<quoted>'[^']*'|"[^"]*"|`[^`]*`|\[[^\]]*\])
    | (?P<open>/\*|['"`\[])
    | (?P<semi>;)
    | (?P<word>[A-Za-z0-9_$\x80-\U0010FFFF]+)
    | (?P<other>.)
    """,
    re.VERBOSE | re.DOTALL,
)
_SEMI, _WS, _OTHER, _EXPLAIN, _CREATE, _TEMP, _TRIGGER, _END = range(8)
_KEYWORD_TOKENS = {
    "explain": _EXPLAIN,
    "create": _CREATE,
    "temp": _TEMP,
    "temporary": _TEMP,
    "trigger": _TRIGGER,
    "end": _END,
}
# complete.c's transitions: _TRANSITIONS[state][token]. States: 0 invalid, 1 start,
# 2 normal, 3 explain, 4 create, 5 trigger, 6 semi, 7 end.
_TRANSITIONS = (
    (1, 0, 2, 3, 4, 2, 2, 2),
    (1, 1, 2, 3, 4, 2, 2, 2),
    (1, 2, 2, 2, 2, 2, 2, 2),
    (1, 3, 3, 2, 4, 2, 2, 2),
    (1, 4, 2, 2, 2, 4, 5, 2),
    (6, 5, 5, 5, 5, 5, 5, 5),
    (6, 6, 5, 5, 5, 5, 5, 7),
    (1, 7, 5, 5, 5, 5, 5, 5),
)


def _statement_end(text: str, start: int) -> int:
    """Where the statement that begins at *start* ends (just after its ``;``), or -1.

    The state machine of SQLite's ``sqlite3_complete()`` run once over the text: the
    first ``;`` after which it is back in its start state is the first ``;`` at which
    ``complete_statement(text[start:...])`` is true.
    """
    state = 0
    for token in _TOKEN.finditer(text, start):
        kind = token.lastgroup
        if kind in ("space", "line", "block"):
            continue  # whitespace never changes the state
        if kind == "open":
            return -1  # an unterminated comment, string or identifier: never complete
        if kind == "semi":
            state = _TRANSITIONS[state][_SEMI]
            if state == 1:
                return token.end()
            continue
        word = token.group()
        if kind == "word" and word.isascii():
            state = _TRANSITIONS[state][_KEYWORD_TOKENS.get(word.lower(), _OTHER)]
        else:
            state = _TRANSITIONS[state][_OTHER]
    return -1


# -- transaction control ------------------------------------------------------------


def first_keyword(sql: str) -> str:
    """The statement's first keyword, upper-cased (``""`` if it starts with no word)."""
    match = _WORD.match(sql, LEADING.match(sql).end())  # type: ignore[union-attr]
    return match.group(0).upper() if match else ""


def find_transaction_control(
    statements: Iterator[Statement] | list[Statement], text: str
) -> Statement | None:
    """The first statement that opens or closes a transaction, if any.

    *statements* may be lazy (:func:`iter_split`): it is only read when a cheap scan
    of *text* finds a place where such a statement could start, which a data file of
    ``INSERT`` statements never has. Only a fast first look: the executor refuses
    transaction control as SQLite prepares it.
    """
    first = _WORD.match(text, LEADING.match(text).end())  # type: ignore[union-attr]
    at_start = first is not None and first.group(0).upper() in TRANSACTION_KEYWORDS
    if not at_start and not _CONTROL_CANDIDATE.search(text):
        return None  # no statement can begin with one of the keywords
    for statement in statements:
        if first_keyword(statement.sql) in TRANSACTION_KEYWORDS:
            return statement
    return None


# -- a file that is one explicit transaction ----------------------------------------

_OPENS = re.compile(r"BEGIN(?:\s+(?:DEFERRED|IMMEDIATE|EXCLUSIVE))?(?:\s+TRANSACTION)?\s*;?", re.I)
_CLOSES = re.compile(r"(?:COMMIT|END)(?:\s+TRANSACTION)?\s*;?", re.I)
# The one statement a table rebuild puts around its transaction (SQLite's "making other
# kinds of table schema changes" procedure): it cannot change inside one.
_AROUND = re.compile(
    r"PRAGMA\s+(?:main\s*\.\s*)?foreign_keys\s*(?:=\s*\w+|\(\s*\w+\s*\))?\s*;?", re.I
)


def explicit_transaction(text: str) -> tuple[int, int] | None:
    """Where the body of a script that is one explicit transaction begins and ends.

    Such a script is ``BEGIN``, statements none of which is transaction control, then
    ``COMMIT`` (or ``END``), with nothing else around them but ``PRAGMA foreign_keys``
    (which a transaction would ignore, and which the runner has off while it runs):
    golang-migrate's no-wrap files and SQLite's table-rebuild procedure are written so.
    Returns ``(start, end)`` of the body in *text*, or None for any other script.
    """
    first = _WORD.match(text, LEADING.match(text).end())  # type: ignore[union-attr]
    if first is None or first.group(0).upper() not in ("BEGIN", "PRAGMA"):
        return None  # most scripts: decided without splitting them
    spans = list(statement_spans(text))
    opening = 0
    while opening < len(spans) and _AROUND.fullmatch(spans[opening][2]):
        opening += 1
    if len(spans) - opening < 3:
        return None  # no room for BEGIN, a statement and COMMIT
    closing = len(spans) - 1
    while closing > opening and _AROUND.fullmatch(spans[closing][2]):
        closing -= 1
    body = spans[opening + 1 : closing]
    if (
        not body
        or not _OPENS.fullmatch(spans[opening][2])
        or not _CLOSES.fullmatch(spans[closing][2])
        or any(first_keyword(sql) in TRANSACTION_KEYWORDS for _, _, sql in body)
    ):
        return None
    return body[0][0], body[-1][1]
