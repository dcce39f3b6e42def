"""The rows of the store as typed, immutable records; one class per table.

The field order is the table's column order, and every query names its columns from
these fields (``columns(Session)``), so a column added by a migration has to be added
here too (tests/test_sessionstore.py compares the fields with the schema).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, TypeVar

_R = TypeVar("_R")


@dataclass(frozen=True)
class Session:
    """One agent run: what was asked, how it is configured, what it cost and returned."""

    id: str
    run_id: str
    claude_session_id: str | None
    parent_session_id: str | None
    title: str | None
    query: str
    summary: str | None
    status: str
    archived: bool | None
    model: str | None
    model_id: str | None
    working_dir: str | None
    #: JSON text: extra directories the session may touch.
    additional_directories: str | None
    max_turns: int | None
    system_prompt: str | None
    append_system_prompt: str | None
    custom_instructions: str | None
    permission_prompt_tool: str | None
    #: JSON text: tool names.
    allowed_tools: str | None
    #: JSON text: tool names.
    disallowed_tools: str | None
    auto_accept_edits: bool | None
    dangerously_skip_permissions: bool | None
    dangerously_skip_permissions_expires_at: str | None
    dangerously_skip_permissions_timeout_ms: int | None
    proxy_enabled: bool | None
    proxy_base_url: str | None
    proxy_model_override: str | None
    #: Stored in plain text, as the legacy daemon stored it.
    proxy_api_key: str | None
    editor_state: str | None
    created_at: str
    last_activity_at: str
    completed_at: str | None
    num_turns: int | None
    duration_ms: int | None
    cost_usd: float | None
    input_tokens: int | None
    output_tokens: int | None
    cache_creation_input_tokens: int | None
    cache_read_input_tokens: int | None
    effective_context_tokens: int | None
    result_content: str | None
    error_message: str | None


@dataclass(frozen=True)
class ConversationEvent:
    """One event of a session's conversation: a message, a tool call or its result."""

    id: int
    session_id: str
    claude_session_id: str | None
    sequence: int
    event_type: str
    created_at: str | None
    role: str | None
    content: str | None
    tool_id: str | None
    tool_name: str | None
    tool_input_json: str | None
    tool_result_for_id: str | None
    tool_result_content: str | None
    parent_tool_use_id: str | None
    is_completed: bool | None
    approval_status: str | None
    approval_id: str | None


@dataclass(frozen=True)
class Approval:
    """A tool use waiting for (or given) the user's approval."""

    id: str
    run_id: str
    session_id: str
    tool_use_id: str | None
    tool_name: str
    #: JSON text.
    tool_input: str
    #: ``pending``, ``approved`` or ``denied``.
    status: str
    comment: str | None
    created_at: str
    responded_at: str | None


@dataclass(frozen=True)
class FileSnapshot:
    """A file's content as a tool saw it."""

    id: int
    tool_id: str
    session_id: str
    file_path: str
    content: str
    created_at: str | None
    #: SHA-256 (hex) of the content's UTF-8 text (migration 0026); None for a row an
    #: older release wrote.
    content_sha256: str | None


@dataclass(frozen=True)
class McpServer:
    """An MCP server a session was started with."""

    id: int
    session_id: str
    name: str
    command: str
    args_json: str | None
    env_json: str | None


@dataclass(frozen=True)
class RawEvent:
    """An event as the agent emitted it, kept verbatim."""

    id: int
    session_id: str
    event_json: str
    created_at: str | None


@dataclass(frozen=True)
class UserSettings:
    """The single settings row."""

    id: int
    advanced_providers: bool
    #: None: the user was not asked yet.
    opt_in_telemetry: bool | None
    created_at: str | None
    updated_at: str | None


#: Record class -> table.
TABLES: dict[type[Any], str] = {
    Session: "sessions",
    ConversationEvent: "conversation_events",
    Approval: "approvals",
    FileSnapshot: "file_snapshots",
    McpServer: "mcp_servers",
    RawEvent: "raw_events",
    UserSettings: "user_settings",
}


def columns(record: type[Any]) -> tuple[str, ...]:
    """The record's columns, in table order."""
    return tuple(f.name for f in dataclasses.fields(record))


def select_list(record: type[Any], alias: str = "") -> str:
    """``id, run_id, ...`` for a SELECT (prefixed with ``alias.`` when given)."""
    prefix = f"{alias}." if alias else ""
    return ", ".join(prefix + name for name in columns(record))


def from_row(record: type[_R], row: tuple[Any, ...]) -> _R:
    """Build a record from a row selected with :func:`select_list`; 0/1 become booleans."""
    values = [
        bool(value) if value is not None and _is_bool(f) else value
        for f, value in zip(dataclasses.fields(record), row)  # type: ignore[arg-type]
    ]
    return record(*values)


def _is_bool(field: dataclasses.Field[Any]) -> bool:
    return str(field.type).startswith("bool")
