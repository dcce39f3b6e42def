"""The SQLite a migration needs: the features its statements use, and the oldest SQLite
(and the compile options) that has them. Pure: text in, data out.

:data:`FEATURES` is the one table: each feature, the release that introduced it (from
SQLite's release notes, https://sqlite.org/changes.html) and the compile options it
needs. A feature is found in the statements as SQLite's tokenizer reads them: string
literals, blob literals, quoted identifiers and comments are never read as keywords, so
a column named ``"returning"`` or the text ``'a -> b'`` asks for nothing.

A small token scan is enough, and sqlparse is not needed: every feature here is a
keyword or operator seen at a fixed place (``DO UPDATE`` after ``ON CONFLICT``, ``DROP``
in an ``ALTER TABLE``, a function name before ``(``), so only what SQLite's tokenizer
decides matters (where strings, identifiers and comments begin and end), and the
statements come from the splitter in :mod:`.text`, which asks SQLite where each ends.

Where a reading is unsure, the scan leans towards finding nothing: a feature it misses
fails as SQLite's own error (a :class:`StatementError`, rolled back), while a feature it
found that is not there would refuse a migration that runs. So ``log(`` after ``TABLE``,
``INTO``, ``ON`` (and the like) is a table named log, even in ``JOIN ... ON log(x)``.

Only SQL migrations are read: what a Python migration (``.up.py``) runs is decided when
it runs, so it asks for no floor here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from . import text as _sqltext

Version = tuple[int, int, int]


@dataclass(frozen=True)
class Feature:
    """A SQLite feature a statement can use, and what the running SQLite needs for it."""

    #: How messages name it (``DROP COLUMN``).
    name: str
    #: The release that introduced it; None when any release with the option has it.
    version: Version | None
    #: Compile options (any one of them) the SQLite build needs for it; empty: none.
    options: tuple[str, ...] = ()
    #: The release from which the feature is built in and no option is needed.
    built_in: Version | None = None

    @property
    def source(self) -> str:
        """Where the version comes from."""
        if self.version is None:
            return "https://sqlite.org/compile.html"
        return f"https://sqlite.org/releaselog/{'_'.join(map(str, self.version))}.html"

    def needs(self) -> str:
        """What the running SQLite needs, in words (``SQLite 3.35.0``, ``SQLite 3.35.0
        built with SQLITE_ENABLE_MATH_FUNCTIONS``)."""
        version = f"SQLite {format_version(self.version)}" if self.version else "a SQLite"
        if not self.options:
            return version
        options = " or ".join(f"SQLITE_{option}" for option in self.options)
        built_in = f" (built in from {format_version(self.built_in)})" if self.built_in else ""
        return f"{version} built with {options}{built_in}"

    def runs_on(self, version: Version, options: Iterable[str]) -> bool:
        """True when a SQLite of *version*, built with *options*, has this feature."""
        if self.version is not None and version < self.version:
            return False
        if not self.options or (self.built_in is not None and version >= self.built_in):
            return True
        # PRAGMA compile_options lists them without the SQLITE_ prefix.
        return any(option in self.options for option in options)


_MATH = "ENABLE_MATH_FUNCTIONS"

#: Every feature the scan finds, with the release that introduced it
#: (https://sqlite.org/changes.html) and the compile options it needs.
FEATURES = {
    "upsert": Feature("UPSERT (ON CONFLICT ... DO)", (3, 24, 0)),
    "rename-column": Feature("ALTER TABLE ... RENAME COLUMN", (3, 25, 0)),
    "window": Feature("window functions (OVER)", (3, 25, 0)),
    "nulls-order": Feature("NULLS FIRST / NULLS LAST", (3, 30, 0)),
    "generated": Feature("generated columns (GENERATED ALWAYS AS / AS (...))", (3, 31, 0)),
    "iif": Feature("iif()", (3, 32, 0)),
    "update-from": Feature("UPDATE ... FROM", (3, 33, 0)),
    "drop-column": Feature("ALTER TABLE ... DROP COLUMN", (3, 35, 0)),
    "returning": Feature("RETURNING", (3, 35, 0)),
    "math": Feature("math functions (sqrt(), ln(), ...)", (3, 35, 0), (_MATH,)),
    "strict": Feature("STRICT tables", (3, 37, 0)),
    "arrow": Feature("the -> and ->> operators", (3, 38, 0)),
    "unixepoch": Feature("unixepoch()", (3, 38, 0)),
    "format-function": Feature("format()", (3, 38, 0)),
    "right-join": Feature("RIGHT JOIN / FULL JOIN", (3, 39, 0)),
    "unhex": Feature("unhex()", (3, 41, 0)),
    "octet-length": Feature("octet_length()", (3, 43, 0)),
    "timediff": Feature("timediff()", (3, 43, 0)),
    "concat": Feature("concat() / concat_ws()", (3, 44, 0)),
    "string-agg": Feature("string_agg()", (3, 44, 0)),
    "jsonb": Feature("JSONB functions (jsonb(), jsonb_...)", (3, 45, 0)),
    "json": Feature("JSON functions (json(), json_...)", (3, 9, 0), ("ENABLE_JSON1",), (3, 38, 0)),
    "fts5": Feature("FTS5 virtual tables", (3, 9, 0), ("ENABLE_FTS5",)),
    "fts3": Feature("FTS3/FTS4 virtual tables", None, ("ENABLE_FTS3", "ENABLE_FTS4")),
    "rtree": Feature("R*Tree virtual tables", None, ("ENABLE_RTREE",)),
}

# A function's name (upper case, as the scan spells words) -> its feature key.
_FUNCTIONS = {
    "IIF": "iif",
    "UNIXEPOCH": "unixepoch",
    "FORMAT": "format-function",
    "UNHEX": "unhex",
    "OCTET_LENGTH": "octet-length",
    "TIMEDIFF": "timediff",
    "CONCAT": "concat",
    "CONCAT_WS": "concat",
    "STRING_AGG": "string-agg",
    # https://sqlite.org/lang_mathfunc.html
    **dict.fromkeys(
        (
            *("ACOS", "ACOSH", "ASIN", "ASINH", "ATAN", "ATAN2", "ATANH", "CEIL", "CEILING"),
            *("COS", "COSH", "DEGREES", "EXP", "FLOOR", "LN", "LOG", "LOG10", "LOG2", "MOD"),
            *("PI", "POW", "POWER", "RADIANS", "SIN", "SINH", "SQRT", "TAN", "TANH", "TRUNC"),
        ),
        "math",
    ),
}
# What comes before a table's (or a view's, a CTE's) name: "log(" after one of these
# is a table named log and its columns, not the function log().
_NAMES_A_TABLE = frozenset(
    {"TABLE", "INTO", "ON", "INDEX", "VIEW", "TRIGGER", "REFERENCES", "EXISTS", "WITH"}
    | {"RECURSIVE", "FROM", "JOIN", "UPDATE", "."}
)
_MODULES = {"fts5": "fts5", "fts4": "fts3", "fts3": "fts3", "rtree": "rtree", "rtree_i32": "rtree"}


@dataclass(frozen=True)
class Need:
    """One use of a feature: the feature, and the file, statement and line that use it."""

    feature: Feature
    filename: str
    statement: int
    line: int


_LEADING_DIGITS = re.compile(r"[0-9]*")


def parse_version(text: str) -> Version:
    """``"3.35.5"`` -> ``(3, 35, 5)``: missing parts, and what follows the digits of a
    part (a build's own suffix), count as 0."""
    parts = [*text.strip().split(".")[:3], "0", "0"][:3]
    major, minor, patch = (int(_LEADING_DIGITS.match(part).group() or 0) for part in parts)  # type: ignore[union-attr]
    return major, minor, patch


def format_version(version: Version) -> str:
    """``(3, 35, 0)`` -> ``"3.35.0"``."""
    return ".".join(map(str, version))


# SQLite's tokens (tokenize.c), as far as the scan needs them: comments and whitespace,
# strings and blobs, quoted identifiers (all three quotings), words, numbers, and the
# operators; "->>" before "->" before "-".
_TOKEN = re.compile(
    r"""
    (?P<space>[ \t\n\f\r\ufeff]+|--[^\n]*|/\*.*?(?:\*/|\Z))
    | (?P<literal>[xX]?'(?:[^']|'')*'?|\d[\w.]*(?:[eE][+-]\d+)?|\.\d\w*)
    | (?P<name>"(?:[^"]|"")*"?|`(?:[^`]|``)*`?|\[[^\]]*\]?)
    | (?P<word>[A-Za-z_\x80-\U0010ffff][A-Za-z0-9_$\x80-\U0010ffff]*)
    | (?P<op>->>|->|.)
    """,
    re.VERBOSE | re.DOTALL,
)


def _tokens(sql: str) -> list[tuple[str, str]]:
    """``(kind, text)`` of each token: words upper-cased, comments and spaces left out.
    A word right after a quote (``x'00'`` aside) is still a word, as SQLite reads it."""
    found = []
    for match in _TOKEN.finditer(sql):
        kind = match.lastgroup
        if kind == "space":
            continue
        text = match.group()
        found.append((kind or "op", text.upper() if kind == "word" else text))
    return found


def _at_depth(tokens: list[tuple[str, str]]) -> Iterator[tuple[int, int]]:
    """``(index, parenthesis depth)`` of each token (an opening ``(`` at the outer depth)."""
    depth = 0
    for index, (kind, text) in enumerate(tokens):
        if kind == "op" and text == ")":
            depth -= 1
        yield index, depth
        if kind == "op" and text == "(":
            depth += 1


def features_of(sql: str) -> set[str]:
    """The keys of :data:`FEATURES` that one statement uses."""
    tokens = _tokens(sql)
    words = [text if kind == "word" else "" for kind, text in tokens]
    found: set[str] = set()
    first = words[0] if words else ""
    alter = words[:2] == ["ALTER", "TABLE"]
    create_table = first == "CREATE" and "TABLE" in words[1:4] and "VIRTUAL" not in words[1:3]
    following = [*tokens[1:], ("", "")]
    for (index, depth), (kind, text), (next_kind, next_text) in zip(
        _at_depth(tokens), tokens, following
    ):
        if kind == "op":
            if text in ("->", "->>"):
                found.add("arrow")
            continue
        if kind != "word":
            continue
        previous = tokens[index - 1][1] if index else ""
        if (
            next_kind == "op"
            and next_text == "("
            and (index == 0 or tokens[index - 1][1] not in _NAMES_A_TABLE)
        ):
            function = _FUNCTIONS.get(text)
            if function is not None:
                found.add(function)
            elif text.startswith("JSONB"):
                found.add("jsonb")
            elif text == "JSON" or text.startswith("JSON_"):
                found.add("json")
        if text == "DO" and words[index + 1 : index + 2] in (["NOTHING"], ["UPDATE"]):
            found.add("upsert")
        elif (
            text == "OVER"
            and previous == ")"
            and (next_kind in ("word", "name") or next_text == "(")
        ):
            found.add("window")  # after f(...) or FILTER (...); "x AS over" is a name
        elif text == "NULLS" and words[index + 1 : index + 2] in (["FIRST"], ["LAST"]):
            found.add("nulls-order")
        elif text == "GENERATED" and words[index + 1 : index + 2] == ["ALWAYS"]:
            found.add("generated")
        elif text == "RETURNING" and first in ("INSERT", "REPLACE", "UPDATE", "DELETE", "WITH"):
            found.add("returning")  # a column cannot be named returning unquoted
        elif text in ("RIGHT", "FULL") and "JOIN" in words[index + 1 : index + 3]:
            found.add("right-join")
        elif text == "FROM" and first == "UPDATE" and depth == 0:
            found.add("update-from")
        elif alter and text == "RENAME" and words[index + 1 : index + 2] != ["TO"]:
            found.add("rename-column")
        elif alter and text == "DROP":
            found.add("drop-column")
        elif text == "AS" and next_text == "(" and ((create_table and depth == 1) or alter):
            found.add("generated")  # a column defined as an expression: AS (...)
        elif text == "STRICT" and create_table and depth == 0 and tokens[index - 1][1] in ",)":
            found.add("strict")  # CREATE TABLE t (...) STRICT, a table option
        elif text == "USING" and words[:2] == ["CREATE", "VIRTUAL"]:
            module = tokens[index + 1][1].lower() if index + 1 < len(tokens) else ""
            if module in _MODULES:
                found.add(_MODULES[module])
    return found


def needs(filename: str, text: str) -> list[Need]:
    """Every feature of :data:`FEATURES` the SQL migration *text* uses, in order, each
    with the first statement that uses it."""
    seen: dict[str, Need] = {}
    if "." in filename and filename.rsplit(".", 1)[-1] == "py":
        return []  # a Python migration: what it runs is decided when it runs
    for statement in _sqltext.iter_split(text):
        for key in sorted(features_of(statement.sql)):
            if key not in seen:
                seen[key] = Need(FEATURES[key], filename, statement.number, statement.line)
    return sorted(seen.values(), key=lambda need: (need.statement, need.feature.name))


def floor(needed: Iterable[Need]) -> Need | None:
    """The need with the newest version (the oldest SQLite that runs them all)."""
    versioned = [need for need in needed if need.feature.version is not None]
    if not versioned:
        return None
    return max(versioned, key=lambda need: need.feature.version or (0, 0, 0))


def unmet(needed: Iterable[Need], version: Version, options: Iterable[str]) -> Need | None:
    """The first need a SQLite of *version* built with *options* cannot run, or None."""
    options = frozenset(options)
    for need in needed:
        if not need.feature.runs_on(version, options):
            return need
    return None
