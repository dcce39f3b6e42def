"""The store: one SQLite connection, migrated on open, and a typed API over its tables."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import bootmigrate

from ._legacy import BASELINE, MIGRATIONS
from ._models import (
    Approval,
    ConversationEvent,
    FileSnapshot,
    McpServer,
    RawEvent,
    Session,
    UserSettings,
    columns,
    from_row,
    select_list,
)

_R = TypeVar("_R")

#: How long a statement waits for another connection's lock, in seconds.
BUSY_TIMEOUT = 5.0

_SESSION_COLUMNS = frozenset(columns(Session))
_EVENT_COLUMNS = frozenset(columns(ConversationEvent))


class NotFound(LookupError):
    """No row has the id asked for."""


def open(path: str | os.PathLike[str], *, timeout: float = BUSY_TIMEOUT) -> Store:
    """Open the store at *path*, creating its directory and file if needed.

    The database is migrated before anything else: a new file gets the whole schema, a
    file left by the legacy daemon is taken over (see ``sessionstore._legacy``), and one
    from a newer release is refused with a :class:`bootmigrate.MigrationError` and left
    unchanged. :attr:`Store.migration` says what happened.
    """
    path = Path(path).expanduser()
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(os.fspath(path), timeout=timeout, isolation_level=None)
    try:
        conn.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
        # Legacy files can hold rows whose session was deleted by a connection that did
        # not enforce foreign keys (only one of the legacy pool's did). They are kept:
        # bootmigrate turns enforcement off for the run and refuses only violations
        # that the run itself adds.
        conn.execute("PRAGMA foreign_keys = ON")
        report = bootmigrate.migrate(conn, MIGRATIONS, timeout=timeout, baseline=BASELINE)
        # After the migration, so a refused file is not touched at all.
        conn.execute("PRAGMA journal_mode = WAL")
    except BaseException:
        conn.close()
        raise
    return Store(conn, path, report)


class Store:
    """The session store. Use :func:`open`; close it (or use ``with``) when done."""

    def __init__(self, conn: sqlite3.Connection, path: Path, migration: bootmigrate.Report):
        self._conn = conn
        #: The database file.
        self.path = path
        #: What :func:`open` did to the database.
        self.migration = migration

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection."""
        self._conn.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            yield self._conn
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        self._conn.execute("COMMIT")

    def _one(self, record: type[_R], where: str, params: Sequence[Any]) -> _R:
        table = _table(record)
        row = self._conn.execute(
            f"SELECT {select_list(record)} FROM {table} WHERE {where}", params
        ).fetchone()
        if row is None:
            raise NotFound(f"no row in {table} where {where} {tuple(params)!r}")
        return from_row(record, row)

    def _all(
        self, record: type[_R], sql: str, params: Sequence[Any] | Mapping[str, Any] = ()
    ) -> list[_R]:
        return [from_row(record, row) for row in self._conn.execute(sql, params)]

    def _insert(self, table: str, values: dict[str, Any]) -> int:
        names = ", ".join(values)
        marks = ", ".join("?" for _ in values)
        cursor = self._conn.execute(
            f"INSERT INTO {table} ({names}) VALUES ({marks})", tuple(values.values())
        )
        return int(cursor.lastrowid or 0)

    # -- sessions ------------------------------------------------------------------

    def create_session(
        self, query: str, *, id: str | None = None, run_id: str | None = None, **fields: Any
    ) -> Session:
        """Create a session and return it; *fields* are any other :class:`Session` columns."""
        _check_names(fields, _SESSION_COLUMNS, "Session")
        values = {"id": id or uuid.uuid4().hex, "run_id": run_id or uuid.uuid4().hex}
        values.update(query=query, **fields)
        self._insert("sessions", values)
        return self.get_session(values["id"])

    def get_session(self, session_id: str) -> Session:
        """The session with this id; :class:`NotFound` if there is none."""
        return self._one(Session, "id = ?", (session_id,))

    def list_sessions(
        self,
        *,
        status: str | None = None,
        archived: bool | None = False,
        parent_session_id: str | None = None,
        working_dir: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[Session]:
        """Sessions, most recently active first. ``archived=None`` lists both kinds."""
        where: list[str] = ["1 = 1"]
        params: list[Any] = []
        for column, value in (
            ("status", status),
            ("parent_session_id", parent_session_id),
            ("working_dir", working_dir),
        ):
            if value is not None:
                where.append(f"{column} = ?")
                params.append(value)
        if archived is not None:
            where.append("COALESCE(archived, 0) = ?")
            params.append(int(archived))
        return self._all(
            Session,
            f"SELECT {select_list(Session)} FROM sessions WHERE {' AND '.join(where)} "
            "ORDER BY last_activity_at DESC, rowid DESC LIMIT ? OFFSET ?",
            (*params, limit, offset),
        )

    def update_session(self, session_id: str, **fields: Any) -> Session:
        """Change some columns of a session and mark it active now; returns it."""
        _check_names(fields, _SESSION_COLUMNS - {"id"}, "Session")
        assignments = "".join(f"{name} = ?, " for name in fields)
        cursor = self._conn.execute(
            f"UPDATE sessions SET {assignments}last_activity_at = CURRENT_TIMESTAMP WHERE id = ?",
            (*fields.values(), session_id),
        )
        if cursor.rowcount == 0:
            raise NotFound(f"no session {session_id!r}")
        return self.get_session(session_id)

    def archive_session(self, session_id: str, archived: bool = True) -> Session:
        """Archive (or unarchive) a session: it leaves the default listings and searches."""
        cursor = self._conn.execute(
            "UPDATE sessions SET archived = ? WHERE id = ?", (int(archived), session_id)
        )
        if cursor.rowcount == 0:
            raise NotFound(f"no session {session_id!r}")
        return self.get_session(session_id)

    def search_sessions(
        self, text: str, *, include_archived: bool = False, limit: int = 20
    ) -> list[Session]:
        """Sessions whose title or query contain every word of *text* (prefixes match).

        Uses the full-text index; best matches first. *text* is taken as plain words,
        never as FTS5 query syntax.
        """
        words = text.split()
        if not words:
            return []
        match = " ".join('"' + word.replace('"', '""') + '"*' for word in words)
        archived = "" if include_archived else "AND COALESCE(s.archived, 0) = 0 "
        return self._all(
            Session,
            f"SELECT {select_list(Session, 's')} FROM sessions_search AS f "
            "JOIN sessions AS s ON s.id = f.session_id "
            f"WHERE sessions_search MATCH ? {archived}ORDER BY f.rank LIMIT ?",
            (match, limit),
        )

    # -- conversation events ---------------------------------------------------------

    def add_event(
        self, session_id: str, *, sequence: int, event_type: str, **fields: Any
    ) -> ConversationEvent:
        """Append an event to a session's conversation and mark the session active."""
        _check_names(fields, _EVENT_COLUMNS - {"id"}, "ConversationEvent")
        with self._transaction():
            event_id = self._insert(
                "conversation_events",
                {"session_id": session_id, "sequence": sequence, "event_type": event_type} | fields,
            )
            self._conn.execute(
                "UPDATE sessions SET last_activity_at = CURRENT_TIMESTAMP WHERE id = ?",
                (session_id,),
            )
        return self._one(ConversationEvent, "id = ?", (event_id,))

    def list_events(self, session_id: str) -> list[ConversationEvent]:
        """A session's events in conversation order."""
        return self._all(
            ConversationEvent,
            f"SELECT {select_list(ConversationEvent)} FROM conversation_events "
            "WHERE session_id = ? ORDER BY sequence, id",
            (session_id,),
        )

    # -- approvals -------------------------------------------------------------------

    def create_approval(
        self,
        session_id: str,
        *,
        run_id: str,
        tool_name: str,
        tool_input: str,
        tool_use_id: str | None = None,
        id: str | None = None,
    ) -> Approval:
        """Ask for approval of a tool use; the approval starts ``pending``."""
        approval_id = id or uuid.uuid4().hex
        self._insert(
            "approvals",
            {
                "id": approval_id,
                "run_id": run_id,
                "session_id": session_id,
                "tool_use_id": tool_use_id,
                "tool_name": tool_name,
                "tool_input": tool_input,
                "status": "pending",
            },
        )
        return self.get_approval(approval_id)

    def get_approval(self, approval_id: str) -> Approval:
        """The approval with this id; :class:`NotFound` if there is none."""
        return self._one(Approval, "id = ?", (approval_id,))

    def list_approvals(
        self, *, session_id: str | None = None, status: str | None = None
    ) -> list[Approval]:
        """Approvals, oldest first, optionally of one session and/or one status."""
        return self._all(
            Approval,
            f"SELECT {select_list(Approval)} FROM approvals "
            "WHERE (:session_id IS NULL OR session_id = :session_id) "
            "AND (:status IS NULL OR status = :status) ORDER BY created_at, id",
            {"session_id": session_id, "status": status},
        )

    def respond_to_approval(
        self, approval_id: str, *, approved: bool, comment: str | None = None
    ) -> Approval:
        """Record the user's answer to a pending approval."""
        cursor = self._conn.execute(
            "UPDATE approvals SET status = ?, comment = ?, responded_at = CURRENT_TIMESTAMP "
            "WHERE id = ? AND status = 'pending'",
            ("approved" if approved else "denied", comment, approval_id),
        )
        if cursor.rowcount == 0:
            raise NotFound(f"no pending approval {approval_id!r}")
        return self.get_approval(approval_id)

    # -- file snapshots, MCP servers, raw events ------------------------------------

    def add_file_snapshot(
        self, session_id: str, *, tool_id: str, file_path: str, content: str
    ) -> FileSnapshot:
        """Keep a file's content as the tool *tool_id* saw it."""
        snapshot_id = self._insert(
            "file_snapshots",
            {
                "tool_id": tool_id,
                "session_id": session_id,
                "file_path": file_path,
                "content": content,
                "content_sha256": _sha256(content),
            },
        )
        return self._one(FileSnapshot, "id = ?", (snapshot_id,))

    def has_file_snapshot(self, session_id: str, file_path: str, content: str) -> bool:
        """True when the session already keeps this exact content of *file_path* (found
        by its digest; a row an older release wrote without one is compared by content)."""
        found = self._conn.execute(
            "SELECT 1 FROM file_snapshots WHERE session_id = ? AND file_path = ? AND "
            "(content_sha256 = ? OR (content_sha256 IS NULL AND content = ?)) LIMIT 1",
            (session_id, file_path, _sha256(content), content),
        ).fetchone()
        return found is not None

    def list_file_snapshots(
        self, session_id: str, *, file_path: str | None = None
    ) -> list[FileSnapshot]:
        """A session's snapshots, oldest first, optionally of one file."""
        return self._all(
            FileSnapshot,
            f"SELECT {select_list(FileSnapshot)} FROM file_snapshots "
            "WHERE session_id = :session_id AND (:file_path IS NULL OR file_path = :file_path) "
            "ORDER BY id",
            {"session_id": session_id, "file_path": file_path},
        )

    def add_mcp_server(
        self,
        session_id: str,
        *,
        name: str,
        command: str,
        args_json: str | None = None,
        env_json: str | None = None,
    ) -> McpServer:
        """Record an MCP server the session runs with."""
        server_id = self._insert(
            "mcp_servers",
            {
                "session_id": session_id,
                "name": name,
                "command": command,
                "args_json": args_json,
                "env_json": env_json,
            },
        )
        return self._one(McpServer, "id = ?", (server_id,))

    def list_mcp_servers(self, session_id: str) -> list[McpServer]:
        """A session's MCP servers."""
        return self._all(
            McpServer,
            f"SELECT {select_list(McpServer)} FROM mcp_servers WHERE session_id = ? ORDER BY id",
            (session_id,),
        )

    def add_raw_event(self, session_id: str, event_json: str) -> RawEvent:
        """Keep an event verbatim."""
        event_id = self._insert("raw_events", {"session_id": session_id, "event_json": event_json})
        return self._one(RawEvent, "id = ?", (event_id,))

    def list_raw_events(self, session_id: str) -> list[RawEvent]:
        """A session's raw events, oldest first."""
        return self._all(
            RawEvent,
            f"SELECT {select_list(RawEvent)} FROM raw_events WHERE session_id = ? ORDER BY id",
            (session_id,),
        )

    # -- overview --------------------------------------------------------------------

    def counts(self) -> dict[str, int]:
        """How many rows each table holds."""
        tables = (
            "sessions",
            "conversation_events",
            "approvals",
            "file_snapshots",
            "mcp_servers",
            "raw_events",
        )
        return {
            table: int(self._conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])
            for table in tables
        }

    def describe(self) -> str:
        """One line about what the store holds, for people."""
        counts = self.counts()
        archived = self._conn.execute(
            "SELECT COUNT(*) FROM sessions WHERE COALESCE(archived, 0) != 0"
        ).fetchone()[0]
        pending = len(self.list_approvals(status="pending"))
        settings = self.settings()
        telemetry = {None: "not asked", True: "on", False: "off"}[settings.opt_in_telemetry]
        return (
            f"{self.path}: {counts['sessions']} session(s) ({archived} archived), "
            f"{counts['conversation_events']} event(s), {counts['approvals']} approval(s) "
            f"({pending} pending), {counts['file_snapshots']} file snapshot(s), "
            f"{counts['mcp_servers']} MCP server(s), {counts['raw_events']} raw event(s); "
            f"telemetry {telemetry}"
        )

    # -- settings --------------------------------------------------------------------

    def settings(self) -> UserSettings:
        """The settings row."""
        return self._one(UserSettings, "id = 1", ())

    def update_settings(
        self,
        *,
        advanced_providers: bool | None = None,
        opt_in_telemetry: bool | None = None,
    ) -> UserSettings:
        """Change the given settings (None leaves one as it is)."""
        changes = {
            name: int(value)
            for name, value in (
                ("advanced_providers", advanced_providers),
                ("opt_in_telemetry", opt_in_telemetry),
            )
            if value is not None
        }
        if changes:
            assignments = "".join(f"{name} = ?, " for name in changes)
            self._conn.execute(
                f"UPDATE user_settings SET {assignments}updated_at = CURRENT_TIMESTAMP "
                "WHERE id = 1",
                tuple(changes.values()),
            )
        return self.settings()


def _table(record: type[Any]) -> str:
    from ._models import TABLES

    return TABLES[record]


def _check_names(fields: dict[str, Any], allowed: frozenset[str], record: str) -> None:
    unknown = sorted(set(fields) - allowed)
    if unknown:
        raise TypeError(f"{record} has no column(s) {', '.join(unknown)}")


def _sha256(content: str) -> str:
    """The digest migration 0026 stores for a snapshot's content."""
    return hashlib.sha256(content.encode("utf-8")).hexdigest()
