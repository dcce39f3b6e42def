"""The core promise as a model: random migration sets, starting databases and failures,
what a run must leave behind, and the checks that it did.

The README promises three outcomes of ``bootmigrate.migrate()``: it reaches the target with
the ledger equal to the files; or it raises a :class:`bootmigrate.MigrationError` and the
database is exactly as before; or, after a no-transaction step, the error says the
version the database is at and whether the step took effect, and that is what a new
connection reads. This module draws scenarios (:func:`draw_scenario`), builds them on
disk (:func:`write_source`, :func:`build_start`), runs them (:func:`run`) and judges the
result twice (:func:`check`): against the truth read from the file through new
connections, and against what the model predicts (:func:`expect`) from the files alone.

The expected content of a database at version N is built without bootmigrate: the
model's statements, run one by one on a ``:memory:`` database (:func:`reference`).

Plain functions and dataclasses, no pytest or Hypothesis: tests/test_promise.py draws with
Hypothesis through :class:`Choices` or with a seeded :class:`random.Random`
(:class:`RandomChoices`), and the kill worker (worker_promise.py) gets what it needs as
JSON (:meth:`Access.spec`).
"""

from __future__ import annotations

import functools
import gc
import hashlib
import os
import random
import re
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol, TypeVar

import bootmigrate

T = TypeVar("T")

#: The environment variable that replays a seed (as in kills.py).
SEED_VARIABLE = "BOOTMIGRATE_SEED"
RUNNER_TABLES = ("bootmigrate_ledger", "bootmigrate_meta")
_JOURNAL_MAGIC = bytes.fromhex("d9d505f920a163d7")


def seed(what: str) -> int:
    """The seed of a random part: ``BOOTMIGRATE_SEED`` or a fresh one; printed."""
    given = os.environ.get(SEED_VARIABLE, "").strip()
    value = int(given) if given else random.SystemRandom().randrange(2**32)
    print(f"{what}: seed={value} ({SEED_VARIABLE}={value} replays it)")
    return value


# -- drawing --------------------------------------------------------------------------


class Choices(Protocol):
    """Where a scenario's choices come from: Hypothesis (shrinks) or a seeded generator."""

    def integer(self, low: int, high: int) -> int:
        """An integer in [low, high]; simpler towards *low*."""

    def chance(self, percent: int) -> bool:
        """True with about *percent* % probability; simpler is False."""

    def pick(self, options: Sequence[T]) -> T:
        """One of *options*; simpler towards the first."""


class RandomChoices:
    """:class:`Choices` from a :class:`random.Random` (the kill and file-size loops)."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def integer(self, low: int, high: int) -> int:
        """An integer in [low, high]."""
        return self.rng.randint(low, high)

    def chance(self, percent: int) -> bool:
        """True with *percent* % probability."""
        return self.rng.randrange(100) < percent

    def pick(self, options: Sequence[T]) -> T:
        """One of *options*."""
        return options[self.rng.randrange(len(options))]


# -- the model of a migration file ----------------------------------------------------


@dataclass(frozen=True)
class Sql:
    """One statement of a migration file as the model knows it."""

    #: Its text as written (with its ';', without what surrounds it).
    text: str
    #: It writes when it runs (committed at once outside a transaction).
    writes: bool = True
    #: "BEGIN" or "COMMIT" for a no-transaction file's own transaction.
    control: str | None = None
    #: The injected failure: this statement fails.
    fails: bool = False
    #: It succeeds and leaves orphan rows (the foreign key check after it fails).
    orphans: bool = False


@dataclass(frozen=True)
class File:
    """An up file: its statements, what lies between them, and how it is written."""

    version: int
    name: str
    transactional: bool
    compatible: bool
    statements: tuple[Sql, ...]
    #: What comes before each statement, and after the last (whitespace, comments).
    gaps: tuple[str, ...]
    bom: bool = False
    crlf: bool = False
    #: A defect that makes the file invalid (a SourceError at load), if any.
    defect: str | None = None

    @property
    def filename(self) -> str:
        """``NNNN_name.up.sql``."""
        return f"{self.version:04d}_{self.name}.up.sql"

    @property
    def text(self) -> str:
        """The file's text as written (before the defect's bytes, if any)."""
        header = ""
        if self.defect == "unknown-directive":
            header += "-- bootmigrate: no-transactoin\n"
        if not self.transactional:
            header += "-- bootmigrate: no-transaction\n"
        if self.compatible:
            header += "-- bootmigrate: backward-compatible\n"
        if self.defect == "empty":
            body = "-- nothing to run here; not even ;\n/* COMMIT; */\n"
        else:
            gaps = list(self.gaps)
            if self.defect == "late-directive":  # a directive after the first statement
                gaps[1] = "\n-- bootmigrate: no-transaction\n"
            parts = [gaps[0]]
            for sql, gap in zip(self.statements, gaps[1:]):
                parts += [sql.text, gap]
            body = "".join(parts)
        text = header + body
        if self.crlf:
            text = text.replace("\n", "\r\n")
        return ("\ufeff" if self.bom else "") + text

    @property
    def data(self) -> bytes:
        """The file's bytes."""
        data = self.text.encode("utf-8")
        if self.defect == "non-utf8":
            return data.replace(b"\n", b"\n-- \xff\xfe\n", 1)
        if self.defect == "nul":
            return data.replace(b"\n", b"\n-- \x00\n", 1)
        return data

    @property
    def checksum(self) -> str:
        """What the ledger must hold: SHA-256 of the text without BOM, with LF endings."""
        text = self.text
        text = text[1:] if text.startswith("\ufeff") else text
        text = text.replace("\r\n", "\n").replace("\r", "\n")
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    @property
    def fails(self) -> bool:
        """A statement of it fails."""
        return any(s.fails for s in self.statements)

    @property
    def orphans(self) -> bool:
        """It leaves orphan rows (and no statement before that fails)."""
        for sql in self.statements:
            if sql.fails:
                return False
            if sql.orphans:
                return True
        return False

    @property
    def good(self) -> bool:
        """It loads and runs to its end without an error."""
        return self.defect is None and not self.fails and not self.orphans

    def took_effect_before_failure(self) -> bool:
        """For a no-transaction file that fails: did anything it ran commit for good?"""
        committed = pending = inside = False
        for sql in self.statements:
            if sql.fails:
                break
            if sql.control == "BEGIN":
                inside = True
            elif sql.control == "COMMIT":
                committed = committed or pending
                pending = inside = False
            elif sql.writes:
                if inside:
                    pending = True
                else:
                    committed = True
        return committed

    def describe(self) -> str:
        """The file name and its text, for a failure message."""
        return f"--- {self.filename} (defect {self.defect}) ---\n{self.text}"


# -- drawing the files ----------------------------------------------------------------

# Pieces of string literals: ';', quotes, comment markers and invisible characters are
# data inside a literal (never '%': they also go into printf formats).
FRAGMENTS = (
    "plain",
    "semi;colon",
    "it''s",
    "zero\u200bwidth",
    "no\u00a0break",
    "b\ufeffom",
    "-- not a comment",
    "/* nor this */",
    "caf\u00e9",
    "end;",
    "COMMIT;",
)
# What comes between statements: whitespace and comments, some with invisible characters.
# U+FEFF is whitespace to SQLite before a statement; U+200B and U+00A0 only in comments.
GAPS = (
    "\n",
    "\n\n",
    "\n-- a note; with \u200b and ;\n",
    "\n/* ; \ufeff COMMIT; */ ",
    "\n\ufeff",
    "  \n\t",
    "\n-- \u00a0 spaced\n\n",
)
# Statements that fail when they run, wherever they are put.
RUNTIME_FAILURES = {
    "missing-table": "INSERT INTO nope VALUES (1);",
    "json": "SELECT json('{not json');",
    "overflow": "SELECT abs(-9223372036854775807 - 1);",
    "app-function": "SELECT boom();",
    "zero-width": "\u200bSELECT 1;",
    "no-break": "\u00a0SELECT 1;",
    "syntax": "SELEC 1;",
}
# Transaction control a transactional file may not hold, however it is hidden: refused
# when the files are loaded, before anything runs.
TRANSACTION_CONTROL = (
    "\ufeffCOMMIT;",
    "\ufeffROLLBACK;",
    "SAVEPOINT sp;",
    "RELEASE sp;",
    "BEGIN;",
    "END;",
    "/* hidden */ COMMIT;",
    "-- hidden\nROLLBACK;",
    "commit transaction;",
)
# Defects of the source as a whole: each is a SourceError at load.
FILE_DEFECTS = ("empty", "unknown-directive", "late-directive", "non-utf8", "nul", "control")
EXTRA_DEFECTS = (
    "bad-name",
    "dash-name",
    "upper-name",
    "no-direction",
    "orphan-down",
    "orphan-fixture",
    "duplicate",
    "name-mismatch",
    "trailing-space",
)


ROW_COUNTS = ((1, 1), (2, 5), (6, 50), (51, 400), (401, 3000))
APP_PREAMBLE = (
    "CREATE TABLE app_notes (id INTEGER PRIMARY KEY, body TEXT)",
    "INSERT INTO app_notes (body) VALUES ('kept \u200b;'), ('x')",
)


@dataclass
class _Built:
    """What the files drawn so far made (for statements that refer back)."""

    tables: list[int] = field(default_factory=list)  # t{v}
    children: list[tuple[int, int]] = field(default_factory=list)  # (k{v}, parent t{u})


def _literal(c: Choices) -> str:
    return "'" + "".join(c.pick(FRAGMENTS) for _ in range(c.integer(1, 3))) + "'"


def _fragment(c: Choices) -> str:
    return c.pick(FRAGMENTS)


def _rows(c: Choices, big: bool) -> int:
    low, high = c.pick(ROW_COUNTS[2:] if big else ROW_COUNTS)
    return c.integer(low, high)


def _cte(count: int) -> str:
    return f"WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < {count})\n"


def _transactional(c: Choices, v: int, built: _Built, big: bool) -> list[Sql]:
    t = f"t{v}"
    out = [Sql(f"CREATE TABLE {t} (id INTEGER PRIMARY KEY, label TEXT NOT NULL, n INTEGER);")]
    if c.chance(40):
        rows = ", ".join(f"({_literal(c)}, {i})" for i in range(c.integer(1, 4)))
        out.append(Sql(f"INSERT INTO {t} (label, n) VALUES {rows};"))
    else:
        out.append(
            Sql(
                _cte(_rows(c, big))
                + f"INSERT INTO {t} (label, n) SELECT printf('%d-{_fragment(c)}', i), i FROM c;"
            )
        )
    if c.chance(15):  # the foreign-key-safe rebuild: new table, copy, drop, rename
        out += [
            Sql(f"CREATE TABLE {t}_new (id INTEGER PRIMARY KEY, label TEXT NOT NULL, n INTEGER);"),
            Sql(f"INSERT INTO {t}_new SELECT id, label, n FROM {t};"),
            Sql(f"DROP TABLE {t};"),
            Sql(f"ALTER TABLE {t}_new RENAME TO {t};"),
        ]
    if c.chance(40):
        out.append(Sql(f"CREATE INDEX {t}_label ON {t} (label);"))
    if built.tables and c.chance(30):
        u = c.pick(built.tables)
        out.append(Sql(f"UPDATE t{u} SET n = n + {v} WHERE id % 3 = 0;"))
    if built.tables and c.chance(20):
        u = c.pick(built.tables)
        out.append(Sql(f"ALTER TABLE t{u} ADD COLUMN c{v} TEXT DEFAULT {_literal(c)};"))
    if c.chance(25):  # a trigger whose body holds ';', then a row that fires it
        out.append(
            Sql(
                f"CREATE TRIGGER {t}_double AFTER INSERT ON {t}\nBEGIN\n"
                f"    UPDATE {t} SET n = n * 2 WHERE id = NEW.id;\n"
                f"    UPDATE {t} SET label = label || ';' WHERE id = NEW.id;\nEND;"
            )
        )
        out.append(Sql(f"INSERT INTO {t} (label, n) VALUES ({_literal(c)}, 7);"))
    if c.chance(15):
        out.append(Sql(f"CREATE VIEW v{v} AS SELECT label FROM {t} WHERE label LIKE '%;%';"))
    if c.chance(15):  # a quoted name with an invisible character in it
        name = f'"z{v}{c.pick(chr(0x200B) + chr(0xA0) + chr(0xFEFF))}"'
        out += [Sql(f"CREATE TABLE {name} (x);"), Sql(f"INSERT INTO {name} VALUES ({v});")]
    if built.tables and c.chance(35):
        u = c.pick(built.tables)
        out += [
            Sql(
                f"CREATE TABLE k{v} (id INTEGER PRIMARY KEY, "
                f"parent INTEGER REFERENCES t{u} (id) ON DELETE CASCADE);"
            ),
            Sql(f"INSERT INTO k{v} (parent) SELECT id FROM t{u} ORDER BY id LIMIT 3;"),
        ]
        built.children.append((v, u))
    built.tables.append(v)
    return out


def _alone(c: Choices, v: int, big: bool) -> list[Sql]:
    """A no-transaction file; every statement can run again (a killed step is retried)."""
    s = f"s{v}"
    out = [Sql(f"CREATE TABLE IF NOT EXISTS {s} (id INTEGER PRIMARY KEY, label TEXT);")]
    for unit in range(c.integer(0, 4)):
        kind = c.pick(("values", "rows", "block", "vacuum", "application_id", "index"))
        if kind == "values":
            out.append(
                Sql(f"INSERT OR IGNORE INTO {s} (id, label) VALUES (1, {_literal(c)}), (2, 'b');")
            )
        elif kind == "rows":
            out.append(
                Sql(
                    _cte(_rows(c, big)) + f"INSERT OR IGNORE INTO {s} (id, label) "
                    f"SELECT i + 100, printf('%d-{_fragment(c)}', i) FROM c;"
                )
            )
        elif kind == "block":
            out += [
                Sql(c.pick(("BEGIN;", "BEGIN IMMEDIATE;")), writes=False, control="BEGIN"),
                Sql(f"INSERT OR IGNORE INTO {s} (id, label) VALUES ({50 + unit}, {_literal(c)});"),
                Sql(
                    f"UPDATE {s} SET label = label || '!' "
                    f"WHERE id = {50 + unit} AND label NOT LIKE '%!';"
                ),
                Sql(c.pick(("COMMIT;", "END;")), writes=False, control="COMMIT"),
            ]
        elif kind == "vacuum":
            out.append(Sql("VACUUM;"))
        elif kind == "application_id":
            out.append(Sql(f"PRAGMA application_id = {v};"))
        else:
            out.append(Sql(f"CREATE INDEX IF NOT EXISTS {s}_label ON {s} (label);"))
    return out


def _insert_failure(c: Choices, statements: list[Sql], transactional: bool) -> list[Sql]:
    """Put a failing statement at a random place (never between a no-transaction file's
    BEGIN and the statement after it would change its meaning: anywhere is fine)."""
    kind = c.pick(tuple(RUNTIME_FAILURES))
    failing = Sql(RUNTIME_FAILURES[kind], writes=False, fails=True)
    position = c.integer(0 if not transactional else 1, len(statements))
    return [*statements[:position], failing, *statements[position:]]


def _orphans(built: _Built, c: Choices) -> Sql | None:
    if not built.children:
        return None
    child, parent = c.pick(built.children)
    return Sql(f"DELETE FROM t{parent} WHERE id IN (SELECT parent FROM k{child});", orphans=True)


@dataclass(frozen=True)
class Access:
    """How the run reaches the database: a path, or a connection the app set up."""

    borrowed: bool = False
    journal_mode: str | None = None
    foreign_keys: bool = False
    row_factory: str | None = None
    text_bytes: bool = False
    isolation_none: bool = False
    exclusive: bool = False
    busy_zero: bool = False
    small_cache: bool = False
    #: Disk full: ``PRAGMA max_page_count`` = the pages the file has + this many.
    page_headroom: int | None = None

    def pragmas(self) -> list[str]:
        """What the app ran on its connection before migrating (locking mode apart)."""
        out = []
        if self.journal_mode:
            out.append(f"PRAGMA journal_mode = {self.journal_mode}")
        if self.foreign_keys:
            out.append("PRAGMA foreign_keys = ON")
        if self.busy_zero:
            out.append("PRAGMA busy_timeout = 0")
        if self.small_cache:
            out.append("PRAGMA cache_size = 5")  # changed pages spill into the file
        return out

    def spec(self) -> dict[str, Any]:
        """What the kill worker needs to set the connection up the same way."""
        return {
            "borrowed": self.borrowed,
            "pragmas": self.pragmas(),
            "exclusive": self.exclusive,
            "row_factory": self.row_factory,
            "text_bytes": self.text_bytes,
            "isolation_none": self.isolation_none,
        }


@dataclass(frozen=True)
class Scenario:
    """A migration set, a starting database, how it is reached, and what goes wrong."""

    files: tuple[File, ...]
    #: Extra files in the source (each a defect): name -> bytes.
    extras: tuple[tuple[str, bytes], ...]
    #: "missing", "empty" (a 0-byte file), "app" (the app's tables, no ledger), "migrated".
    start: str
    #: The version a "migrated" start is at (0 for the others).
    start_version: int
    #: The app's own table is there (from version start_version on).
    app_rows: bool
    wal: bool
    access: Access
    target: int | None
    backup: bool
    keep: int
    #: RLIMIT_FSIZE: the file may grow by this many bytes (a forked child only).
    size_headroom: int | None = None

    @property
    def head(self) -> int:
        """The newest version."""
        return self.files[-1].version

    @property
    def goal(self) -> int:
        """The version a successful run reaches."""
        return self.target if self.target is not None else self.head

    @property
    def pending(self) -> tuple[File, ...]:
        """The files the run has to apply."""
        return tuple(f for f in self.files if self.start_version < f.version <= self.goal)

    @property
    def source_defect(self) -> bool:
        """The source cannot be loaded: a SourceError before anything runs."""
        return bool(self.extras) or any(f.defect for f in self.files)

    @property
    def disk_limited(self) -> bool:
        """A full disk may strike anywhere."""
        return self.access.page_headroom is not None or self.size_headroom is not None

    def describe(self) -> str:
        """Everything needed to rebuild the scenario by hand."""
        lines = [
            f"start={self.start} at {self.start_version} app_rows={self.app_rows} "
            f"wal={self.wal} target={self.target} backup={self.backup} keep={self.keep} "
            f"size_headroom={self.size_headroom}",
            f"access={self.access}",
        ]
        lines += [f.describe() for f in self.files]
        lines += [f"--- extra {name!r}: {data!r}" for name, data in self.extras]
        return "\n".join(lines)


def draw_scenario(c: Choices, *, mode: str = "inprocess") -> Scenario:
    """A scenario. *mode*: "inprocess" (anything), "kill" (valid files whose no-transaction
    steps can run again; no injected failure) or "limit" (a file-size limit, in a child)."""
    faults = mode != "kill"
    big = mode == "limit" or c.chance(10)
    count = c.integer(1, 6)
    start = c.pick(("migrated", "missing", "app", "empty"))
    start_version = c.integer(1, count) if start == "migrated" else 0
    target = None
    if faults and c.chance(20):
        target = c.integer(max(start_version, 1), count)
    goal = target if target is not None else count
    built = _Built()
    files: list[File] = []
    failing_placed = False
    for v in range(1, count + 1):
        transactional = v == 1 or not c.chance(30)
        earlier = _Built(list(built.tables), list(built.children))
        statements = _transactional(c, v, built, big) if transactional else _alone(c, v, big)
        pending = start_version < v <= goal
        if faults and pending and not failing_placed and c.chance(25):
            if c.chance(65):
                statements = _insert_failure(c, statements, transactional)
            else:
                orphans = _orphans(earlier, c)
                if orphans is not None:
                    statements.insert(c.integer(1, len(statements)), orphans)
            failing_placed = True
        if statements and not statements[-1].control and not transactional and c.chance(10):
            last = statements[-1]
            if not last.text.startswith("CREATE"):
                statements[-1] = replace(last, text=last.text[:-1])  # the last may omit ';'
        gaps = tuple(c.pick(GAPS) for _ in range(len(statements) + 1))
        if not statements[-1].text.endswith(";"):
            gaps = (*gaps[:-1], "\n")
        files.append(
            File(
                version=v,
                name=f"step_{v}",
                transactional=transactional,
                compatible=c.chance(10),
                statements=tuple(statements),
                gaps=gaps,
                bom=c.chance(15),
                crlf=c.chance(15),
            )
        )
    extras: list[tuple[str, bytes]] = []
    if faults and c.chance(8):
        files, extras = _source_defect(c, files, extras, start_version)
    wal = start in ("migrated", "app") and c.chance(40)
    access = Access()
    if c.chance(55):
        access = _borrowed(c, mode)
    backup = c.chance(30)
    size_headroom = None
    if mode == "limit":
        size_headroom = c.pick((0, 4096, 20_000, 100_000, 400_000, 2_000_000))
    return Scenario(
        files=tuple(files),
        extras=tuple(extras),
        start=start,
        start_version=start_version,
        app_rows=start == "app" or (start == "migrated" and c.chance(30)),
        wal=wal,
        access=access,
        target=target,
        backup=backup,
        keep=c.integer(1, 2),
        size_headroom=size_headroom,
    )


def _source_defect(
    c: Choices, files: list[File], extras: list[tuple[str, bytes]], applied: int
) -> tuple[list[File], list[tuple[str, bytes]]]:
    """One defect; transaction control only in a file not applied yet (the starting
    database is built from the applied files, without their defects)."""
    head = files[-1].version
    kind = c.pick((*FILE_DEFECTS, *EXTRA_DEFECTS))
    index = c.integer(0, len(files) - 1)
    victim = files[index]
    valid_sql = b"CREATE TABLE extra (x);\n"
    if kind == "late-directive" and len(victim.statements) < 2:
        kind = "empty"
    transactional = [i for i, f in enumerate(files) if f.transactional and f.version > applied]
    if kind == "control" and not transactional:
        kind = "empty"
    if kind == "control":
        index = c.pick(transactional)
        victim = files[index]
        statements = list(victim.statements)
        statements.insert(
            c.integer(0, len(statements)), Sql(c.pick(TRANSACTION_CONTROL), writes=False)
        )
        files[index] = replace(
            victim, statements=tuple(statements), gaps=(*victim.gaps, "\n"), defect=kind
        )
        return files, extras
    if kind in FILE_DEFECTS:
        files[index] = replace(victim, defect=kind)
        return files, extras
    name = {
        "bad-name": "12_x.up.sql",
        "dash-name": f"{head + 1:04d}-add.up.sql",
        "upper-name": f"{head + 1:04d}_Add.UP.sql",
        "no-direction": f"{head + 1:04d}_add.sql",
        "orphan-down": f"{head + 1:04d}_gone.down.sql",
        "orphan-fixture": f"{head + 1:04d}_gone.fixture.sql",
        "duplicate": f"{victim.version:04d}_other.up.sql",
        "name-mismatch": f"{victim.version:04d}_other.down.sql",
        "trailing-space": f"{head + 1:04d}_add.up.sql ",
    }[kind]
    extras.append((name, valid_sql))
    return files, extras


def _borrowed(c: Choices, mode: str) -> Access:
    return Access(
        borrowed=True,
        journal_mode=c.pick((None, "memory", "off", "truncate", "persist", "wal", "delete")),
        foreign_keys=c.chance(40),
        row_factory=c.pick((None, "row", "dict")),
        text_bytes=c.chance(15),
        isolation_none=c.chance(30),
        exclusive=c.chance(25),
        busy_zero=c.chance(30),
        small_cache=c.chance(30),
        page_headroom=c.pick((0, 1, 3, 10, 40, 200))
        if mode == "inprocess" and c.chance(20)
        else None,
    )


# -- building it on disk --------------------------------------------------------------


def write_source(scenario: Scenario, directory: Path, *, upto: int | None = None) -> Path:
    """Write the migration files (those up to *upto*, without defects) into *directory*."""
    directory.mkdir(parents=True, exist_ok=True)
    for f in scenario.files:
        if upto is None:
            (directory / f.filename).write_bytes(f.data)
        elif f.version <= upto:
            (directory / f.filename).write_bytes(replace(f, defect=None).data)
    if upto is None:
        for name, data in scenario.extras:
            (directory / name).write_bytes(data)
    return directory


def build_start(scenario: Scenario, directory: Path) -> Path:
    """Create the starting database in *directory* (its own folder); return its path."""
    directory.mkdir(parents=True, exist_ok=True)
    db = directory / "app.db"
    if scenario.start == "missing":
        return db
    if scenario.start == "empty":
        db.write_bytes(b"")
        return db
    conn = sqlite3.connect(db, isolation_level=None)
    try:
        if scenario.wal:
            conn.execute("PRAGMA journal_mode = WAL")
        if scenario.start == "migrated":
            prefix = write_source(
                scenario, directory.parent / "prefix", upto=scenario.start_version
            )
            bootmigrate.migrate(conn, prefix)
        if scenario.app_rows:
            for statement in APP_PREAMBLE:
                conn.execute(statement)
    finally:
        conn.close()
    return db


def boom() -> None:
    """The app function a failing statement calls (``SELECT boom()``)."""
    raise RuntimeError("boom")


def _dict_row(cursor: sqlite3.Cursor, row: tuple[Any, ...]) -> dict[str, Any]:
    return {d[0]: value for d, value in zip(cursor.description, row)}


def open_borrowed(db: Path, access: Access) -> sqlite3.Connection:
    """The app's connection, set up as *access* says, except the locking mode and the page
    limit (:func:`lock_borrowed`), which come after the starting state is read."""
    conn = (
        sqlite3.connect(db, isolation_level=None) if access.isolation_none else sqlite3.connect(db)
    )
    for pragma in access.pragmas():
        conn.execute(pragma).fetchall()
    conn.create_function("boom", 0, boom)
    conn.execute("SELECT count(*) FROM sqlite_master").fetchall()
    if access.row_factory == "row":
        conn.row_factory = sqlite3.Row
    elif access.row_factory == "dict":
        conn.row_factory = _dict_row
    if access.text_bytes:
        conn.text_factory = bytes
    return conn


def lock_borrowed(conn: sqlite3.Connection, access: Access) -> None:
    """The settings that keep others out or limit the file: after the starting state."""
    if access.page_headroom is not None:
        pages = int(_plain(conn, "PRAGMA page_count"))
        conn.execute(f"PRAGMA max_page_count = {max(1, pages + access.page_headroom)}").fetchall()
    if access.exclusive:
        conn.execute("PRAGMA locking_mode = EXCLUSIVE").fetchall()
        conn.execute("SELECT count(*) FROM sqlite_master").fetchall()


def _plain(conn: sqlite3.Connection, sql: str) -> Any:
    cursor = conn.cursor()
    cursor.row_factory = None
    row = cursor.execute(sql).fetchone()
    value = row[0] if row else None
    return value.decode() if isinstance(value, bytes) else value


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def settings(conn: sqlite3.Connection) -> dict[str, Any]:
    """What a borrowed connection must have again after a run."""
    found: dict[str, Any] = {
        "row_factory": conn.row_factory,
        "text_factory": conn.text_factory,
        "isolation_level": conn.isolation_level,
        "autocommit": getattr(conn, "autocommit", None),
        "in_transaction": conn.in_transaction,
    }
    for name in (
        "foreign_keys",
        "busy_timeout",
        "journal_mode",
        "locking_mode",
        "cache_size",
        "max_page_count",
        "query_only",
    ):
        found[name] = _plain(conn, f"PRAGMA {name}")
    cursor = conn.cursor()
    cursor.row_factory = None
    # "temp" shows up once anything looked at the temp schema: not an attachment.
    names = [_text(r[1]) for r in cursor.execute("PRAGMA database_list")]
    found["databases"] = sorted(name for name in names if name != "temp")
    found["temp"] = sorted(map(repr, cursor.execute("SELECT * FROM temp.sqlite_master")))
    return found


# -- what a database holds ------------------------------------------------------------


@dataclass(frozen=True)
class Image:
    """A database file as a new connection sees it, and the files beside it."""

    exists: bool
    data: bytes
    #: ``iterdump()`` through a new read-only connection (the runner's tables included).
    dump: tuple[str, ...]
    user_version: int
    application_id: int
    journal_mode: str
    #: The names in the database's folder, and the sizes of the -wal and -journal then.
    listing: frozenset[str]
    wal_size: int = -1
    journal_hot: bool = False

    @property
    def wal(self) -> bool:
        """The file is in WAL mode (its header says so)."""
        return len(self.data) >= 20 and self.data[18] == 2

    @property
    def empty(self) -> bool:
        """No file, an empty file, or a database without a single object."""
        return not self.dump

    @property
    def logical(self) -> tuple[Any, ...]:
        """What "the same database" compares: content and header values."""
        return self.dump, self.user_version, self.application_id, self.journal_mode


def iterdump(conn: sqlite3.Connection) -> list[str]:
    """``conn.iterdump()``, also on pysqlite3 (``make test-pysqlite3``), whose connections
    have no such method: the standard library's dump module is plain Python over SQL, so
    it is loaded from the interpreter's own files and run on the connection."""
    if hasattr(conn, "iterdump"):
        return list(conn.iterdump())
    return list(_stdlib_dump()(conn))


@functools.lru_cache(maxsize=1)
def _stdlib_dump() -> Callable[[sqlite3.Connection], Any]:
    import importlib.util
    import sysconfig

    path = os.path.join(sysconfig.get_paths()["stdlib"], "sqlite3", "dump.py")
    spec = importlib.util.spec_from_file_location("_stdlib_sqlite3_dump", path)
    assert spec is not None and spec.loader is not None, path
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    dump: Callable[[sqlite3.Connection], Any] = module._iterdump
    return dump


def _read_only(db: Path) -> sqlite3.Connection:
    """A connection that only reads. Not ``mode=ro``: a read-only connection to a WAL
    database leaves its -wal and -shm behind, which would then look like the run's."""
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA query_only = ON")
    return conn


def image(db: Path) -> Image:
    """Read *db* (never creating it) and list its folder."""
    listing = frozenset(os.listdir(db.parent)) if db.parent.exists() else frozenset()
    wal = Path(f"{db}-wal")
    wal_size = wal.stat().st_size if wal.exists() else -1
    journal = Path(f"{db}-journal")
    hot = journal.exists() and journal.read_bytes()[:8] == _JOURNAL_MAGIC
    if not db.exists():
        return Image(False, b"", (), 0, 0, "", listing, wal_size, hot)
    data = db.read_bytes()
    if not data:
        return Image(True, b"", (), 0, 0, "", listing, wal_size, hot)
    conn = _read_only(db)
    try:
        dump = tuple(iterdump(conn))
        user_version = int(conn.execute("PRAGMA user_version").fetchone()[0])
        application_id = int(conn.execute("PRAGMA application_id").fetchone()[0])
        journal_mode = str(conn.execute("PRAGMA journal_mode").fetchone()[0])
    finally:
        conn.close()
    if not any(line.startswith("CREATE") for line in dump) and not user_version + application_id:
        dump, journal_mode = (), ""  # an empty database: the same as none
    return Image(
        True, data, dump, user_version, application_id, journal_mode, listing, wal_size, hot
    )


def app_dump(dump: Sequence[str]) -> list[str]:
    """A dump without the runner's tables, sorted (row order is not content)."""
    return sorted(
        line
        for line in dump
        if line not in ("BEGIN TRANSACTION;", "COMMIT;")
        and not any(t in line for t in RUNNER_TABLES)
    )


def reference(scenario: Scenario, version: int) -> tuple[list[str], int]:
    """What the app's tables hold at *version*, built without bootmigrate: the model's
    statements run one by one on a new ``:memory:`` database. (dump, application_id)."""
    conn = sqlite3.connect(":memory:", isolation_level=None)
    start = scenario.start_version

    def apply(low: int, high: int) -> None:
        for f in scenario.files:
            if low < f.version <= high:
                for sql in f.statements:
                    conn.execute(sql.text).fetchall()

    try:
        apply(0, min(version, start))
        if scenario.app_rows:
            for statement in APP_PREAMBLE:
                conn.execute(statement)
        apply(start, version)
        return app_dump(iterdump(conn)), int(conn.execute("PRAGMA application_id").fetchone()[0])
    finally:
        conn.close()


def ledger(db: Path) -> list[tuple[Any, ...]]:
    """(version, name, checksum, backward_compatible) of every ledger row."""
    conn = _read_only(db)
    try:
        if not conn.execute(
            "SELECT 1 FROM sqlite_master WHERE name = 'bootmigrate_ledger'"
        ).fetchone():
            return []
        return conn.execute(
            "SELECT version, name, checksum, backward_compatible FROM bootmigrate_ledger "
            "ORDER BY version"
        ).fetchall()
    finally:
        conn.close()


def expected_ledger(scenario: Scenario, version: int | None) -> list[tuple[Any, ...]]:
    """The ledger rows of a database at *version*."""
    return [
        (f.version, f.name, f.checksum, int(f.compatible))
        for f in scenario.files
        if version is not None and f.version <= version
    ]


def unfinished_note(db: Path) -> str | None:
    """The runner's note of a no-transaction step under way, if there is one."""
    conn = _read_only(db)
    try:
        if not conn.execute(
            "SELECT 1 FROM sqlite_master WHERE name = 'bootmigrate_meta'"
        ).fetchone():
            return None
        row = conn.execute(
            "SELECT value FROM bootmigrate_meta WHERE key = 'unfinished_step'"
        ).fetchone()
        return None if row is None else str(row[0])
    finally:
        conn.close()


def integrity(db: Path) -> list[tuple[Any, ...]]:
    """``PRAGMA integrity_check`` through a new connection (which replays a hot journal)."""
    conn = sqlite3.connect(db)
    try:
        return conn.execute("PRAGMA integrity_check").fetchall()
    finally:
        conn.close()


# -- running it -----------------------------------------------------------------------


@dataclass
class Outcome:
    """What a run returned or raised (plain data: it crosses a fork)."""

    error: str | None = None
    migration_error: bool = False
    source_error: bool = False
    message: str = ""
    state: str | None = None
    from_version: int | None = None
    to_version: int | None = None
    steps: tuple[int, ...] = ()
    #: Settings of a borrowed connection that were not given back.
    settings: list[str] = field(default_factory=list)
    #: The traceback of an error that is not a MigrationError.
    traceback: str = ""


def run(scenario: Scenario, db: Path, source: Path) -> Outcome:
    """Migrate *db* as the scenario says; what happened. A borrowed connection is opened,
    set up, checked for its settings afterwards and closed here."""
    conn = None
    if scenario.access.borrowed:
        conn = open_borrowed(db, scenario.access)
    return run_on(scenario, db, source, conn)


def run_on(scenario: Scenario, db: Path, source: Path, conn: sqlite3.Connection | None) -> Outcome:
    """:func:`run` with the borrowed connection already open (and set up, but not
    locked): the caller took the starting image in between."""
    outcome = Outcome()
    before: dict[str, Any] = {}
    if conn is not None:
        lock_borrowed(conn, scenario.access)
        before = settings(conn)
    try:
        report = bootmigrate.migrate(
            conn if conn is not None else db,
            source,
            target=scenario.target,
            backup=scenario.backup,
            backup_keep=scenario.keep,
            # No other process writes; a short timeout keeps a run that would wait on a
            # lock its own connection holds from costing seconds (that it does not wait:
            # test_found_a_failed_run_on_an_exclusive_connection_does_not_wait).
            timeout=0.5,
        )
    except BaseException as exc:  # judged by check(): it must be a MigrationError
        import traceback

        outcome.error = type(exc).__name__
        outcome.migration_error = isinstance(exc, bootmigrate.MigrationError)
        outcome.source_error = isinstance(exc, bootmigrate.SourceError)
        outcome.message = str(exc)
        outcome.traceback = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    else:
        outcome.state = report.state
        outcome.from_version = report.from_version
        outcome.to_version = report.to_version
        outcome.steps = tuple(step.version for step in report.steps)
    finally:
        if conn is not None:
            try:
                after = settings(conn)
                outcome.settings = [
                    f"{key}: {before[key]!r} -> {after[key]!r}"
                    for key in before
                    if before[key] != after[key]
                ]
            finally:
                conn.close()
    # An error's traceback keeps the run's frames, and with them its cursor, alive until
    # the cycle collector runs; on Python 3.11+ a closed connection with a live statement
    # stays open until then (a WAL not yet checkpointed, a locking_mode=EXCLUSIVE lock).
    gc.collect()
    return outcome


def in_child(work: Callable[[], Outcome], deadline: float = 120) -> Outcome | None:
    """Run *work* in a forked process and return its :class:`Outcome` (None if the child
    died without one). Forked, so that a resource limit set there stays there."""
    import multiprocessing

    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)

    def child() -> None:
        try:
            result: Outcome | None = work()
        except BaseException as exc:  # the harness failed, not the run: say so
            result = Outcome(error=f"harness: {type(exc).__name__}", message=str(exc))
        sender.send(result)

    process = context.Process(target=child)
    process.start()
    sender.close()
    answered = receiver.poll(deadline)
    try:
        outcome: Outcome | None = receiver.recv() if answered else None
    except EOFError:
        outcome = None
    process.join(deadline if answered else 0)
    if process.is_alive():
        process.kill()
        process.join()
        raise AssertionError(f"the child process did not finish within {deadline} s")
    return outcome


def limited_run(scenario: Scenario, db: Path, source: Path) -> Outcome:
    """In a forked child: set up the app's connection, if it has one; then ignore
    SIGXFSZ (so a write past the limit fails with EFBIG), limit every file the process
    writes to the database's size plus the scenario's headroom, and migrate."""
    import resource
    import signal

    assert scenario.size_headroom is not None
    conn = open_borrowed(db, scenario.access) if scenario.access.borrowed else None
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    limit = (db.stat().st_size if db.exists() else 0) + scenario.size_headroom
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return run_on(scenario, db, source, conn)


# -- judging it -----------------------------------------------------------------------


@dataclass(frozen=True)
class Expectation:
    """What the model says the run must end in."""

    #: "success", "refused" (a SourceError before anything runs), "unchanged",
    #: "at-version", "restored", or "any" (a full disk: success or a truthful error).
    kind: str
    version: int | None = None
    #: For "at-version" after a failed no-transaction step: did it take effect?
    partial: bool | None = None
    #: The error class the run must raise.
    error: str | None = None
    #: The file the error must name.
    filename: str | None = None


def expect(scenario: Scenario) -> Expectation:
    """The outcome the model predicts from the files, the start and the failure."""
    if scenario.source_defect:
        return Expectation("refused", error="SourceError")
    if scenario.disk_limited:
        return Expectation("any")
    committed = False  # something of this run was committed (a batch, a step)
    at = scenario.start_version
    batch: list[File] = []

    def failed(error: str, filename: str | None, partial: bool | None) -> Expectation:
        if scenario.backup and (committed or partial):
            return Expectation("restored", scenario.start_version or None, error=error)
        if not committed and not partial and partial is None:
            return Expectation("unchanged", error=error, filename=filename)
        return Expectation("at-version", at or None, partial, error, filename)

    for f in scenario.pending:
        if f.transactional:
            if f.fails:
                return failed("StatementError", f.filename, None)
            batch.append(f)
            continue
        if any(b.orphans for b in batch):
            return failed("ForeignKeyViolation", None, None)
        if batch:
            committed, at = True, batch[-1].version
        batch = []
        if f.fails:
            return failed("StatementError", f.filename, f.took_effect_before_failure())
        if f.orphans:
            return failed("ForeignKeyViolation", None, True)
        committed, at = True, f.version
    if any(b.orphans for b in batch):
        return failed("ForeignKeyViolation", None, None)
    return Expectation("success", scenario.goal if scenario.goal > scenario.start_version else None)


_AT_VERSION = re.compile(r"the database is at version (\w+)")
_RESTORED = re.compile(
    r"restored from the backup '([^']+)' and is as it was before the run \(version (\w+)\)"
)
_STAMPED = re.compile(r"app\.db\.\d{8}T\d{12}Z-v\d+\.bootmigrate-backup")


def _version(word: str) -> int | None:
    """'none' and '0' both mean: no migration applied."""
    return None if word in ("none", "0") else int(word)


class Broken(AssertionError):
    """A promise the run broke; the message says which and how to see it again."""


def check(
    scenario: Scenario,
    before: Image,
    outcome: Outcome,
    db: Path,
    source: Path,
) -> str:
    """Judge a finished run (every connection closed); return the kind of outcome.

    Raises :class:`Broken` naming the promise and showing the scenario.
    """
    problems: list[str] = []
    try:
        kind = _judge(scenario, before, outcome, db, source, problems)
    except Exception as exc:  # a check that could not even read the file
        problems.append(f"checking raised {type(exc).__name__}: {exc}")
        kind = "?"
    if problems:
        raise Broken(
            "\n".join(problems) + f"\n\noutcome: {outcome}\n\nscenario:\n{scenario.describe()}"
        )
    return f"{kind} ({outcome.error})" if outcome.error else kind


def _judge(
    scenario: Scenario,
    before: Image,
    outcome: Outcome,
    db: Path,
    source: Path,
    problems: list[str],
) -> str:
    after = image(db)
    model = expect(scenario)
    if outcome.settings:
        problems.append(
            f"the borrowed connection's settings were not given back: {outcome.settings}"
        )
    if outcome.error is not None and not outcome.migration_error:
        problems.append(f"raised {outcome.error}, not a MigrationError:\n{outcome.traceback}")
        return "not-a-migration-error"
    integrity_ok = not after.exists or not after.data or integrity(db) == [("ok",)]
    if not integrity_ok:
        problems.append(f"integrity_check failed: {integrity(db)}")
    allowed = _allowed_side_files(scenario, before, after, db.parent, problems)
    if outcome.error is None:
        kind = "success"
        _check_success(scenario, before, after, outcome, db, problems)
    else:
        message = outcome.message
        restored = _RESTORED.search(message)
        at_version = _AT_VERSION.search(message)
        if restored:
            kind = "restored"
            if after.logical != before.logical:
                problems.append(
                    "the error says the backup was put back, but the database differs from before"
                )
            if _version(restored.group(2)) != (scenario.start_version or None):
                problems.append(
                    f"the error says it was at version {restored.group(2)} before the run"
                )
        elif at_version:
            kind = "at-version"
            _check_at_version(
                scenario, after, outcome, db, source, _version(at_version.group(1)), problems
            )
        elif "putting back the backup" in message:
            kind = "restore-failed"
            problems.append("putting the backup back failed")
        else:
            kind = "unchanged"
            _check_unchanged(before, after, problems)
        if model.error is not None:
            wanted = getattr(bootmigrate, model.error)
            if outcome.error is None or not issubclass(getattr(bootmigrate, outcome.error), wanted):
                problems.append(f"expected {model.error}, got {outcome.error}")
        if model.filename is not None and model.filename not in message:
            problems.append(f"the error does not name {model.filename!r}")
        if model.kind in ("refused", "unchanged") and kind != "unchanged":
            problems.append(
                f"the model expected the database to be left unchanged, the error says {kind}"
            )
        left = allowed - {"app.db"}
        if scenario.disk_limited and (before.wal or after.wal):
            # The boot reads the ledger before it reads the files; with no room for a
            # WAL database's -shm that read fails (and the files are then read and
            # refused), leaving the empty -wal and the -shm it could not finish, as any
            # reader would: SQLite's, no content.
            left -= {"app.db-wal", "app.db-shm"}
        if model.kind == "refused" and left:
            problems.append(f"refused before anything runs, yet it left {sorted(allowed)}")
        if model.kind == "restored" and kind != "restored":
            problems.append("the model expected the backup to be put back")
        if model.kind == "at-version":
            if kind != "at-version" or (
                at_version and _version(at_version.group(1)) != model.version
            ):
                problems.append(f"the model expected 'at version {model.version}', got {kind}")
            took_effect = "applied and not recorded" in message
            if model.partial is not None and took_effect != model.partial:
                problems.append(
                    f"the model says the step {'took' if model.partial else 'did not take'} effect"
                )
    if scenario.disk_limited and outcome.error == "DatabaseUnavailable":
        problems.append("a full disk was reported as DatabaseUnavailable, not DiskFull")
    if model.kind == "success" and outcome.error is not None:
        problems.append("a valid run failed")
    if model.kind not in ("success", "any") and outcome.error is None:
        problems.append(f"the run succeeded, the model expected {model.kind} ({model.error})")
    return kind


def _allowed_side_files(
    scenario: Scenario, before: Image, after: Image, folder: Path, problems: list[str]
) -> set[str]:
    """Check what the run left beside the database; return the new names."""
    new = set(after.listing - before.listing)
    for name in sorted(new):
        if name == "app.db":
            continue
        if name == "app.db-bootmigrate-lock":
            if not any(not f.transactional for f in scenario.pending):
                problems.append("a lock file without a no-transaction step")
            continue
        if _STAMPED.fullmatch(name):
            if not scenario.backup:
                problems.append(f"a backup {name} without backup=True")
            else:
                backup = image(folder / name)
                if backup.dump != before.dump:
                    problems.append(
                        f"the backup {name} is not the database as it was before the run"
                    )
            continue
        if name == "app.db-journal" and (
            scenario.access.journal_mode in ("truncate", "persist") or scenario.access.exclusive
        ):
            # These journal modes, and any mode in locking_mode EXCLUSIVE, keep a journal
            # after a commit or a rollback; it must be cold (checked below).
            continue
        if (before.wal or after.wal) and (
            name == "app.db-shm"
            or (name == "app.db-wal" and (after.wal_size == 0 or scenario.disk_limited))
        ):
            # A read-only look at a WAL database (the boot's, status()) leaves SQLite's
            # shared memory and an empty -wal: no content, and the next open reuses them.
            # With the disk full, the last close cannot checkpoint: committed frames stay
            # in the -wal (the content read through it is checked all the same).
            continue
        problems.append(f"the run left {name!r} beside the database")
    if after.journal_hot:
        problems.append("a hot journal was left beside the database")
    return new


def _check_success(
    scenario: Scenario, before: Image, after: Image, outcome: Outcome, db: Path, problems: list[str]
) -> None:
    goal = scenario.goal
    start = scenario.start_version or None
    reached = goal if goal > scenario.start_version else start
    if outcome.to_version != reached:
        problems.append(f"the report says version {outcome.to_version}, expected {reached}")
    pending = tuple(f.version for f in scenario.pending)
    if outcome.steps != pending:
        problems.append(f"the report's steps are {outcome.steps}, expected {pending}")
    if not pending:
        _check_unchanged(before, after, problems)
        return
    rows = ledger(db)
    if rows != expected_ledger(scenario, reached):
        problems.append(f"the ledger is {[r[:2] for r in rows]}, expected up to {reached}")
    if after.user_version != (reached or 0):
        problems.append(f"user_version is {after.user_version}, expected {reached}")
    want, application_id = reference(scenario, reached or 0)
    if app_dump(after.dump) != want:
        problems.append(
            _diff("the schema and rows differ from the files'", want, app_dump(after.dump))
        )
    if after.application_id != application_id:
        problems.append(f"application_id is {after.application_id}, expected {application_id}")
    if unfinished_note(db) is not None:
        problems.append("a successful run left the note of an unfinished step")


def _check_unchanged(before: Image, after: Image, problems: list[str]) -> None:
    """Exactly as before: the main file's bytes (WAL: the content, as a checkpoint may
    move pages), and a missing file is still missing or is an empty file.

    "The bytes" are the header and every page in use (:func:`same_database_bytes`): a
    page on the freelist holds no data, and SQLite reuses one without journaling it, so
    a rolled-back write that reached the file there (a spilled cache, a failed commit)
    leaves other bytes in it. The README says so under "Errors"."""
    if not before.data:
        # A missing file may be left as an empty one, and an empty file as a database
        # without a single object: the next boot sees the same thing.
        if not after.empty:
            problems.append(f"the database was empty or missing and now holds {after.dump[:5]}")
        return
    if before.wal or after.wal:
        if after.logical != before.logical:
            problems.append(
                _diff("the database's content changed", list(before.dump), list(after.dump))
            )
    elif not same_database_bytes(before.data, after.data):
        detail = (
            _diff("its content changed", list(before.dump), list(after.dump))
            if after.logical != before.logical
            else "its content reads the same"
        )
        problems.append(
            f"the main file's bytes changed ({detail}): {byte_changes(before.data, after.data)}"
        )


# The database header's fields (https://www.sqlite.org/fileformat.html#the_database_header),
# by their first byte and length, so a changed file says which field changed.
_HEADER_FIELDS = (
    (0, 16, "magic string"),
    (16, 2, "page size"),
    (18, 1, "write version (2 = WAL)"),
    (19, 1, "read version (2 = WAL)"),
    (20, 1, "reserved bytes per page"),
    (21, 3, "payload fractions"),
    (24, 4, "file change counter"),
    (28, 4, "database size in pages"),
    (32, 4, "first freelist trunk page"),
    (36, 4, "freelist page count"),
    (40, 4, "schema cookie"),
    (44, 4, "schema format number"),
    (48, 4, "default page cache size"),
    (52, 4, "largest root page (auto-vacuum)"),
    (56, 4, "text encoding"),
    (60, 4, "user_version"),
    (64, 4, "incremental vacuum"),
    (68, 4, "application_id"),
    (72, 20, "reserved for expansion"),
    (92, 4, "version-valid-for number"),
    (96, 4, "SQLITE_VERSION_NUMBER"),
)


def free_pages(data: bytes) -> frozenset[int]:
    """The freelist *leaf* pages of a database file (numbered from 1): pages that hold no
    data. SQLite reuses such a page without journaling it (its bytes do not matter), so
    a rolled-back write may leave other bytes there; the trunk pages that list them are
    journaled like any page in use (https://www.sqlite.org/fileformat.html#pages: "Freelist
    leaf pages contain no information that would need to be restored in the event of a
    rollback and so they are not written to the journal prior to modification")."""
    if len(data) < 100:
        return frozenset()
    page_size = int.from_bytes(data[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    trunk, count = int.from_bytes(data[32:36], "big"), int.from_bytes(data[36:40], "big")
    leaves: set[int] = set()
    seen: set[int] = set()
    while trunk and trunk not in seen and trunk * page_size <= len(data):
        seen.add(trunk)
        page = data[(trunk - 1) * page_size : trunk * page_size]
        listed = min(int.from_bytes(page[4:8], "big"), (page_size - 8) // 4)
        leaves.update(int.from_bytes(page[8 + 4 * i : 12 + 4 * i], "big") for i in range(listed))
        trunk = int.from_bytes(page[0:4], "big")
    # A damaged freelist is no excuse: then nothing counts as free.
    return frozenset(leaves) if len(leaves) + len(seen) == count else frozenset()


def same_database_bytes(before: bytes, after: bytes) -> bool:
    """*after* is *before* byte for byte, except in pages that were freelist leaves
    (:func:`free_pages`), which hold no data: the header (and with it the freelist, the
    page count and the change counter), every page in use and the file's size."""
    if len(before) != len(after) or len(before) < 100 or before[:100] != after[:100]:
        return before == after
    page_size = int.from_bytes(before[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    free = free_pages(before)
    return all(
        before[start : start + page_size] == after[start : start + page_size]
        for start in range(0, len(before), page_size)
        if start // page_size + 1 not in free
    )


def byte_changes(before: bytes, after: bytes) -> str:
    """Which header fields and pages of a database file differ, for a failure message.

    A header field is shown with its old and new value; pages are numbered from 1, as
    SQLite numbers them (page 1 counts from byte 100, after the header), those in use
    first, then the free ones (:func:`free_pages`, whose bytes do not count)."""
    if len(before) < 100 or len(after) < 100:
        return f"{len(before)} bytes before, {len(after)} after"
    parts: list[str] = []
    if len(before) != len(after):
        parts.append(f"size {len(before)} -> {len(after)} bytes")
    for start, length, name in _HEADER_FIELDS:
        old, new = before[start : start + length], after[start : start + length]
        if old != new:
            if length <= 4:
                was, now = int.from_bytes(old, "big"), int.from_bytes(new, "big")
                parts.append(f"header {name} (bytes {start}-{start + length - 1}): {was} -> {now}")
            else:
                parts.append(f"header {name} (bytes {start}-{start + length - 1})")
    page_size = int.from_bytes(before[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages: list[str] = []
    free = free_pages(before)
    free_changed = 0
    for number in range(1, max(len(before), len(after)) // page_size + 1):
        start = (number - 1) * page_size + (100 if number == 1 else 0)
        end = number * page_size
        old, new = before[start:end], after[start:end]
        if old == new:
            continue
        if number in free:
            free_changed += 1
            continue
        first = next(
            (i for i, (a, b) in enumerate(zip(old, new)) if a != b), min(len(old), len(new))
        )
        kind = f", now {_page_kind(new)}" if new else ""
        pages.append(f"{number} (first at byte {start + first}{kind})")
    if pages:
        shown = ", ".join(pages[:12]) + (f", and {len(pages) - 12} more" if len(pages) > 12 else "")
        parts.append(f"{len(pages)} page(s) in use of {page_size} bytes differ: {shown}")
    if free_changed:
        parts.append(f"{free_changed} free page(s) hold other bytes")
    return "; ".join(parts) if parts else "no difference"


def _page_kind(page: bytes) -> str:
    """What kind of b-tree page *page* is now, by its first byte (page 1 without its header)."""
    return {2: "interior index", 5: "interior table", 10: "leaf index", 13: "leaf table"}.get(
        page[0], "not a b-tree page (freelist or overflow)"
    )


def _check_at_version(
    scenario: Scenario,
    after: Image,
    outcome: Outcome,
    db: Path,
    source: Path,
    version: int | None,
    problems: list[str],
) -> None:
    status = bootmigrate.status(db, source)
    if status.current != version:
        problems.append(f"the error says version {version}, status() says {status.current}")
    rows = ledger(db)
    if rows != expected_ledger(scenario, version):
        problems.append(
            f"the error says version {version}, the ledger holds {[r[:2] for r in rows]}"
        )
    want, application_id = reference(scenario, version or 0)
    same = app_dump(after.dump) == want and after.application_id == application_id
    # "partly applied and not recorded", or (recording it failed) "applied and not recorded"
    partial = "applied and not recorded" in outcome.message
    if not partial and not same:
        problems.append(
            _diff(
                f"the error says nothing of the step took effect at version {version}, "
                "but the database differs from that version's",
                want,
                app_dump(after.dump),
            )
        )


def _diff(title: str, want: Sequence[str], got: Sequence[str]) -> str:
    missing = [line for line in want if line not in set(got)][:5]
    extra = [line for line in got if line not in set(want)][:5]
    return f"{title}: missing {[m[:160] for m in missing]}, extra {[e[:160] for e in extra]}"


__all__ = [
    "Access",
    "Broken",
    "Choices",
    "Expectation",
    "File",
    "Image",
    "Outcome",
    "RandomChoices",
    "Scenario",
    "Sql",
    "build_start",
    "check",
    "draw_scenario",
    "expect",
    "image",
    "reference",
    "run",
    "seed",
    "write_source",
]


# -- after a SIGKILL ------------------------------------------------------------------


def check_after_kill(scenario: Scenario, db: Path, source: Path, half_written: bool) -> str:
    """Judge a database whose run was killed; return where the kill landed.

    The next ``status()`` works; the database is at the old or a newer version, each
    applied migration's objects and rows are there (and, inside a no-transaction step
    the runner noted as under way, only that step's objects besides), integrity_check is
    ok; and the next run reaches the head. Raises :class:`Broken`.
    """
    problems: list[str] = []
    landed = "?"
    try:
        landed = _after_kill(scenario, db, source, half_written, problems)
    except Exception as exc:
        import traceback

        problems.append(f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}")
    if problems:
        raise Broken("\n".join(problems) + f"\n\nscenario:\n{scenario.describe()}")
    return landed


def _after_kill(
    scenario: Scenario, db: Path, source: Path, half_written: bool, problems: list[str]
) -> str:
    status = bootmigrate.status(db, source)
    current = status.current
    if integrity(db) != [("ok",)] if db.exists() and db.stat().st_size else False:
        problems.append(f"integrity_check: {integrity(db)}")
    if (current or 0) < scenario.start_version:
        problems.append(f"the database went back from {scenario.start_version} to {current}")
    rows = ledger(db) if db.exists() and db.stat().st_size else []
    if rows != expected_ledger(scenario, current):
        problems.append(f"status() says {current}, the ledger holds {[r[:2] for r in rows]}")
    found = image(db)
    if found.user_version != (current or 0):
        problems.append(f"user_version {found.user_version} at version {current}")
    note = unfinished_note(db) if found.exists and found.data else None
    want, application_id = reference(scenario, current or 0)
    got = app_dump(found.dump)
    if note is None:
        if got != want or found.application_id != application_id:
            problems.append(_diff(f"not the database of version {current}", want, got))
    else:
        steps = [f for f in scenario.files if not f.transactional and f.version > (current or 0)]
        names = tuple(f"s{f.version}" for f in steps)
        extra = [line for line in got if line not in set(want)]
        missing = [line for line in want if line not in set(got)]
        if missing or not all(any(name in line for name in names) for line in extra):
            problems.append(
                _diff(f"inside a step after version {current}, other changes", want, got)
            )
    landed = (
        "half-written"
        if half_written
        else "in a no-transaction step"
        if note is not None
        else "before the first commit"
        if (current or 0) == scenario.start_version
        else "done"
        if current == scenario.head
        else "between commits"
    )
    report = bootmigrate.migrate(db, source, backup=scenario.backup, backup_keep=scenario.keep)
    if report.to_version != scenario.head:
        problems.append(f"the next run reached {report.to_version}, not {scenario.head}")
    again = image(db)
    want, application_id = reference(scenario, scenario.head)
    if app_dump(again.dump) != want or again.application_id != application_id:
        problems.append(
            _diff("after the next run, not the head's database", want, app_dump(again.dump))
        )
    if ledger(db) != expected_ledger(scenario, scenario.head):
        problems.append("after the next run, the ledger is not the files'")
    if unfinished_note(db) is not None:
        problems.append("after the next run, a step is still noted as under way")
    leftovers = sorted(n for n in os.listdir(db.parent) if n.endswith(".backup-partial"))
    if scenario.backup and leftovers:
        problems.append(f"the next run with backup=True left the killed run's {leftovers}")
    return landed
