"""SQL text as tokens: the tokenizer, SQLite's keywords, :func:`normalize_sql`, :func:`quote_name`.

Pure: text in, text or tokens out. The schema reader (:mod:`.read`) uses the token tools
for what only a definition's SQL says (collations, ``CHECK`` constraints, index
expressions); :mod:`.model` uses :func:`quote_name` to print names.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# SQLite's keywords (https://sqlite.org/lang_keywords.html); they are upper-cased when
# normalising, since SQL keywords and identifiers are both case-insensitive.
# NEW and OLD, the trigger pseudo-tables, are not keywords but are treated alike.
_KEYWORD_LIST = """ABORT ACTION ADD AFTER ALL ALTER ALWAYS ANALYZE AND AS ASC ATTACH
    AUTOINCREMENT BEFORE BEGIN BETWEEN BY CASCADE CASE CAST CHECK COLLATE COLUMN COMMIT
    CONFLICT CONSTRAINT CREATE
    CROSS CURRENT CURRENT_DATE CURRENT_TIME CURRENT_TIMESTAMP DATABASE DEFAULT DEFERRABLE
    DEFERRED DELETE DESC DETACH DISTINCT DO DROP EACH ELSE END ESCAPE EXCEPT EXCLUDE EXCLUSIVE
    EXISTS EXPLAIN FAIL FILTER FIRST FOLLOWING FOR FOREIGN FROM FULL GENERATED GLOB GROUP GROUPS
    HAVING IF IGNORE IMMEDIATE IN INDEX INDEXED INITIALLY INNER INSERT INSTEAD INTERSECT INTO IS
    ISNULL JOIN KEY LAST LEFT LIKE LIMIT MATCH MATERIALIZED NATURAL NEW NO NOT NOTHING NOTNULL NULL
    NULLS OF OFFSET OLD ON OR ORDER OTHERS OUTER OVER PARTITION PLAN PRAGMA PRECEDING PRIMARY QUERY
    RAISE RANGE RECURSIVE REFERENCES REGEXP REINDEX RELEASE RENAME REPLACE RESTRICT RETURNING
    RIGHT ROLLBACK ROW ROWS SAVEPOINT SELECT SET TABLE TEMP TEMPORARY THEN TIES TO TRANSACTION
    TRIGGER UNBOUNDED UNION UNIQUE UPDATE USING VACUUM VALUES VIEW VIRTUAL WHEN WHERE WINDOW
    WITH WITHOUT"""
KEYWORDS = frozenset(_KEYWORD_LIST.split())

_TOKEN = re.compile(
    r"""
    (?P<space>\s+|--[^\n]*|/\*.*?(?:\*/|\Z))
    | (?P<blob>[xX]'[^']*')
    | (?P<string>'(?:[^']|'')*'?)
    | (?P<quoted>"(?:[^"]|"")*"?|`(?:[^`]|``)*`?|\[[^\]]*\]?)
    | (?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|0[xX][0-9A-Fa-f]+)
    | (?P<word>[A-Za-z_\u0080-\uffff][A-Za-z0-9_$\u0080-\uffff]*)
    | (?P<op>\|\||<=|>=|==|!=|<>|<<|>>|->>|->|.)
    """,
    re.VERBOSE | re.DOTALL,
)
_PLAIN_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class Token:
    """One SQL token: comments and whitespace are not tokens, identifiers are unquoted."""

    kind: str  # "word" (keyword or identifier), "name" (identifier), "literal", "op"
    text: str


def tokenize(sql: str) -> list[Token]:
    """SQL as tokens, with comments and whitespace gone and identifiers unquoted."""
    tokens: list[Token] = []
    for match in _TOKEN.finditer(sql):
        kind = match.lastgroup
        text = match.group()
        if kind == "space":
            continue
        if kind in ("quoted", "word"):
            name = _unquote(text) if kind == "quoted" else text
            # A name that spells a keyword is the keyword's case-insensitive twin:
            # "order", ORDER and order all become ORDER.
            upper = name.upper()
            tokens.append(Token("word", upper) if upper in KEYWORDS else Token("name", name))
        elif kind in ("string", "number", "blob"):
            tokens.append(Token("literal", text.upper() if kind == "blob" else text))
        else:
            tokens.append(Token("op", text))
    return tokens


def _unquote(text: str) -> str:
    if text[0] == "[":
        return text[1:].rstrip("]")
    quote = text[0]
    inner = text[1:-1] if len(text) > 1 and text[-1] == quote else text[1:]
    return inner.replace(quote * 2, quote)


def quote_name(name: str) -> str:
    """*name* as SQL: bare when it is a plain identifier, else in double quotes."""
    if _PLAIN_NAME.fullmatch(name) and name.upper() not in KEYWORDS:
        return name
    return '"' + name.replace('"', '""') + '"'


def render(tokens: list[Token]) -> str:
    """Tokens as text, spaced by a fixed rule (so input spacing does not matter)."""
    out: list[str] = []
    previous: Token | None = None
    for token in tokens:
        text = quote_name(token.text) if token.kind == "name" else token.text
        if previous is not None and _spaced(previous, token):
            out.append(" ")
        out.append(text)
        previous = token
    return "".join(out)


def _spaced(previous: Token, token: Token) -> bool:
    if "." in (previous.text, token.text) and "literal" in (previous.kind, token.kind):
        return True  # "1 . 5" must not become the number "1.5"
    if token.kind == "op" and token.text in (")", ",", ";", "."):
        return False
    if previous.kind == "op" and previous.text in ("(", "."):
        return False
    # f(x), t(a): no space after a name; IN (1, 2), AS (...): a space after a keyword.
    return not (token.kind == "op" and token.text == "(" and previous.kind == "name")


def normalize_sql(sql: str) -> str:
    """SQL text with whitespace, comments, identifier quoting, keyword case and a trailing
    ``;`` normalised, so two texts that differ only in those compare equal.

    String literals are kept exactly; identifiers keep their case (except ones spelled
    like a keyword), because a reader of a diff wants to see the names as written.
    """
    tokens = tokenize(sql)
    while tokens and tokens[-1] == Token("op", ";"):
        tokens.pop()
    return render(tokens)


def first_words(sql: str, count: int) -> list[str]:
    """The texts of the first *count* tokens (``["CREATE", "VIRTUAL"]``)."""
    return [t.text for t in tokenize(sql)[:count]]


def split_items(tokens: list[Token], start: int) -> tuple[list[list[Token]], int]:
    """The comma-separated items inside the parentheses opened at *start*, and the index
    of the closing parenthesis."""
    items: list[list[Token]] = [[]]
    depth = 0
    for position in range(start + 1, len(tokens)):
        token = tokens[position]
        if token.kind == "op" and token.text == "(":
            depth += 1
        elif token.kind == "op" and token.text == ")":
            if depth == 0:
                return [item for item in items if item], position
            depth -= 1
        elif depth == 0 and token == Token("op", ","):
            items.append([])
            continue
        items[-1].append(token)
    return [item for item in items if item], len(tokens)


def closing(tokens: list[Token], start: int) -> int:
    """The index of the ``)`` that closes the ``(`` at *start*."""
    depth = 0
    for position in range(start, len(tokens)):
        if tokens[position].kind == "op" and tokens[position].text == "(":
            depth += 1
        elif tokens[position].kind == "op" and tokens[position].text == ")":
            depth -= 1
            if depth == 0:
                return position
    return len(tokens) - 1
