"""Each tool's migration files as bootmigrate's files. Pure: names and bytes in, text out.

:func:`convert` reads a tool's folder (``{path relative to it: bytes}``) the way that tool
reads it and returns the bootmigrate files it becomes: each version kept as the number
the tool records, each name made valid (``[a-z0-9_]``), up and down split into their own
files, and ``-- bootmigrate: no-transaction`` put on exactly the files the tool ran
outside a transaction. No SQL text is changed: a file loses only the tool's own
annotation lines (goose's ``-- +goose ...``, dbmate's ``-- migrate:...``), and gains only
the directive line (with a byte-order mark before it removed). A down file that holds
only comments (the placeholder such tools generate) is left out, which makes its
migration irreversible, and the conversion says so.

What cannot be kept faithfully is refused with a :class:`SourceError` naming the file:
Go or Rust code migrations, a goose ``StatementBegin`` block that is not one statement as
SQLite reads it, ``ENVSUB`` substitution, an up migration with no statement, transaction
control in a file the tool runs inside a transaction, versions bootmigrate cannot hold,
and an order of files that differs from the order of their versions.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from .. import _binding as binding
from .._errors import EncodingError, SourceError
from .._source.filenames import MAX_VERSION, compose_filename, format_version, label
from .._source.text import (
    find_transaction_control,
    first_keyword,
    has_statement,
    iter_split,
    split,
)

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised by the 3.9/3.10 runs of the matrix
    import tomli as tomllib

#: The line :func:`convert` puts first in a file the tool ran outside a transaction.
NO_TRANSACTION = "-- bootmigrate: no-transaction"

#: How each tool names a migration, for messages.
PATTERNS = {
    "golang-migrate": "{version}_{title}.up.sql / .down.sql",
    "goose": "{version}_{name}.sql",
    "dbmate": "{version}_{name}.sql",
    "sqlx": "{version}_{description}.sql, or .up.sql / .down.sql",
    "diesel": "{version}_{name}/up.sql",
}

# How a file is marked to run outside a transaction in each tool, for advice.
_MARKERS = {
    "golang-migrate": "write its BEGIN and COMMIT in it and run golang-migrate with "
    "x-no-tx-wrap=true",
    "goose": "add '-- +goose NO TRANSACTION'",
    "dbmate": "add transaction:false to its '-- migrate:up' or '-- migrate:down' line",
    "sqlx": "make '-- no-transaction' its first line",
    "diesel": "put run_in_transaction = false in its metadata.toml",
}

_VALID_NAME = re.compile(r"[a-z0-9_]+")


@dataclass(frozen=True)
class OutputFile:
    """A bootmigrate migration file the conversion writes, and where it came from."""

    #: ``20240313170000_add_tags.up.sql``
    filename: str
    #: Its text: the original SQL, with the directive line when one was added.
    text: str
    #: The file (or goose and dbmate: the section of a file) it holds, relative to the folder.
    origin: str
    #: What changed on the way, one phrase each (empty: a copy).
    changes: tuple[str, ...]

    def describe(self) -> str:
        """``NEW <- ORIGIN: change; change`` (or ``copied unchanged``)."""
        return f"{self.filename} <- {self.origin}: " + ("; ".join(self.changes) or "unchanged")


@dataclass(frozen=True)
class Conversion:
    """What :func:`convert` made of a tool's folder."""

    #: The files to write, up then down of each version, in version order.
    files: tuple[OutputFile, ...]
    #: One line per file written (:meth:`OutputFile.describe`) and per down file left
    #: out (only comments), in version order; then one per file the tool would ignore.
    lines: tuple[str, ...]
    #: Every version, ascending.
    versions: tuple[int, ...]
    #: The versions that have no down file.
    irreversible: tuple[int, ...]


@dataclass(frozen=True)
class _Part:
    """One direction of a migration as the tool runs it."""

    where: str  # "1_init.up.sql", or "the -- +goose Up section of 1_init.sql"
    path: str  # the file it is in, for messages with a line number
    text: str  # its SQL, as bootmigrate will run it
    first_line: int  # the line of `path` on which `text` begins
    #: Why the tool runs it outside a transaction; None: inside one.
    outside: str | None = None
    #: What was left out of the text on the way (annotation lines).
    changes: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Found:
    """One migration of the tool's folder."""

    version: int
    digits: str  # the version as the tool's file spells it
    name: str  # the name as the tool's file spells it
    up: _Part
    down: _Part | None
    #: How the version is spelled in the new name, when not as the tool spells it.
    spelled: str | None = None


def convert(tool: str, files: Mapping[str, bytes]) -> Conversion:
    """Convert the *files* of a *tool*'s migrations folder (``{path: bytes}``, paths
    relative to the folder, ``/``-separated; diesel's are ``folder/up.sql``).

    Raises :class:`SourceError` (naming the file) for what cannot be converted
    faithfully, :class:`EncodingError` for a file that is not UTF-8 text.
    """
    readers: dict[str, Callable[[Mapping[str, bytes]], tuple[list[_Found], list[str]]]] = {
        "golang-migrate": _golang_migrate,
        "goose": _goose,
        "dbmate": _dbmate,
        "sqlx": _sqlx,
        "diesel": _diesel,
    }
    found, notes = readers[tool](files)
    return _assemble(tool, found, notes)


# -- what every tool shares ------------------------------------------------------------


# What to do about a file the tool itself refuses or would fail on.
_FIX = "fix the file, then import again"
# What to do about a version bootmigrate cannot keep as the tool records it.
_RENUMBER = (
    "renumber it in the tool's folder if no database has recorded it yet, then import "
    "again; otherwise this set cannot move to bootmigrate as it is"
)


def _refuse(where: str, problem: str, advice: str = _FIX) -> SourceError:
    return SourceError(f"{where}: {problem}", advice)


def _decode(path: str, data: bytes) -> str:
    """The file's text, exactly (a byte-order mark and CR LF kept: the tools see them)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise EncodingError(path, f"byte {exc.start}: {exc.reason}") from exc
    if "\x00" in text:
        raise EncodingError(path, f"character {text.index(chr(0))} is a NUL")
    return text


def _version(digits: str, where: str) -> int:
    """The version *digits* spell; refused when bootmigrate cannot keep it as it is."""
    number = digits.lstrip("0")
    if len(number) > len(str(MAX_VERSION)) or int(number or "0") > MAX_VERSION:
        raise _refuse(
            where,
            f"its version {digits} is above {MAX_VERSION}, the largest bootmigrate keeps "
            "(a signed 64-bit integer, as SQLite's INTEGER)",
            _RENUMBER,
        )
    if not number:
        raise _refuse(
            where,
            "its version is 0, and bootmigrate's versions start at 1",
            _RENUMBER,
        )
    return int(number)


def valid_name(raw: str) -> str:
    """*raw* as a bootmigrate name (``[a-z0-9_]+``): kept when it is one already;
    otherwise accents dropped, ``camelCase`` split, lower-cased, every other run of
    characters made one ``_``; ``migration`` when nothing is left."""
    if _VALID_NAME.fullmatch(raw):
        return raw
    import unicodedata

    text = unicodedata.normalize("NFKD", raw).encode("ascii", "ignore").decode("ascii")
    text = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", text)
    text = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", text)
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_") or "migration"


def _lines(text: str) -> list[str]:
    """The lines of *text*, split on LF only (as Go's line scanner does); a CR before the
    LF stays with its line, so joining them with LF gives the text back."""
    return text.split("\n")


def _bare(line: str) -> str:
    """A line without the CR of a CR LF ending (Go's bufio.ScanLines drops it)."""
    return line[:-1] if line.endswith("\r") else line


def _section(numbered: Sequence[tuple[int, str]], default_line: int) -> tuple[str, int]:
    """Lines ``(number, text)`` joined, without blank lines at either end: (text, the
    number of its first line)."""
    kept = list(numbered)
    while kept and not kept[0][1].strip():
        kept.pop(0)
    while kept and not kept[-1][1].strip():
        kept.pop()
    if not kept:
        return "", default_line
    return "\n".join(line for _, line in kept) + "\n", kept[0][0]


def _order(tool: str, found: Sequence[_Found], key: Callable[[_Found], str], how: str) -> None:
    """Refuse a set the tool runs in another order than the versions' (bootmigrate runs
    them by version number): a database would get them in a different order."""
    by_tool = sorted(found, key=key)
    by_number = sorted(found, key=lambda f: f.version)
    for ours, theirs in zip(by_number, by_tool):
        if ours is not theirs:
            raise _refuse(
                theirs.up.where,
                f"{tool} runs the migrations in {how}, which puts it before "
                f"{ours.up.where}, and bootmigrate runs them by version number, which "
                "puts it after: a database would get them in another order",
                "give the versions the same number of digits before any database records "
                "them, or import a copy of the folder renamed so",
            )


def _assemble(tool: str, found: list[_Found], notes: list[str]) -> Conversion:
    seen: dict[int, _Found] = {}
    for item in found:
        other = seen.get(item.version)
        if other is not None:
            first, second = sorted((other.up.where, item.up.where))
            raise _refuse(
                second,
                f"it has version {item.version}, as {first} does; bootmigrate needs one "
                "migration per version",
                "remove or renumber one of them before any database records it",
            )
        seen[item.version] = item
    outputs: list[OutputFile] = []
    lines: list[str] = []
    irreversible: list[int] = []
    for version in sorted(seen):
        item = seen[version]
        name = valid_name(item.name)
        common: list[str] = []
        if item.spelled is not None:
            common.append(item.spelled)
        elif item.digits != format_version(version):
            common.append(f"version {item.digits} spelled {format_version(version)}")
        if name != item.name:
            common.append(f"name {item.name!r} made {name!r}")
        outputs.append(_output(tool, item.up, compose_filename(version, name, "up"), common))
        lines.append(outputs[-1].describe())
        down = item.down
        if down is None:
            irreversible.append(version)
        elif not has_statement(down.text):
            irreversible.append(version)
            lines.append(
                f"{down.where}: holds no statement, only comments: no down file written, "
                f"so {label(version, name)} is irreversible"
            )
        else:
            outputs.append(_output(tool, down, compose_filename(version, name, "down"), common))
            lines.append(outputs[-1].describe())
    return Conversion(tuple(outputs), (*lines, *notes), tuple(sorted(seen)), tuple(irreversible))


def _output(tool: str, part: _Part, filename: str, common: Iterable[str]) -> OutputFile:
    changes = [*common, *part.changes]
    text = part.text
    up = filename.endswith(".up.sql")
    if up and not has_statement(text):
        raise _refuse(
            part.where,
            "the up migration holds no statement, and bootmigrate needs at least one (an "
            "empty migration would still be recorded as applied)",
            "write 'SELECT 1;' in it, which changes nothing in any database, and import again",
        )
    if part.outside is None:
        control = find_transaction_control(iter_split(text), text)
        if control is not None:
            keyword = first_keyword(control.sql)
            raise _refuse(
                f"{part.path} line {part.first_line + control.line - 1}",
                f"{keyword} in a migration {tool} runs inside a transaction; bootmigrate runs "
                "it inside its own transaction too, where transaction control is refused",
                f"if the file manages its own transaction, {_MARKERS[tool]} and import "
                "again; otherwise remove the statement",
            )
    else:
        newline = "\r\n" if "\r\n" in text else "\n"
        if text.startswith("\ufeff"):
            text = text[1:]
            changes.append("byte-order mark removed")
        text = NO_TRANSACTION + newline + text
        changes.append(f"'{NO_TRANSACTION}' added: {part.outside}")
    return OutputFile(filename, text, part.where, tuple(changes))


def _top_level(files: Mapping[str, bytes], notes: list[str], tool: str) -> dict[str, bytes]:
    """The files directly in the folder; files in subfolders are noted as ignored."""
    top = {}
    for path in sorted(files):
        if "/" in path:
            notes.append(f"{path}: ignored ({tool} reads only the files of the folder itself)")
        else:
            top[path] = files[path]
    return top


def _ignored(path: str, tool: str, notes: list[str]) -> None:
    notes.append(f"{path}: ignored (not a {tool} migration: {PATTERNS[tool]})")


def _pair(
    ups: dict[int, tuple[str, str, _Part]], downs: dict[int, tuple[str, str, _Part]]
) -> list[_Found]:
    """Up and down files of one version, by version: ``{version: (digits, name, part)}``."""
    for version, (_, _, part) in sorted(downs.items()):
        if version not in ups:
            raise _refuse(
                part.where,
                f"a down migration without an up migration of version {version}",
                "add the up file or remove this one",
            )
    found = []
    for version, (digits, name, up) in sorted(ups.items()):
        down = downs.get(version)
        down_part = None
        if down is not None:
            down_part = down[2]
            if down[1] != name:
                down_part = _Part(
                    down_part.where,
                    down_part.path,
                    down_part.text,
                    down_part.first_line,
                    down_part.outside,
                    (*down_part.changes, f"named after its up file (it was {down[1]!r})"),
                )
        found.append(_Found(version, digits, name, up, down_part))
    return found


def _put(
    into: dict[int, tuple[str, str, _Part]], version: int, entry: tuple[str, str, _Part]
) -> None:
    other = into.get(version)
    if other is not None:
        first, second = sorted((other[2].where, entry[2].where))
        raise _refuse(
            second,
            f"it has version {version} and the same direction as {first}; bootmigrate "
            "needs one file per version and direction",
            "remove or renumber one of them before any database records it",
        )
    into[version] = entry


# -- golang-migrate ------------------------------------------------------------------------

# golang-migrate source/parse.go: Regex = ^([0-9]+)_(.*)\.(down|up)\.(.*)$ over every file of
# the folder, whatever its extension (the version is a uint64, the rest the identifier).
_GOLANG_MIGRATE = re.compile(r"([0-9]+)_(.*)\.(down|up)\.(.*)")


def _golang_migrate(files: Mapping[str, bytes]) -> tuple[list[_Found], list[str]]:
    notes: list[str] = []
    ups: dict[int, tuple[str, str, _Part]] = {}
    downs: dict[int, tuple[str, str, _Part]] = {}
    for path, data in _top_level(files, notes, "golang-migrate").items():
        match = _GOLANG_MIGRATE.fullmatch(path)
        if match is None:
            _ignored(path, "golang-migrate", notes)
            continue
        digits, title, direction, extension = match.groups()
        if extension != "sql":
            raise _refuse(
                path,
                f"golang-migrate reads it as the {direction} migration of version {digits} "
                "(it reads every file named so, whatever the extension), and bootmigrate "
                "imports SQL files, named .sql",
                "rename it to .sql if it holds SQL, or move it out of the folder",
            )
        version = _version(digits, path)
        text = _decode(path, data)
        # database/sqlite3/sqlite3.go: Run() executes the whole file in a transaction it
        # opens (executeQuery), unless the URL says x-no-tx-wrap=true (executeQueryNoTx);
        # its README: with x-no-tx-wrap "migrations may, and should, contain explicit
        # BEGIN and COMMIT statements". Inside the wrapping transaction BEGIN, COMMIT,
        # ROLLBACK and VACUUM fail, so a file that writes transaction control ran only
        # without it. The option is the URL's, not the file's: a set run with it also ran
        # its other files statement by statement; they are imported as transactional,
        # which differs only in that a failure no longer leaves half a file applied.
        control = find_transaction_control(iter_split(text), text)
        outside = None
        if control is not None:
            keyword = first_keyword(control.sql)
            outside = (
                f"line {control.line} is {keyword}: golang-migrate's sqlite3 driver runs "
                "each file in a transaction of its own unless x-no-tx-wrap=true, so a file "
                "that manages its own ran without one"
            )
        part = _Part(path, path, text, 1, outside)
        _put(ups if direction == "up" else downs, version, (digits, title, part))
    return _pair(ups, downs), notes


# -- goose -----------------------------------------------------------------------------------

# pressly/goose internal/sqlparser/parser.go, extractAnnotation: the annotations, compared
# case-insensitively (strings.EqualFold) once every "--" and the first "+goose" are removed
# from the line and it is trimmed.
_GOOSE_ANNOTATIONS = frozenset(
    {
        "up",
        "down",
        "statementbegin",
        "statementend",
        "no transaction",
        "envsub on",
        "envsub off",
    }
)
# goose's migrate.go NumericComponent: "{version}_..." with a .sql or .go extension; the
# version an int64 greater than zero. Go migrations are registered from Go code.
_GOOSE_SQL = re.compile(r"([0-9]+)_(.*)\.sql")
_GOOSE_GO = re.compile(r"[0-9]+_.*\.go")


def _goose(files: Mapping[str, bytes]) -> tuple[list[_Found], list[str]]:
    notes: list[str] = []
    found = []
    for path, data in _top_level(files, notes, "goose").items():
        if _GOOSE_GO.fullmatch(path) and not path.endswith("_test.go"):
            raise _refuse(
                path,
                "a goose Go migration: its steps are Go code, which bootmigrate cannot run",
                "write what it does as SQL in a goose .sql migration of the same version "
                "(goose records the same version either way), then import again",
            )
        match = _GOOSE_SQL.fullmatch(path)
        if match is None:
            _ignored(path, "goose", notes)
            continue
        digits, name = match.groups()
        version = _version(digits, path)
        up, down = _goose_sections(path, _decode(path, data))
        found.append(_Found(version, digits, name, up, down))
    return found, notes


def _goose_annotation(path: str, number: int, line: str) -> str:
    # extractAnnotation: leading whitespace and a second "+goose" are errors in goose.
    if line.startswith((" ", "\t")):
        raise _refuse(
            f"{path} line {number}",
            "a '-- +goose' annotation with whitespace before it, which goose refuses",
        )
    command = line.replace("--", "").replace("+goose", "", 1)
    if "+goose" in command:
        raise _refuse(f"{path} line {number}", "two '+goose' annotations on one line")
    command = command.strip().lower()
    if command not in _GOOSE_ANNOTATIONS:
        raise _refuse(
            f"{path} line {number}",
            f"'{line.strip()}' is not a goose annotation, and goose refuses the file",
        )
    return command


def _goose_sections(path: str, text: str) -> tuple[_Part, _Part | None]:
    """The up and down sections of a goose file, as ParseSQLMigration reads them."""
    state = "start"  # then "up", then "down"
    header: list[tuple[int, str]] = []  # blank and comment lines before "-- +goose Up"
    sections: dict[str, list[tuple[int, str]]] = {"up": [], "down": []}
    left_out: dict[str, list[str]] = {"up": [], "down": []}
    outside = None
    statement: list[str] | None = None  # the lines of an open StatementBegin block
    begun = 0
    whole: list[tuple[str, int, str, int]] = []  # (section, line, text, lines after it)
    for number, raw in enumerate(_lines(text), start=1):
        line = _bare(raw)
        if state == "start" and not line.strip():
            header.append((number, raw))
            continue
        if line.strip().startswith("--") and "+goose" in line:
            annotation = _goose_annotation(path, number, line)
            where = f"{path} line {number}"
            if annotation == "up":
                if state != "start":
                    raise _refuse(where, "a second '-- +goose Up', which goose refuses")
                state = "up"
            elif annotation == "down":
                if state != "up" or statement is not None:
                    raise _refuse(
                        where,
                        "'-- +goose Down' must follow '-- +goose Up' outside a "
                        "StatementBegin block; goose refuses the file",
                    )
                state = "down"
            elif annotation == "statementbegin":
                if state == "start" or statement is not None:
                    raise _refuse(
                        where,
                        "'-- +goose StatementBegin' must follow '-- +goose Up' or Down, "
                        "outside another block; goose refuses the file",
                    )
                statement, begun = [], number
                left_out[state].append("StatementBegin")
            elif annotation == "statementend":
                if statement is None:
                    raise _refuse(where, "'-- +goose StatementEnd' without StatementBegin")
                whole.append((state, begun, "\n".join(statement), len(sections[state])))
                statement = None
                left_out[state].append("StatementEnd")
            elif annotation == "no transaction":
                # ParseSQLMigration: useTx = false, for both directions of the file.
                outside = (
                    f"'-- +goose NO TRANSACTION' (line {number}): goose runs both of "
                    "the file's sections outside a transaction"
                )
            elif annotation == "envsub on":
                raise _refuse(
                    where,
                    "'-- +goose ENVSUB ON' makes goose put environment variables into the "
                    "SQL as it runs it, so the SQL is not known until then",
                    "write the values into the SQL (or keep this migration in goose), then "
                    "import again",
                )
            continue
        if state == "start":
            if line.strip().startswith("--"):
                header.append((number, raw))
                continue
            raise _refuse(
                f"{path} line {number}",
                "a statement before '-- +goose Up', which goose refuses",
            )
        sections[state].append((number, raw))
        if statement is not None:
            statement.append(raw)
    if state == "start":
        raise _refuse(path, "no '-- +goose Up' annotation; goose refuses such a file")
    if statement is not None:
        raise _refuse(f"{path} line {begun}", "a StatementBegin without its StatementEnd")
    for section, begun, sql, after in whole:
        _check_statement_block(path, begun, sql, sections[section][after:])
    parts = {}
    for section in ("up", "down"):
        numbered = [*header, *sections["up"]] if section == "up" else sections["down"]
        if section == "down" and state != "down":
            continue
        body, first = _section(numbered, 1)
        changes: tuple[str, ...] = ()
        if left_out[section]:
            changes = ("its '-- +goose StatementBegin' and StatementEnd lines left out",)
        where = f"the -- +goose {section.capitalize()} section of {path}"
        parts[section] = _Part(where, path, body, first, outside, changes)
    return parts["up"], parts.get("down")


def _check_statement_block(
    path: str, begun: int, sql: str, following: Sequence[tuple[int, str]]
) -> None:
    """A StatementBegin block is what goose hands the driver as one statement: it must be
    one statement as SQLite reads it, ended so that the next one does not join it."""
    statements = split(sql)
    where = f"{path} line {begun}"
    if len(statements) > 1:
        raise _refuse(
            where,
            f"the '-- +goose StatementBegin' block holds {len(statements)} statements as "
            "SQLite reads them, and goose hands it to the driver as one statement: it "
            "cannot be kept as one",
            "give each statement its own StatementBegin block (or none where it has no "
            "';' inside), then import again",
        )
    rest = "\n".join(line for _, line in following)
    if statements and not binding.module().complete_statement(sql) and has_statement(rest):
        raise _refuse(
            where,
            "the '-- +goose StatementBegin' block does not end with ';' and another "
            "statement follows it, so bootmigrate would read the two as one statement",
            "end the block's statement with ';', then import again",
        )


# -- dbmate ----------------------------------------------------------------------------------

# amacneil/dbmate pkg/dbmate/migration.go: the block directives (the down one must end its
# line after at most one option), options as key:value pairs on the directive's line,
# and a block runs in a transaction unless its options say transaction:false.
_DBMATE_UP = re.compile(r"^--\s*migrate:up(\s*$|\s+\S+)", re.MULTILINE | re.ASCII)
_DBMATE_DOWN = re.compile(r"^--\s*migrate:down(\s*$|\s+\S+)$", re.MULTILINE | re.ASCII)
# pkg/dbmate/db.go: migrationFileRegexp = ^(\d+).*\.sql$ (the digits are the version), the
# files run in the order of their names.
_DBMATE_FILE = re.compile(r"([0-9]+)(.*)\.sql")


def _dbmate(files: Mapping[str, bytes]) -> tuple[list[_Found], list[str]]:
    notes: list[str] = []
    found = []
    for path, data in _top_level(files, notes, "dbmate").items():
        match = _DBMATE_FILE.fullmatch(path)
        if match is None:
            _ignored(path, "dbmate", notes)
            continue
        digits, rest = match.groups()
        version = _version(digits, path)
        up, down = _dbmate_sections(path, _decode(path, data))
        name = rest[1:] if rest.startswith("_") else rest
        found.append(_Found(version, digits, name, up, down))
    _order("dbmate", found, lambda f: f.up.path, "the order of their file names")
    return found, notes


def _dbmate_options(line: str) -> dict[str, str]:
    # parseMigrationOptions: the directive's line split on whitespace, each "key:value"
    # word with exactly one ':' an option (the directive itself reads as migrate:up).
    options = {}
    for word in line.split():
        pair = word.split(":")
        if len(pair) == 2:
            options[pair[0]] = pair[1]
    return options


def _dbmate_sections(path: str, text: str) -> tuple[_Part, _Part | None]:
    up = _DBMATE_UP.search(text)
    down = _DBMATE_DOWN.search(text)
    if up is None:
        raise _refuse(path, "no '-- migrate:up' line; dbmate refuses such a file")
    if down is not None and down.start() < up.start():
        raise _refuse(path, "'-- migrate:down' comes before '-- migrate:up'; dbmate refuses it")
    before = text[: up.start()]
    header = []
    for number, raw in enumerate(_lines(before)[:-1], start=1):
        if raw.strip() and not raw.lstrip().startswith("--"):
            raise _refuse(
                f"{path} line {number}",
                "a statement before '-- migrate:up', which dbmate refuses",
            )
        header.append((number, raw))
    end = down.start() if down is not None else len(text)
    parts: list[_Part | None] = []
    for start, stop, numbered in ((up.start(), end, header), (end, len(text), [])):
        if start == stop:
            parts.append(None)
            continue
        first_number = text.count("\n", 0, start) + 1
        directive, _, body = text[start:stop].partition("\n")
        section = "up" if start == up.start() else "down"
        lines = [*numbered, *enumerate(_lines(body), start=first_number + 1)]
        sql, first = _section(lines, first_number)
        outside = None
        if _dbmate_options(directive).get("transaction") == "false":
            outside = f"its '-- migrate:{section}' line says transaction:false"
        where = f"the -- migrate:{section} section of {path}"
        parts.append(_Part(where, path, sql, first, outside))
    assert parts[0] is not None
    return parts[0], parts[1]


# -- sqlx ------------------------------------------------------------------------------------


def _sqlx(files: Mapping[str, bytes]) -> tuple[list[_Found], list[str]]:
    notes: list[str] = []
    ups: dict[int, tuple[str, str, _Part]] = {}
    downs: dict[int, tuple[str, str, _Part]] = {}
    for path, data in _top_level(files, notes, "sqlx").items():
        # launchbadge/sqlx sqlx-core/src/migrate/source.rs: the name split once on '_'
        # into <VERSION> (an i64 greater than zero) and a rest that ends in .sql; the rest
        # ends in .up.sql or .down.sql for a reversible pair (migration_type.rs), .sql
        # for a simple migration, and without that suffix is the description.
        digits, _, rest = path.partition("_")
        if not rest.endswith(".sql") or not digits.isdigit() or not digits.isascii():
            _ignored(path, "sqlx", notes)
            continue
        version = _version(digits, path)
        text = _decode(path, data)
        # source.rs: no_tx = sql.starts_with("-- no-transaction"), on the file as read
        # (a byte-order mark before it hides it from sqlx, and here too).
        outside = None
        if text.startswith("-- no-transaction"):
            outside = "it begins with sqlx's '-- no-transaction'"
        if rest.endswith(".down.sql"):
            name, into = rest[: -len(".down.sql")], downs
        else:
            name = rest[: -len(".up.sql")] if rest.endswith(".up.sql") else rest[: -len(".sql")]
            into = ups
        _put(into, version, (digits, name, _Part(path, path, text, 1, outside)))
    return _pair(ups, downs), notes


# -- diesel ----------------------------------------------------------------------------------


def _diesel(files: Mapping[str, bytes]) -> tuple[list[_Found], list[str]]:
    notes: list[str] = []
    folders: dict[str, dict[str, bytes]] = {}
    for path in sorted(files):
        folder, _, name = path.rpartition("/")
        if not folder:
            # migrations_internals::migrations_directories: files of the folder are skipped.
            notes.append(f"{path}: ignored (diesel's migrations are folders)")
        elif "/" in folder or folder.startswith("."):
            notes.append(f"{path}: ignored (diesel reads only {{version}}_{{name}}/ folders)")
        else:
            folders.setdefault(folder, {})[name] = files[path]
    found = []
    for folder, contents in sorted(folders.items()):
        found.append(_diesel_migration(folder, contents, notes))
    # diesel runs pending migrations sorted by their version strings.
    _order("diesel", found, lambda f: f.digits, "the order of their version strings")
    return found, notes


def _diesel_migration(folder: str, contents: Mapping[str, bytes], notes: list[str]) -> _Found:
    # diesel_migrations file_based_migrations.rs: a migration folder must hold up.sql
    # (valid_sql_migration_directory); down.sql is optional; the version is the folder
    # name up to its first '_', with every '-' removed (migrations_internals
    # version_from_string), and that string is what __diesel_schema_migrations records.
    if "up.sql" not in contents:
        code = sorted(n for n in contents if n.endswith(".rs"))
        raise _refuse(
            f"{folder}/",
            "no up.sql"
            + (f" but {', '.join(code)}: a Rust migration" if code else "")
            + "; bootmigrate imports diesel's SQL migrations (diesel refuses such a "
            "folder too)",
            "write the migration as up.sql (and down.sql), then import again",
        )
    spelled, _, raw_name = folder.partition("_")
    digits = spelled.replace("-", "")
    if not digits.isdigit() or not digits.isascii():
        raise _refuse(
            f"{folder}/",
            f"its version {spelled!r} is not a number once its '-' are removed, and "
            "bootmigrate's versions are numbers",
            _RENUMBER,
        )
    version = _version(digits, f"{folder}/")
    for name in sorted(set(contents) - {"up.sql", "down.sql", "metadata.toml"}):
        notes.append(f"{folder}/{name}: ignored (not part of a diesel migration)")
    up_path = f"{folder}/up.sql"
    if not contents["up.sql"]:
        raise _refuse(up_path, "empty; diesel refuses to run an empty up.sql too")
    outside, toml_notes = _diesel_outside(f"{folder}/metadata.toml", contents.get("metadata.toml"))
    notes.extend(toml_notes)
    up = _Part(up_path, up_path, _decode(up_path, contents["up.sql"]), 1, outside)
    down = None
    if "down.sql" in contents:
        down_path = f"{folder}/down.sql"
        down = _Part(down_path, down_path, _decode(down_path, contents["down.sql"]), 1, outside)
    how = None
    if spelled != digits:
        how = f"version {spelled} written as {digits}, the form diesel records (its '-' removed)"
    return _Found(version, digits, raw_name, up, down, spelled=how)


def _diesel_outside(path: str, data: bytes | None) -> tuple[str | None, list[str]]:
    """Why diesel runs the migration outside a transaction (None: inside one), from its
    metadata.toml, and a note when the file says it in a way that may surprise."""
    # migrations_internals TomlMetadata: `#[serde(default)] run_in_transaction: bool`,
    # read with `TomlMetadata::read_from_file(..).unwrap_or_default()`, whose Default is
    # run_in_transaction = true. So: no metadata.toml, or one diesel cannot read, runs in
    # a transaction; one that reads but does not set the key gets bool's default, false.
    # The same setting applies to up.sql and down.sql (the migration's metadata).
    if data is None:
        return None, []
    try:
        values = tomllib.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        return None, [
            f"{path}: not valid TOML ({exc}); diesel ignores such a file and runs the "
            "migration in a transaction, and so will bootmigrate"
        ]
    if "run_in_transaction" not in values:
        return (
            f"{path} does not set run_in_transaction, which diesel then reads as false",
            [],
        )
    value = values["run_in_transaction"]
    if not isinstance(value, bool):
        return None, [
            f"{path}: run_in_transaction = {value!r} is not true or false; diesel ignores "
            "the file and runs the migration in a transaction, and so will bootmigrate"
        ]
    if value:
        return None, []
    return f"{path} says run_in_transaction = false", []
