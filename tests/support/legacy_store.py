"""Build databases as the legacy daemon's builds left them on users' machines.

This models the legacy boot code from shared/reference/legacy-daemon-store.md, not the
clean migration files: each build runs its own ``initSchema`` text (``CREATE TABLE IF
NOT EXISTS`` for the schema *it* knew, in the column order of its text), inserts version
1, reads ``MAX(version)`` once and runs its ``if current < N`` blocks, each checking
``pragma_table_info``/``sqlite_master`` before changing anything. Databases are in WAL
mode and get rows in every table at every stage, written through the column names the
table has at that moment; one connection enforces foreign keys and one does not (the
legacy pool), which is how orphan rows got in.

:func:`read_rows` reads every row back, to check that a takeover kept them. Run as a
script, ``python tests/support/legacy_store.py PATH [SHAPE]`` writes one database
(``make run-legacy``); it needs only the standard library.
"""

from __future__ import annotations

import os
import sqlite3
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# Columns added to the version-1 CREATE TABLE text later, without a migration.
LATE_COLUMNS = ("summary", "num_turns", "result_content")
_PERMISSION_COLUMNS = (
    "permission_prompt_tool",
    "append_system_prompt",
    "allowed_tools",
    "disallowed_tools",
)

# (column, definition, the first build whose initSchema text has it); the order is the
# latest initSchema's, which is neither the order upgrades append in nor the canonical one.
_SESSIONS = [
    ("id", "TEXT PRIMARY KEY", 1),
    ("run_id", "TEXT NOT NULL UNIQUE", 1),
    ("claude_session_id", "TEXT", 1),
    ("parent_session_id", "TEXT", 1),
    ("query", "TEXT NOT NULL", 1),
    ("summary", "TEXT", 1),
    ("title", "TEXT DEFAULT ''", 10),
    ("model", "TEXT", 1),
    ("model_id", "TEXT", 12),
    ("working_dir", "TEXT", 1),
    ("additional_directories", "TEXT", 18),
    ("max_turns", "INTEGER", 1),
    ("system_prompt", "TEXT", 1),
    ("append_system_prompt", "TEXT", 3),
    ("custom_instructions", "TEXT", 1),
    ("permission_prompt_tool", "TEXT", 3),
    ("allowed_tools", "TEXT", 3),
    ("disallowed_tools", "TEXT", 3),
    ("status", "TEXT NOT NULL DEFAULT 'starting'", 1),
    ("created_at", "TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP", 1),
    ("last_activity_at", "TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP", 1),
    ("completed_at", "TIMESTAMP", 1),
    ("cost_usd", "REAL", 1),
    ("total_tokens", "INTEGER", 1),  # removed from the text at 13
    ("input_tokens", "INTEGER", 13),
    ("output_tokens", "INTEGER", 13),
    ("cache_creation_input_tokens", "INTEGER", 13),
    ("cache_read_input_tokens", "INTEGER", 13),
    ("effective_context_tokens", "INTEGER", 13),
    ("duration_ms", "INTEGER", 1),
    ("num_turns", "INTEGER", 1),
    ("result_content", "TEXT", 1),
    ("error_message", "TEXT", 1),
    ("auto_accept_edits", "BOOLEAN DEFAULT 0", 8),
    ("archived", "BOOLEAN DEFAULT FALSE", 9),
    ("dangerously_skip_permissions", "BOOLEAN DEFAULT 0", 11),
    ("dangerously_skip_permissions_expires_at", "TIMESTAMP", 11),
    ("dangerously_skip_permissions_timeout_ms", "INTEGER", 21),
    ("proxy_enabled", "BOOLEAN DEFAULT 0", 15),
    ("proxy_base_url", "TEXT", 15),
    ("proxy_model_override", "TEXT", 15),
    ("proxy_api_key", "TEXT DEFAULT ''", 15),
    ("editor_state", "TEXT", 20),
]
_EVENTS = [
    ("id", "INTEGER PRIMARY KEY AUTOINCREMENT", 1),
    ("session_id", "TEXT NOT NULL REFERENCES sessions(id)", 1),
    ("claude_session_id", "TEXT", 1),
    ("sequence", "INTEGER NOT NULL", 1),
    ("event_type", "TEXT NOT NULL", 1),
    ("created_at", "TIMESTAMP DEFAULT CURRENT_TIMESTAMP", 1),
    ("role", "TEXT", 1),
    ("content", "TEXT", 1),
    ("tool_id", "TEXT", 1),
    ("tool_name", "TEXT", 1),
    ("tool_input_json", "TEXT", 1),
    ("parent_tool_use_id", "TEXT", 6),
    ("tool_result_for_id", "TEXT", 1),
    ("tool_result_content", "TEXT", 1),
    ("is_completed", "BOOLEAN DEFAULT FALSE", 1),
    ("approval_status", "TEXT", 1),
    ("approval_id", "TEXT", 1),
]
_APPROVALS = [
    ("id", "TEXT PRIMARY KEY", 4),
    ("run_id", "TEXT NOT NULL", 4),
    ("session_id", "TEXT NOT NULL REFERENCES sessions(id)", 4),
    ("tool_use_id", "TEXT", 14),
    ("status", "TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'denied'))", 4),
    ("created_at", "DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP", 4),
    ("responded_at", "DATETIME", 4),
    ("tool_name", "TEXT NOT NULL", 4),
    ("tool_input", "TEXT NOT NULL", 4),
    ("comment", "TEXT", 4),
]
_SNAPSHOTS = [
    ("id", "INTEGER PRIMARY KEY AUTOINCREMENT", 7),
    ("tool_id", "TEXT NOT NULL", 7),
    ("session_id", "TEXT NOT NULL REFERENCES sessions(id)", 7),
    ("file_path", "TEXT NOT NULL", 7),
    ("content", "TEXT NOT NULL", 7),
    ("created_at", "TIMESTAMP DEFAULT CURRENT_TIMESTAMP", 7),
]
_MCP = [
    ("id", "INTEGER PRIMARY KEY AUTOINCREMENT", 1),
    ("session_id", "TEXT NOT NULL REFERENCES sessions(id)", 1),
    ("name", "TEXT NOT NULL", 1),
    ("command", "TEXT NOT NULL", 1),
    ("args_json", "TEXT", 1),
    ("env_json", "TEXT", 1),
]
_RAW = [
    ("id", "INTEGER PRIMARY KEY AUTOINCREMENT", 1),
    ("session_id", "TEXT NOT NULL REFERENCES sessions(id)", 1),
    ("event_json", "TEXT NOT NULL", 1),
    ("created_at", "TIMESTAMP DEFAULT CURRENT_TIMESTAMP", 1),
]
_SETTINGS = [
    ("id", "INTEGER PRIMARY KEY CHECK (id = 1)", 16),
    ("advanced_providers", "BOOLEAN NOT NULL DEFAULT FALSE", 16),
    ("opt_in_telemetry", "BOOLEAN DEFAULT NULL", 19),
    ("created_at", "TIMESTAMP DEFAULT CURRENT_TIMESTAMP", 16),
    ("updated_at", "TIMESTAMP DEFAULT CURRENT_TIMESTAMP", 16),
]
_TABLES = {
    "sessions": (_SESSIONS, 1),
    "conversation_events": (_EVENTS, 1),
    "mcp_servers": (_MCP, 1),
    "raw_events": (_RAW, 1),
    "approvals": (_APPROVALS, 4),
    "file_snapshots": (_SNAPSHOTS, 7),
    "user_settings": (_SETTINGS, 16),
}
# Indexes the initSchema text had (on columns every database of that table has).
_INIT_INDEXES = [
    (1, "idx_sessions_claude_session_id", "sessions (claude_session_id)"),
    (1, "idx_sessions_status", "sessions (status)"),
    (1, "idx_sessions_run_id", "sessions (run_id)"),
    (1, "idx_conversation_claude_session", "conversation_events (claude_session_id, sequence)"),
    (1, "idx_conversation_session", "conversation_events (session_id, sequence)"),
    (1, "idx_conversation_approval", "conversation_events (approval_id)"),
    (
        1,
        "idx_conversation_pending_approvals",
        "conversation_events (approval_status) WHERE approval_status = 'pending'",
    ),
    (1, "idx_mcp_servers_session", "mcp_servers (session_id)"),
    (1, "idx_raw_events_session", "raw_events (session_id, created_at)"),
]
_APPROVAL_INDEXES = [
    ("idx_approvals_pending", "approvals (status) WHERE status = 'pending'"),
    ("idx_approvals_session", "approvals (session_id)"),
    ("idx_approvals_run_id", "approvals (run_id)"),
]
_SNAPSHOT_INDEXES = [
    ("idx_file_snapshots_session_path", "file_snapshots (session_id, file_path)"),
    ("idx_file_snapshots_tool", "file_snapshots (tool_id)"),
]


@dataclass(frozen=True)
class Build:
    """One release (or branch build) of the legacy daemon."""

    version: int
    #: initSchema text has num_turns, result_content, summary.
    late_columns: bool = True
    #: The build that inserted version 3 without adding the permission columns.
    stamps_3: bool = False
    #: "A": 16 = user_settings, 17 = additional_directories; "B": the other way round.
    swap: str | None = None
    #: The version-14 backfill fails (logged, version recorded anyway).
    backfill_fails: bool = False

    def init_schema(self) -> str:
        """The initSchema script of this build."""
        statements = [
            "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, "
            "applied_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP, description TEXT)"
        ]
        for table, (spec, since) in _TABLES.items():
            if since > self.version:
                continue
            if table == "user_settings" and self.swap == "B" and self.version < 17:
                continue  # this build's user_settings came with its version 17
            cols = [f"    {name} {definition}" for name, definition in self._columns(spec)]
            statements.append(f"CREATE TABLE IF NOT EXISTS {table} (\n" + ",\n".join(cols) + "\n)")
        for since, name, target in _INIT_INDEXES:
            if since <= self.version:
                statements.append(f"CREATE INDEX IF NOT EXISTS {name} ON {target}")
        statements.append(
            "INSERT OR IGNORE INTO schema_version (version, description) "
            "VALUES (1, 'initial schema')"
        )
        return ";\n".join(statements) + ";\n"

    def _columns(self, spec: list[tuple[str, str, int]]) -> list[tuple[str, str]]:
        out = []
        for name, definition, since in spec:
            if since > self.version:
                continue
            if spec is _SESSIONS:
                if name == "total_tokens" and self.version >= 13:
                    continue
                if name in LATE_COLUMNS and not self.late_columns:
                    continue
                if name == "additional_directories" and self.swap is not None:
                    continue
                if self.stamps_3 and name in _PERMISSION_COLUMNS:
                    continue
            out.append((name, definition))
        return out

    def blocks(self) -> list[tuple[int, str, Callable[[sqlite3.Connection], None]]]:
        """The ``if current < N`` blocks this build knows, in order."""
        blocks: list[tuple[int, str, Callable[[sqlite3.Connection], None]]] = []
        for number, description, block in _BLOCKS:
            if number > self.version:
                continue
            if number == 3 and self.stamps_3:
                blocks.append((3, description, lambda conn: None))
                continue
            if number == 14 and self.backfill_fails:
                blocks.append((14, description, _block_14_without_backfill))
                continue
            if number in (16, 17, 18) and self.swap is not None:
                continue
            blocks.append((number, description, block))
        if self.swap == "A":
            blocks += [(16, "user settings", _user_settings)]
            if self.version >= 17:
                blocks.append((17, "sessions.additional_directories", _additional_directories))
        elif self.swap == "B":
            blocks += [(16, "sessions.additional_directories", _additional_directories)]
            if self.version >= 17:
                blocks.append((17, "user settings", _user_settings))
        if self.version >= 23:
            blocks.append((23, "sessions.pinned (unreleased branch)", _block_23))
        return sorted(blocks, key=lambda b: b[0])


def _has_column(conn: sqlite3.Connection, table: str, column: str) -> bool:
    return (
        conn.execute(
            "SELECT 1 FROM pragma_table_info(?) WHERE name = ?", (table, column)
        ).fetchone()
        is not None
    )


def _add(conn: sqlite3.Connection, table: str, column: str, definition: str) -> None:
    if not _has_column(conn, table, column):
        conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} {definition}")


def _adder(*columns: tuple[str, str, str]) -> Callable[[sqlite3.Connection], None]:
    def block(conn: sqlite3.Connection) -> None:
        for table, column, definition in columns:
            _add(conn, table, column, definition)

    return block


def _create_table(conn: sqlite3.Connection, table: str, version: int) -> None:
    spec, _ = _TABLES[table]
    cols = [f"{name} {definition}" for name, definition, since in spec if since <= version]
    conn.execute(f"CREATE TABLE IF NOT EXISTS {table} ({', '.join(cols)})")


def _block_4(conn: sqlite3.Connection) -> None:
    _create_table(conn, "approvals", 4)
    for name, target in _APPROVAL_INDEXES:
        conn.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {target}")


def _block_5(conn: sqlite3.Connection) -> None:
    conn.execute(
        "CREATE INDEX IF NOT EXISTS idx_sessions_parent_session_id ON sessions (parent_session_id)"
    )


def _block_6(conn: sqlite3.Connection) -> None:
    _add(conn, "conversation_events", "parent_tool_use_id", "TEXT")
    conn.execute(
        "CREATE INDEX IF NOT EXISTS idx_conversation_parent_tool_use_id ON conversation_events "
        "(parent_tool_use_id) WHERE parent_tool_use_id IS NOT NULL"
    )


def _block_7(conn: sqlite3.Connection) -> None:
    _create_table(conn, "file_snapshots", 7)
    for name, target in _SNAPSHOT_INDEXES:
        conn.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {target}")


def _block_9(conn: sqlite3.Connection) -> None:
    _add(conn, "sessions", "archived", "BOOLEAN DEFAULT FALSE")
    conn.execute("CREATE INDEX IF NOT EXISTS idx_sessions_archived ON sessions (archived)")


def _block_14_without_backfill(conn: sqlite3.Connection) -> None:
    _add(conn, "approvals", "tool_use_id", "TEXT")
    conn.execute(
        "CREATE INDEX IF NOT EXISTS idx_approvals_tool_use_id ON approvals (tool_use_id) "
        "WHERE tool_use_id IS NOT NULL"
    )


def _block_14(conn: sqlite3.Connection) -> None:
    _block_14_without_backfill(conn)
    conn.execute(
        "UPDATE approvals SET tool_use_id = (SELECT tool_id FROM conversation_events "
        "WHERE approval_id = approvals.id AND tool_id IS NOT NULL ORDER BY id LIMIT 1) "
        "WHERE tool_use_id IS NULL"
    )


def _user_settings(conn: sqlite3.Connection) -> None:
    _create_table(conn, "user_settings", 16)
    conn.execute("INSERT OR IGNORE INTO user_settings (id) VALUES (1)")


def _additional_directories(conn: sqlite3.Connection) -> None:
    _add(conn, "sessions", "additional_directories", "TEXT")


def _block_18(conn: sqlite3.Connection) -> None:
    _user_settings(conn)
    _additional_directories(conn)


def _block_22(conn: sqlite3.Connection) -> None:
    conn.execute("CREATE INDEX IF NOT EXISTS idx_sessions_title ON sessions (title)")
    conn.execute(
        "CREATE INDEX IF NOT EXISTS idx_sessions_last_activity ON sessions (last_activity_at DESC)"
    )


def _block_23(conn: sqlite3.Connection) -> None:
    _add(conn, "sessions", "pinned", "BOOLEAN DEFAULT 0")


_PERMISSIONS = tuple(("sessions", c, "TEXT") for c in _PERMISSION_COLUMNS)
_BLOCKS: list[tuple[int, str, Callable[[sqlite3.Connection], None]]] = [
    (3, "session permission settings", _adder(*_PERMISSIONS)),
    (4, "approvals", _block_4),
    (5, "index on parent_session_id", _block_5),
    (6, "conversation_events.parent_tool_use_id", _block_6),
    (7, "file snapshots", _block_7),
    (
        8,
        "sessions.auto_accept_edits",
        _adder(("sessions", "auto_accept_edits", "BOOLEAN DEFAULT 0")),
    ),
    (9, "sessions.archived", _block_9),
    (10, "sessions.title", _adder(("sessions", "title", "TEXT DEFAULT ''"))),
    (
        11,
        "sessions.dangerously_skip_permissions",
        _adder(
            ("sessions", "dangerously_skip_permissions", "BOOLEAN DEFAULT 0"),
            ("sessions", "dangerously_skip_permissions_expires_at", "TIMESTAMP"),
        ),
    ),
    (12, "sessions.model_id", _adder(("sessions", "model_id", "TEXT"))),
    (
        13,
        "sessions token usage",
        _adder(
            *(
                ("sessions", c, "INTEGER")
                for c in (
                    "input_tokens",
                    "output_tokens",
                    "cache_creation_input_tokens",
                    "cache_read_input_tokens",
                    "effective_context_tokens",
                )
            )
        ),
    ),
    (14, "approvals.tool_use_id", _block_14),
    (
        15,
        "sessions proxy settings",
        _adder(
            ("sessions", "proxy_enabled", "BOOLEAN DEFAULT 0"),
            ("sessions", "proxy_base_url", "TEXT"),
            ("sessions", "proxy_model_override", "TEXT"),
            ("sessions", "proxy_api_key", "TEXT DEFAULT ''"),
        ),
    ),
    (16, "user settings", _user_settings),
    (18, "repair: user_settings and sessions.additional_directories", _block_18),
    (
        19,
        "user_settings.opt_in_telemetry",
        _adder(("user_settings", "opt_in_telemetry", "BOOLEAN DEFAULT NULL")),
    ),
    (20, "sessions.editor_state", _adder(("sessions", "editor_state", "TEXT"))),
    (
        21,
        "sessions.dangerously_skip_permissions_timeout_ms",
        _adder(("sessions", "dangerously_skip_permissions_timeout_ms", "INTEGER")),
    ),
    (22, "indexes on sessions title and last activity", _block_22),
]


def boot(path: str | os.PathLike[str], build: Build) -> None:
    """Start the legacy daemon of *build* on the file once, as it did, then stop it."""
    conn = sqlite3.connect(os.fspath(path), isolation_level=None)
    try:
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA journal_mode = WAL")
        conn.executescript(build.init_schema())
        current = conn.execute("SELECT MAX(version) FROM schema_version").fetchone()[0]
        for number, description, block in build.blocks():
            if current < number:
                block(conn)  # outside any transaction, as the legacy code ran them
                conn.execute(
                    "INSERT OR IGNORE INTO schema_version (version, description) VALUES (?, ?)",
                    (number, description),
                )
    finally:
        conn.close()


# -- rows -------------------------------------------------------------------------------


def _columns_of(conn: sqlite3.Connection, table: str) -> list[str]:
    return [row[1] for row in conn.execute(f"PRAGMA table_info({table})")]


def _tables(conn: sqlite3.Connection) -> set[str]:
    return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def _value(table: str, column: str, stage: str, i: int) -> object:
    """A distinct, plausible value for every column, so a lost or moved value shows."""
    n = sum(map(ord, f"{table}{column}{stage}")) + i
    if column.endswith(("_at", "expires_at")):
        return f"2024-{1 + n % 12:02d}-{1 + n % 28:02d} {n % 24:02d}:{n % 60:02d}:00"
    if column in ("allowed_tools", "disallowed_tools", "additional_directories"):
        return f'["{column}-{stage}-{i}", "Read"]'
    if column in ("auto_accept_edits", "archived", "dangerously_skip_permissions", "pinned"):
        return n % 2
    if column in ("proxy_enabled", "is_completed"):
        return 1 - n % 2
    if column == "cost_usd":
        return round(n / 97, 4)
    if column.endswith(("tokens", "_ms", "turns", "max_turns", "sequence")):
        return n * 13
    if column in ("title",):
        return f"Session {stage} {i}: fix the flaky {column} test"
    if column in ("query",):
        return f"please refactor module {stage}{i} and keep the tests green"
    return f"{table}.{column} {stage}/{i}"


def populate(path: str | os.PathLike[str], stage: str, *, orphan: bool = False) -> None:
    """Write rows into every table the database has now, as the daemon of that build would.

    Two sessions (the second a child of the first), their events (one asks for an
    approval), an approval, a file snapshot, an MCP server, raw events (the last one
    deleted again, so sqlite_sequence runs ahead of MAX(id)), and the settings row.
    *orphan*: also an event whose session was deleted by a connection without foreign
    keys, as the legacy pool's other connections did.
    """
    conn = sqlite3.connect(os.fspath(path), isolation_level=None)
    try:
        tables = _tables(conn)

        def insert(table: str, fixed: dict[str, object], i: int) -> int:
            cols = [
                c
                for c in _columns_of(conn, table)
                if c != "id" or table in ("sessions", "approvals")
            ]
            values = {c: fixed.get(c, _value(table, c, stage, i)) for c in cols}
            marks = ", ".join("?" * len(values))
            cursor = conn.execute(
                f"INSERT INTO {table} ({', '.join(values)}) VALUES ({marks})",
                tuple(values.values()),
            )
            return int(cursor.lastrowid or 0)

        sessions = [f"session-{stage}-{i}" for i in (1, 2)]
        for i, sid in enumerate(sessions, 1):
            insert(
                "sessions",
                {
                    "id": sid,
                    "run_id": f"run-{stage}-{i}",
                    "parent_session_id": sessions[0] if i == 2 else None,
                    "status": "completed" if i == 1 else "running",
                },
                i,
            )
        for i, sid in enumerate(sessions, 1):
            approval = f"approval-{stage}-{i}"
            insert(
                "conversation_events",
                {"session_id": sid, "sequence": 1, "approval_id": None, "approval_status": None},
                i,
            )
            insert(
                "conversation_events",
                {
                    "session_id": sid,
                    "sequence": 2,
                    "tool_id": f"toolu-{stage}-{i}",
                    "approval_id": approval,
                    "approval_status": "pending" if i == 1 else "approved",
                },
                i + 10,
            )
            if "approvals" in tables:
                insert(
                    "approvals",
                    {
                        "id": approval,
                        "session_id": sid,
                        "run_id": f"run-{stage}-{i}",
                        "status": "pending" if i == 1 else "approved",
                        # Left for the backfill (or already filled by it): see 0014.
                        "tool_use_id": None,
                    },
                    i,
                )
            if "file_snapshots" in tables:
                insert("file_snapshots", {"session_id": sid, "tool_id": f"toolu-{stage}-{i}"}, i)
            insert("mcp_servers", {"session_id": sid}, i)
            insert("raw_events", {"session_id": sid}, i)
        last = insert("raw_events", {"session_id": sessions[0]}, 99)
        conn.execute("DELETE FROM raw_events WHERE id = ?", (last,))
        if "user_settings" in tables:
            columns = _columns_of(conn, "user_settings")
            conn.execute("UPDATE user_settings SET advanced_providers = 1 WHERE id = 1")
            if "opt_in_telemetry" in columns:
                conn.execute("UPDATE user_settings SET opt_in_telemetry = 0 WHERE id = 1")
        if orphan:
            # The pool's other connections did not enforce foreign keys.
            gone = f"session-{stage}-gone"
            insert(
                "sessions",
                {"id": gone, "run_id": f"run-{stage}-gone", "parent_session_id": None},
                7,
            )
            insert(
                "conversation_events", {"session_id": gone, "sequence": 1, "approval_id": None}, 7
            )
            conn.execute("DELETE FROM sessions WHERE id = ?", (gone,))
    finally:
        conn.close()


# -- the shapes found in the wild ---------------------------------------------------------

_EARLY_1 = Build(1, late_columns=False)
_LATE_1 = Build(1)


def _stages(*steps: tuple[Build, bool]) -> Callable[[Path], None]:
    def make(path: Path) -> None:
        for number, (build, orphan) in enumerate(steps, 1):
            boot(path, build)
            populate(path, f"b{build.version}s{number}", orphan=orphan)

    return make


#: name -> (what it is, how to build it). Every shape is in WAL mode with rows everywhere.
SHAPES: dict[str, tuple[str, Callable[[Path], None]]] = {
    "v1-early": (
        "version 1 from before num_turns, result_content and summary existed",
        _stages((_EARLY_1, False)),
    ),
    "v1-late": ("version 1 created with the late-added columns", _stages((_LATE_1, True))),
    "stamped-3": (
        "a version-1 file booted by the build that stamped 3 without the permission columns",
        _stages((_EARLY_1, False), (Build(3, stamps_3=True), False)),
    ),
    "upgraded-13": (
        "version 1 upgraded to 13 (keeps total_tokens)",
        _stages((_LATE_1, False), (Build(13), True)),
    ),
    "swapped-17": (
        "at 17 with rows 16 and 17 both for user settings, no additional_directories",
        _stages((_LATE_1, False), (Build(16, swap="A"), False), (Build(17, swap="B"), False)),
    ),
    "built-17": (
        "at 17 by the build whose 17 added additional_directories: really at 18",
        _stages((_LATE_1, False), (Build(16, swap="A"), False), (Build(17, swap="A"), False)),
    ),
    "built-16b": (
        "at 16 by the build whose 16 added additional_directories: no user_settings",
        _stages((_LATE_1, False), (Build(16, swap="B"), False)),
    ),
    "fresh-22": ("version 22 created fresh by the last legacy build", _stages((Build(22), True))),
    "upgraded-22": (
        "version 1 upgraded through 13 to 22, the version-14 backfill failed",
        _stages((_LATE_1, False), (Build(13), False), (Build(22, backfill_fails=True), True)),
    ),
    "early-22": (
        "a version-1 file without the late columns, upgraded straight to 22",
        _stages((_EARLY_1, False), (Build(22), False)),
    ),
    "legacy-23": (
        "version 23, written by an unreleased build",
        _stages((Build(22), False), (Build(23), False)),
    ),
}


def build(path: str | os.PathLike[str], shape: str) -> Path:
    """Write a fresh database of *shape* (a key of :data:`SHAPES`) at *path*."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    SHAPES[shape][1](target)
    return target


# -- reading the rows back ----------------------------------------------------------------

#: table -> {row key: {column: value}}
Rows = dict[str, dict[tuple[Any, ...], dict[str, Any]]]

# Not data: bootmigrate's ledger, and the search index (checked on its own).
_SKIP_PREFIXES = ("bootmigrate_", "sessions_search")


def read_rows(path: str | os.PathLike[str]) -> Rows:
    """Every table's rows keyed by primary key (by rowid for tables without one).

    sqlite_sequence is included: a takeover must keep each AUTOINCREMENT counter.
    """
    conn = sqlite3.connect(f"file:{os.fspath(path)}?mode=ro", uri=True)
    try:
        tables = [
            name
            for (name,) in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
            )
            if name == "sqlite_sequence"
            or not (name.startswith("sqlite_") or name.startswith(_SKIP_PREFIXES))
        ]
        rows: Rows = {}
        for table in tables:
            info = conn.execute(f'PRAGMA table_info("{table}")').fetchall()
            columns = [row[1] for row in info]
            key = [row[1] for row in sorted(info, key=lambda r: r[5]) if row[5]] or ["name"]
            listed = ", ".join(f'"{c}"' for c in columns)
            rows[table] = {}
            for values in conn.execute(f'SELECT {listed} FROM "{table}"'):
                row = dict(zip(columns, values))
                rows[table][tuple(row[k] for k in key)] = row
        return rows
    finally:
        conn.close()


# -- python tests/support/legacy_store.py PATH [SHAPE] ----------------------------------------


def main(argv: list[str]) -> int:
    """Write a legacy daemon database of SHAPE (default stamped-3) at PATH."""
    if (
        not argv
        or argv[0] in ("-h", "--help")
        or len(argv) > 2
        or (len(argv) == 2 and argv[1] not in SHAPES)
    ):
        print("usage: python tests/support/legacy_store.py PATH [SHAPE]\nshapes:", file=sys.stderr)
        for name, (what, _) in SHAPES.items():
            print(f"  {name:12} {what}", file=sys.stderr)
        return 2
    shape = argv[1] if len(argv) == 2 else "stamped-3"
    path = build(argv[0], shape)
    print(f"{path}: built a legacy database ({shape}: {SHAPES[shape][0]})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
