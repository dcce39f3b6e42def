"""The store's API: every column of every table goes in and comes back out, on a file."""

from __future__ import annotations

import dataclasses
import hashlib
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import bootmigrate
import sessionstore
from dbfiles import REPO
from processes import SUPPORT
from sessionstore._models import TABLES, columns


def _table_columns(path: Path, table: str) -> tuple[str, ...]:
    conn = sqlite3.connect(path)
    try:
        return tuple(row[1] for row in conn.execute(f"PRAGMA table_info({table})"))
    finally:
        conn.close()


def _raw(path: Path, table: str, key: str, value: Any) -> dict[str, Any]:
    conn = sqlite3.connect(path)
    try:
        conn.row_factory = sqlite3.Row
        row = conn.execute(f"SELECT * FROM {table} WHERE {key} = ?", (value,)).fetchone()
        return dict(row)
    finally:
        conn.close()


# A distinct value for every settable session column.
SESSION_VALUES: dict[str, Any] = {
    "claude_session_id": "claude-1",
    "parent_session_id": None,
    "title": "Flaky login test",
    "summary": "made the login test deterministic",
    "status": "completed",
    "archived": False,
    "model": "sonnet",
    "model_id": "claude-sonnet-4",
    "working_dir": "/home/me/project",
    "additional_directories": '["/home/me/lib"]',
    "max_turns": 40,
    "system_prompt": "be brief",
    "append_system_prompt": "and careful",
    "custom_instructions": "use pytest",
    "permission_prompt_tool": "mcp__approve",
    "allowed_tools": '["Read", "Edit"]',
    "disallowed_tools": '["Bash"]',
    "auto_accept_edits": True,
    "dangerously_skip_permissions": True,
    "dangerously_skip_permissions_expires_at": "2026-01-02 03:04:05",
    "dangerously_skip_permissions_timeout_ms": 60000,
    "proxy_enabled": True,
    "proxy_base_url": "http://localhost:8080",
    "proxy_model_override": "local-model",
    "proxy_api_key": "sk-plain",
    "editor_state": '{"cursor": 3}',
    "created_at": "2026-01-01 10:00:00",
    "completed_at": "2026-01-01 11:00:00",
    "num_turns": 7,
    "duration_ms": 12345,
    "cost_usd": 0.125,
    "input_tokens": 1000,
    "output_tokens": 200,
    "cache_creation_input_tokens": 30,
    "cache_read_input_tokens": 40,
    "effective_context_tokens": 1270,
    "result_content": "done",
    "error_message": None,
}


def test_every_record_class_matches_its_table(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    sessionstore.open(path).close()
    for record, table in TABLES.items():
        assert columns(record) == _table_columns(path, table), table


def test_every_column_of_every_table_reads_back(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    with sessionstore.open(path) as store:
        session = store.create_session("fix the flaky test", id="s1", run_id="r1", **SESSION_VALUES)
        event = store.add_event(
            "s1",
            sequence=1,
            event_type="tool_call",
            claude_session_id="claude-1",
            created_at="2026-01-01 10:00:01",
            role="assistant",
            content="calling a tool",
            tool_id="toolu-1",
            tool_name="Edit",
            tool_input_json='{"path": "a.py"}',
            tool_result_for_id="toolu-0",
            tool_result_content="ok",
            parent_tool_use_id="toolu-parent",
            is_completed=True,
            approval_status="pending",
            approval_id="a1",
        )
        approval = store.create_approval(
            "s1", id="a1", run_id="r1", tool_name="Edit", tool_input="{}", tool_use_id="toolu-1"
        )
        approval = store.respond_to_approval("a1", approved=True, comment="fine")
        snapshot = store.add_file_snapshot("s1", tool_id="toolu-1", file_path="a.py", content="x")
        server = store.add_mcp_server(
            "s1", name="fs", command="mcp-fs", args_json='["--root", "/"]', env_json="{}"
        )
        raw = store.add_raw_event("s1", '{"type": "message"}')
        settings = store.update_settings(advanced_providers=True, opt_in_telemetry=False)

    # Read the file again through a new connection and compare every column.
    records: list[tuple[Any, str, str, Any]] = [
        (session, "sessions", "id", "s1"),
        (event, "conversation_events", "id", event.id),
        (approval, "approvals", "id", "a1"),
        (snapshot, "file_snapshots", "id", snapshot.id),
        (server, "mcp_servers", "id", server.id),
        (raw, "raw_events", "id", raw.id),
        (settings, "user_settings", "id", 1),
    ]
    with sessionstore.open(path) as store:
        again: dict[str, Any] = {
            "sessions": store.get_session("s1"),
            "conversation_events": store.list_events("s1")[0],
            "approvals": store.get_approval("a1"),
            "file_snapshots": store.list_file_snapshots("s1", file_path="a.py")[0],
            "mcp_servers": store.list_mcp_servers("s1")[0],
            "raw_events": store.list_raw_events("s1")[0],
            "user_settings": store.settings(),
        }
    for record, table, key, value in records:
        raw_row = _raw(path, table, key, value)
        api = dataclasses.asdict(again[table])
        assert api == dataclasses.asdict(record)
        assert set(api) == set(raw_row)
        for column, stored in raw_row.items():
            assert api[column] == stored, (table, column)
    stored_session = dataclasses.asdict(again["sessions"])
    for column, value in SESSION_VALUES.items():
        assert stored_session[column] == value, column
    assert again["approvals"].status == "approved" and again["approvals"].responded_at
    assert again["user_settings"].advanced_providers is True
    assert again["user_settings"].opt_in_telemetry is False


def test_migration_26_hashes_the_snapshots_a_store_already_holds(tmp_path: Path) -> None:
    # 0026 is a Python migration: SQLite has no SHA-256 function to do it in SQL.
    path = tmp_path / "s.db"
    bootmigrate.migrate(path, sessionstore.MIGRATIONS, target=25)
    contents = ["def test_login(): ...\n", "caf\u00e9 \u2615\n", ""]
    conn = sqlite3.connect(path)
    with conn:
        conn.execute(
            "INSERT INTO sessions (id, run_id, query) VALUES ('s1', 'r1', 'fix the login test')"
        )
        conn.executemany(
            "INSERT INTO file_snapshots (tool_id, session_id, file_path, content) "
            "VALUES ('toolu-1', 's1', ?, ?)",
            [(f"f{i}.py", content) for i, content in enumerate(contents)],
        )
    conn.close()
    with sessionstore.open(path) as store:
        steps = [(step.version, step.name) for step in store.migration.steps]
        assert steps == [(26, "file_snapshot_hashes")]
        kept = store.list_file_snapshots("s1")
        assert [(s.content, s.content_sha256) for s in kept] == [
            (c, hashlib.sha256(c.encode()).hexdigest()) for c in contents
        ]
        assert store.has_file_snapshot("s1", "f1.py", contents[1])
        assert not store.has_file_snapshot("s1", "f1.py", contents[0])
        added = store.add_file_snapshot("s1", tool_id="toolu-2", file_path="g.py", content="y")
        assert added.content_sha256 == hashlib.sha256(b"y").hexdigest()
    # A row an older release (at version 25) writes has no digest: compared by content.
    conn = sqlite3.connect(path)
    with conn:
        conn.execute(
            "INSERT INTO file_snapshots (tool_id, session_id, file_path, content) "
            "VALUES ('toolu-3', 's1', 'old.py', 'old build')"
        )
    conn.close()
    with sessionstore.open(path) as store:
        assert store.has_file_snapshot("s1", "old.py", "old build")
        assert store.list_file_snapshots("s1", file_path="old.py")[0].content_sha256 is None
    ledger = sqlite3.connect(path)
    row = ledger.execute(
        "SELECT name, checksum, backward_compatible FROM bootmigrate_ledger WHERE version = 26"
    ).fetchone()
    ledger.close()
    text = (REPO / "migrations" / "0026_file_snapshot_hashes.up.py").read_text(encoding="utf-8")
    assert row == ("file_snapshot_hashes", hashlib.sha256(text.encode()).hexdigest(), 1)


def test_list_filters_archive_and_search(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    with sessionstore.open(path) as store:
        store.create_session("refactor the parser", id="a", title="Parser cleanup")
        store.create_session("fix login flakiness", id="b", title="Flaky login", status="failed")
        store.create_session("write docs", id="c", parent_session_id="a", working_dir="/w")
        store.archive_session("a")

        assert {s.id for s in store.list_sessions()} == {"b", "c"}
        assert {s.id for s in store.list_sessions(archived=None)} == {"a", "b", "c"}
        assert [s.id for s in store.list_sessions(archived=True)] == ["a"]
        assert [s.id for s in store.list_sessions(status="failed")] == ["b"]
        assert [s.id for s in store.list_sessions(parent_session_id="a")] == ["c"]
        assert [s.id for s in store.list_sessions(working_dir="/w")] == ["c"]

        assert [s.id for s in store.search_sessions("flaky")] == ["b"]  # title
        assert [s.id for s in store.search_sessions("logi flak")] == ["b"]  # query, prefixes
        assert store.search_sessions("parser") == []  # archived
        assert [s.id for s in store.search_sessions("parser", include_archived=True)] == ["a"]
        assert store.search_sessions('" OR *') == []  # plain words, never FTS syntax
        store.update_session("b", title="Login race", query="serialise the login")
        assert store.search_sessions("flaky") == []
        assert [s.id for s in store.search_sessions("race")] == ["b"]

        with pytest.raises(sessionstore.NotFound):
            store.get_session("nope")
        with pytest.raises(TypeError, match="no_such_column"):
            store.create_session("q", no_such_column=1)

    # The index is kept by triggers in the file, also for writes that bypass the store.
    conn = sqlite3.connect(path)
    conn.execute("DELETE FROM sessions WHERE id = 'b'")
    conn.commit()
    conn.close()
    with sessionstore.open(path) as store:
        assert store.search_sessions("race") == []


def test_deleting_a_session_deletes_what_belongs_to_it(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    with sessionstore.open(path) as store:
        store.create_session("q", id="s1", run_id="r1")
        store.add_event("s1", sequence=1, event_type="message")
        store.create_approval("s1", id="a1", run_id="r1", tool_name="Edit", tool_input="{}")
        store.add_file_snapshot("s1", tool_id="t", file_path="f", content="c")
        store.add_mcp_server("s1", name="n", command="c")
        store.add_raw_event("s1", "{}")
        with pytest.raises(sqlite3.IntegrityError):  # foreign keys are enforced
            store.add_event("missing", sequence=1, event_type="message")
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("DELETE FROM sessions WHERE id = 's1'")
    conn.commit()
    counts = {
        table: conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
        for table in ("conversation_events", "approvals", "file_snapshots", "mcp_servers")
    }
    conn.close()
    assert counts == dict.fromkeys(counts, 0)


def test_open_creates_the_directory_and_sets_the_pragmas(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "er" / "sessions.db"
    with sessionstore.open(path, timeout=2.5) as store:
        conn = store._conn
        assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA busy_timeout").fetchone()[0] == 2500
        assert store.migration.state == "migrated" and store.migration.adoption is None
    assert path.is_file()


HEAD = bootmigrate.load(sessionstore.MIGRATIONS).head


def test_main_prints_what_opening_did(tmp_path: Path) -> None:
    path = tmp_path / "var" / "sessions.db"
    command = [sys.executable, "-m", "sessionstore", str(path)]
    first = subprocess.run(command, capture_output=True, text=True, cwd=REPO, check=True)
    assert f"migrated from an empty database to version {HEAD}" in first.stdout
    assert "0001_initial_schema" in first.stdout and " ms" in first.stdout
    second = subprocess.run(command, capture_output=True, text=True, cwd=REPO, check=True)
    assert f"up to date at version {HEAD}" in second.stdout
    assert "0 session(s)" in second.stdout


def test_main_takes_over_a_legacy_file_and_refuses_a_newer_one(tmp_path: Path) -> None:
    path = tmp_path / "legacy.db"
    for shape, code in (("stamped-3", 0), ("legacy-23", 1)):
        subprocess.run(
            [sys.executable, str(SUPPORT / "legacy_store.py"), str(path), shape],
            cwd=REPO,
            check=True,
        )
        done = subprocess.run(
            [sys.executable, "-m", "sessionstore", str(path)],
            capture_output=True,
            text=True,
            cwd=REPO,
        )
        assert done.returncode == code, done.stderr
        if code == 0:
            assert "its own records say version 3" in done.stdout
            assert "repaired: added the missing column sessions.allowed_tools" in done.stdout
            assert f"migrated from version 3 to {HEAD}" in done.stdout
        else:
            assert "Traceback" not in done.stderr
            assert "schema_version is 23" in done.stderr and "left unchanged" in done.stderr
