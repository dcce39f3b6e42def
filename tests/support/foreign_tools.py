"""Other tools' migrations run as those tools run them, in plain ``sqlite3``, and their
version tables filled as they fill them: the reference that imports and takeovers are
checked against (tests/test_tool_import.py, tests/test_tool_takeover.py).

Written apart from bootmigrate._foreign and simpler: each reader knows only the layouts
in tests/data/tools/ (each tool's documented format), not every corner of the tool.
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from dbfiles import REPO

DATA = REPO / "tests" / "data" / "tools"
TOOLS = ("golang-migrate", "goose", "dbmate", "sqlx", "diesel")


@dataclass(frozen=True)
class Up:
    """One up migration as the tool runs it."""

    version: int
    #: The version as the tool's table stores it (dbmate and diesel: text).
    recorded: str
    #: The file's (or section's) SQL.
    sql: str
    #: False when the tool runs it outside a transaction.
    in_transaction: bool
    #: sqlx's description column; the file's text, for sqlx's checksum.
    description: str = ""
    text: str = ""


def ups(tool: str, folder: Path | None = None) -> list[Up]:
    """The up migrations of *tool*'s folder (default: its test data), in the order the
    tool runs them."""
    folder = folder or DATA / tool
    found = {
        "golang-migrate": _golang_migrate,
        "goose": _goose,
        "dbmate": _dbmate,
        "sqlx": _sqlx,
        "diesel": _diesel,
    }[tool](folder)
    return sorted(found, key=lambda u: u.version)


def _golang_migrate(folder: Path) -> list[Up]:
    files = [
        (int(m[1]), p.read_text(encoding="utf-8"))
        for p in folder.iterdir()
        if (m := re.fullmatch(r"(\d+)_.*\.up\.sql", p.name))
    ]
    # A file with its own BEGIN only works with x-no-tx-wrap=true, which is the URL's:
    # then every file of the set runs without the driver's transaction.
    wrap = not any(re.search(r"(?im)^\s*BEGIN\s*;", text) for _, text in files)
    return [Up(v, str(v), text, wrap) for v, text in files]


def _goose(folder: Path) -> list[Up]:
    found = []
    for path in folder.glob("*.sql"):
        text = path.read_text(encoding="utf-8")
        up = text.split("-- +goose Up", 1)[1].split("-- +goose Down", 1)[0]
        sql = "\n".join(line for line in up.splitlines() if not line.startswith("-- +goose"))
        no_tx = "-- +goose NO TRANSACTION" in text
        version = int(path.name.split("_", 1)[0])
        found.append(Up(version, str(version), sql, not no_tx))
    return found


def _dbmate(folder: Path) -> list[Up]:
    found = []
    for path in folder.glob("*.sql"):
        text = path.read_text(encoding="utf-8")
        directive, _, rest = text.split("-- migrate:up", 1)[1].partition("\n")
        sql = rest.split("-- migrate:down", 1)[0]
        digits = re.match(r"\d+", path.name)
        assert digits
        found.append(Up(int(digits[0]), digits[0], sql, "transaction:false" not in directive))
    return found


def _sqlx(folder: Path) -> list[Up]:
    found = []
    for path in folder.glob("*.sql"):
        if path.name.endswith(".down.sql"):
            continue
        text = path.read_text(encoding="utf-8")
        version, _, rest = path.name.partition("_")
        name = rest.removesuffix(".sql").removesuffix(".up")
        no_tx = text.startswith("-- no-transaction")
        found.append(
            Up(
                int(version),
                version,
                text,
                not no_tx,
                description=name.replace("_", " "),
                text=text,
            )
        )
    return found


def _diesel(folder: Path) -> list[Up]:
    found = []
    for path in folder.iterdir():
        if not path.is_dir() or path.name.startswith("."):
            continue
        recorded = path.name.split("_", 1)[0].replace("-", "")
        metadata = path / "metadata.toml"
        no_tx = metadata.exists() and "run_in_transaction = false" in metadata.read_text()
        sql = (path / "up.sql").read_text(encoding="utf-8")
        found.append(Up(int(recorded), recorded, sql, not no_tx))
    return found


def run(db: Path, migrations: list[Up]) -> None:
    """Run *migrations* on *db* the way their tool does: each in a transaction of its
    own unless the tool runs it without one, the whole text handed to SQLite as Go's
    SQLite drivers and diesel's batch_execute hand it."""
    conn = sqlite3.connect(db, isolation_level=None)
    try:
        for up in migrations:
            if up.in_transaction:
                conn.executescript(f"BEGIN;\n{up.sql}\n;\nCOMMIT;")
            else:
                conn.executescript(up.sql)
    finally:
        conn.close()


# -- the tools' version tables, as each creates and fills them for SQLite -------------------

#: The CREATE statements each tool runs (see bootmigrate._foreign.ledgers for the sources).
TABLE_SQL = {
    "golang-migrate": "CREATE TABLE IF NOT EXISTS schema_migrations (version uint64,dirty bool);\n"
    "CREATE UNIQUE INDEX IF NOT EXISTS version_unique ON schema_migrations (version);",
    "goose": "CREATE TABLE goose_db_version (\n"
    "\t\tid INTEGER PRIMARY KEY AUTOINCREMENT,\n"
    "\t\tversion_id INTEGER NOT NULL,\n"
    "\t\tis_applied INTEGER NOT NULL,\n"
    "\t\ttstamp TIMESTAMP DEFAULT (datetime('now'))\n"
    "\t);",
    "dbmate": 'create table if not exists "schema_migrations" (version varchar(128) primary key);',
    "sqlx": "CREATE TABLE IF NOT EXISTS _sqlx_migrations (\n"
    "    version BIGINT PRIMARY KEY,\n"
    "    description TEXT NOT NULL,\n"
    "    installed_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,\n"
    "    success BOOLEAN NOT NULL,\n"
    "    checksum BLOB NOT NULL,\n"
    "    execution_time BIGINT NOT NULL\n"
    ");",
    "diesel": "CREATE TABLE IF NOT EXISTS __diesel_schema_migrations (\n"
    "       version VARCHAR(50) PRIMARY KEY NOT NULL,\n"
    "       run_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP\n"
    ");",
}
TABLE_NAME = {
    "golang-migrate": "schema_migrations",
    "goose": "goose_db_version",
    "dbmate": "schema_migrations",
    "sqlx": "_sqlx_migrations",
    "diesel": "__diesel_schema_migrations",
}


def record(db: Path, tool: str, applied: list[Up], *, failed: bool = False) -> None:
    """Create *tool*'s table in *db* and fill it as the tool does after applying
    *applied* in order; *failed*: the last of them failed part-way (golang-migrate: the
    version left dirty; sqlx: its row with success false)."""
    conn = sqlite3.connect(db, isolation_level=None)
    try:
        conn.executescript(TABLE_SQL[tool])
        if tool == "golang-migrate":
            # SetVersion: DELETE every row, INSERT (version, dirty); dirty before the run,
            # clean after it. Go's database/sql binds a bool as 1 or 0.
            if applied:
                conn.execute(
                    "INSERT INTO schema_migrations (version, dirty) VALUES (?, ?)",
                    (applied[-1].version, 1 if failed else 0),
                )
        elif tool == "goose":
            conn.execute("INSERT INTO goose_db_version (version_id, is_applied) VALUES (0, 1)")
            for up in applied:
                conn.execute(
                    "INSERT INTO goose_db_version (version_id, is_applied) VALUES (?, 1)",
                    (up.version,),
                )
        elif tool == "dbmate":
            for up in applied:
                conn.execute('insert into "schema_migrations" (version) values (?)', (up.recorded,))
        elif tool == "sqlx":
            for index, up in enumerate(applied):
                success = not (failed and index == len(applied) - 1)
                conn.execute(
                    "INSERT INTO _sqlx_migrations ( version, description, success, checksum, "
                    "execution_time ) VALUES ( ?1, ?2, ?3, ?4, -1 )",
                    (
                        up.version,
                        up.description,
                        success,
                        hashlib.sha384(up.text.encode()).digest(),
                    ),
                )
                conn.execute(
                    "UPDATE _sqlx_migrations SET execution_time = ?1 WHERE version = ?2",
                    (123456, up.version),
                )
        elif tool == "diesel":
            for up in applied:
                conn.execute(
                    "INSERT INTO __diesel_schema_migrations (version) VALUES (?)", (up.recorded,)
                )
    finally:
        conn.close()


def table_rows(db: Path, tool: str) -> tuple[str, list[tuple[object, ...]]]:
    """The tool table's CREATE text and every row, through a connection of its own."""
    conn = sqlite3.connect(db)
    try:
        name = TABLE_NAME[tool]
        (sql,) = conn.execute("SELECT sql FROM sqlite_master WHERE name = ?", (name,)).fetchone()
        rows = conn.execute(f'SELECT * FROM "{name}" ORDER BY 1').fetchall()
        return sql, rows
    finally:
        conn.close()
