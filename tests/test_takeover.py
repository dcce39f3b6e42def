"""sessionstore takes over every database shape the legacy daemon left behind.

Each shape is built the way the legacy builds left it (tests/support/legacy_store.py), then
opened with ``sessionstore.open``; the file is then read again through new connections:
the schema must equal a fresh database's, and every row and every value of every column
that survives must be what it was.
"""

from __future__ import annotations

import dataclasses
import sqlite3
import subprocess
import sys
import tempfile
from contextlib import closing
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import bootmigrate
import sessionstore
from dbfiles import REPO
from legacy_store import SHAPES, Build, Rows, boot, build, read_rows

ADOPTABLE = [name for name in SHAPES if name != "legacy-23"]

# (claimed version, adopted version, columns the repair adds)
EXPECTED_ADOPTION = {
    "v1-early": (1, 1, {"sessions.num_turns", "sessions.result_content", "sessions.summary"}),
    "v1-late": (1, 1, set()),
    "stamped-3": (
        3,
        3,
        {
            "sessions.num_turns",
            "sessions.result_content",
            "sessions.summary",
            "sessions.permission_prompt_tool",
            "sessions.append_system_prompt",
            "sessions.allowed_tools",
            "sessions.disallowed_tools",
        },
    ),
    "upgraded-13": (13, 13, set()),
    "swapped-17": (17, 16, set()),
    "built-17": (17, 18, set()),
    "built-16b": (16, 18, {"created the missing table user_settings"}),
    "fresh-22": (22, 22, set()),
    "upgraded-22": (22, 22, set()),
    "early-22": (22, 22, {"sessions.num_turns", "sessions.result_content", "sessions.summary"}),
}

# The only columns a takeover may drop.
DROPPED = {("sessions", "total_tokens")}


@pytest.fixture(scope="module")
def fresh_schema(tmp_path_factory: pytest.TempPathFactory) -> bootmigrate.Schema:
    path = tmp_path_factory.mktemp("fresh") / "sessions.db"
    sessionstore.open(path).close()
    return bootmigrate.canonical_schema(path)


def _expected_tool_use_id(before: Rows, approval_id: str) -> str | None:
    candidates = sorted(
        (event["id"], event["tool_id"])
        for event in before["conversation_events"].values()
        if event["approval_id"] == approval_id and event["tool_id"] is not None
    )
    return candidates[0][1] if candidates else None


def _assert_rows_kept(before: Rows, after: Rows) -> None:
    for table, rows in before.items():
        assert table in after, f"table {table} is gone"
        if table == "schema_version":
            # Kept as it was; the legacy-history files add the rows of what they ran.
            assert set(rows) <= set(after[table])
        elif table == "user_settings" and not rows:
            assert list(after[table]) == [(1,)]  # 0024 gives a lost settings row back
            continue
        else:
            assert set(after[table]) == set(rows), f"{table}: rows added or lost"
        for key, row in rows.items():
            new = after[table][key]
            for column, value in row.items():
                if (table, column) in DROPPED:
                    assert column not in new
                    continue
                if table == "approvals" and column == "tool_use_id" and value is None:
                    # The version-14 backfill, done again by 0024 where the legacy one failed.
                    assert new[column] == _expected_tool_use_id(before, key[0])
                    continue
                # Same value and same storage class (1 is not 1.0, '1' is not 1).
                assert (type(new[column]), new[column]) == (type(value), value), (
                    f"{table} {key} {column}: {value!r} -> {new[column]!r}"
                )
    for table, rows in after.items():
        if table not in before and table not in ("approvals", "file_snapshots", "user_settings"):
            pytest.fail(f"unexpected new table {table}")
        if table not in before:
            # Created by the takeover for a version the file did not have: only the
            # settings row may be in it.
            assert set(rows) <= {(1,)}


@pytest.mark.parametrize("shape", ADOPTABLE)
def test_open_takes_over_the_legacy_database(
    shape: str, tmp_path: Path, fresh_schema: bootmigrate.Schema
) -> None:
    path = build(tmp_path / "daemon.db", shape)
    before = read_rows(path)
    with closing(sqlite3.connect(path)) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"

    with sessionstore.open(path) as store:
        report = store.migration

    claimed, adopted, repaired = EXPECTED_ADOPTION[shape]
    assert report.adoption is not None
    assert (report.adoption.claimed, report.adoption.version) == (claimed, adopted)
    assert {n.removeprefix("added the missing column ") for n in report.adoption.repairs} == (
        repaired
    )
    head = bootmigrate.load(sessionstore.MIGRATIONS).head
    assert report.state == "migrated" and report.to_version == head

    # Everything below reads the file again through new connections.
    assert bootmigrate.schema_diff(fresh_schema, bootmigrate.canonical_schema(path)) == ""
    after = read_rows(path)
    _assert_rows_kept(before, after)
    for key, approval in after["approvals"].items():
        expected = _expected_tool_use_id(after, key[0])
        if expected is not None:
            assert approval["tool_use_id"] == expected

    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        # Orphans the legacy pool left stay as they were; the takeover adds none.
        orphans = conn.execute("PRAGMA foreign_key_check").fetchall()
        assert all(table == "conversation_events" for table, *_ in orphans)
        assert {row[1] for row in orphans} == {
            event["id"]
            for event in before["conversation_events"].values()
            if (event["session_id"],) not in before["sessions"]
        }
        ledger = conn.execute(
            "SELECT version, checksum FROM bootmigrate_ledger ORDER BY version"
        ).fetchall()
        files = {m.version: m.checksum for m in bootmigrate.load(sessionstore.MIGRATIONS)}
        assert dict(ledger) == files
        assert conn.execute("PRAGMA user_version").fetchone()[0] == head
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        # The search index holds every session.
        indexed = conn.execute("SELECT session_id FROM sessions_search").fetchall()
        assert sorted(indexed) == sorted(conn.execute("SELECT id FROM sessions").fetchall())
    finally:
        conn.close()

    # Opening again changes nothing.
    with sessionstore.open(path) as store:
        assert store.migration.state == "up-to-date"
        assert store.migration.adoption is None
    assert read_rows(path) == after
    status = bootmigrate.status(path, sessionstore.MIGRATIONS)
    assert status.up_to_date and not status.problems


@pytest.mark.parametrize("shape", ["upgraded-22", "stamped-3"])
def test_legacy_rows_read_back_through_the_store(shape: str, tmp_path: Path) -> None:
    path = build(tmp_path / "daemon.db", shape)
    with sessionstore.open(path) as store:
        pass
    rows = read_rows(path)  # through a new connection, after the takeover
    with sessionstore.open(path) as store:
        read: dict[str, list[dict[str, object]]] = {
            "sessions": [],
            "conversation_events": [],
            "file_snapshots": [],
            "mcp_servers": [],
            "raw_events": [],
        }
        for (session_id,) in rows["sessions"]:
            read["sessions"].append(dataclasses.asdict(store.get_session(session_id)))
            for name, found in (
                ("conversation_events", store.list_events(session_id)),
                ("file_snapshots", store.list_file_snapshots(session_id)),
                ("mcp_servers", store.list_mcp_servers(session_id)),
                ("raw_events", store.list_raw_events(session_id)),
            ):
                read[name] += [dataclasses.asdict(r) for r in found]
        read["approvals"] = [dataclasses.asdict(a) for a in store.list_approvals()]
        read["user_settings"] = [dataclasses.asdict(store.settings())]
        assert store.search_sessions("refactor module") != []
    orphaned = {
        key
        for key, event in rows["conversation_events"].items()
        if (event["session_id"],) not in rows["sessions"]
    }
    for table, records in read.items():
        expected = {
            k: v
            for k, v in rows[table].items()
            if k not in orphaned or table != "conversation_events"
        }
        assert sorted(records, key=str) == sorted(expected.values(), key=str), table
        assert len(records) == len(expected), table
        assert records or shape == "stamped-3", f"{table} is empty"  # no snapshots before 7


def test_a_legacy_database_from_a_newer_build_is_refused_untouched(tmp_path: Path) -> None:
    path = build(tmp_path / "daemon.db", "legacy-23")
    files_before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}

    with pytest.raises(bootmigrate.LegacyVersionTooNew) as caught:
        sessionstore.open(path)

    assert isinstance(caught.value, bootmigrate.DatabaseTooNew)
    message = str(caught.value)
    assert "23" in message and "up to version 22" in message and "left unchanged" in message
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == files_before


def test_an_old_legacy_build_opening_the_taken_over_file_changes_nothing(
    tmp_path: Path, fresh_schema: bootmigrate.Schema
) -> None:
    path = build(tmp_path / "daemon.db", "upgraded-22")
    sessionstore.open(path).close()
    after = read_rows(path)

    # A user downgrades to an old daemon: its initSchema and version check run.
    for old in (Build(22), Build(13), Build(1)):
        boot(path, old)

    assert read_rows(path) == after
    assert bootmigrate.schema_diff(fresh_schema, bootmigrate.canonical_schema(path)) == ""
    with sessionstore.open(path) as store:
        assert store.migration.state == "up-to-date"


def test_a_file_with_tables_but_no_legacy_table_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
    conn.commit()
    conn.close()
    data = path.read_bytes()

    with pytest.raises(bootmigrate.UnrecognizedDatabase, match="notes"):
        sessionstore.open(path)

    assert path.read_bytes() == data


def test_an_unknown_column_is_refused_rather_than_lost(tmp_path: Path) -> None:
    path = build(tmp_path / "daemon.db", "fresh-22")
    conn = sqlite3.connect(path)
    conn.execute("ALTER TABLE sessions ADD COLUMN pinned BOOLEAN DEFAULT 0")
    conn.commit()
    conn.close()
    before = read_rows(path)

    with pytest.raises(bootmigrate.UnrecognizedDatabase, match=r"sessions\.pinned"):
        sessionstore.open(path)

    assert read_rows(path) == before


@pytest.mark.process
def test_two_processes_opening_one_legacy_file_adopt_it_once(tmp_path: Path) -> None:
    path = build(tmp_path / "daemon.db", "upgraded-13")
    before = read_rows(path)
    command = [sys.executable, "-m", "sessionstore", str(path)]
    processes = [
        subprocess.Popen(
            command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    outputs = [process.communicate(timeout=120) for process in processes]

    assert [process.returncode for process in processes] == [0, 0], outputs
    assert sum("taken over" in out for out, _ in outputs) == 1
    conn = sqlite3.connect(path)
    versions = [v for (v,) in conn.execute("SELECT version FROM bootmigrate_ledger")]
    conn.close()
    assert versions == list(bootmigrate.load(sessionstore.MIGRATIONS).versions)
    _assert_rows_kept(before, read_rows(path))


# Columns an old build could have skipped (its block never ran, or ran elsewhere): the
# nullable, unindexed ones of legacy versions 3 to 21.
SKIPPABLE = [
    ("sessions", c)
    for c in (
        "permission_prompt_tool",
        "append_system_prompt",
        "allowed_tools",
        "disallowed_tools",
        "auto_accept_edits",
        "dangerously_skip_permissions",
        "dangerously_skip_permissions_expires_at",
        "model_id",
        "input_tokens",
        "output_tokens",
        "cache_creation_input_tokens",
        "cache_read_input_tokens",
        "effective_context_tokens",
        "proxy_enabled",
        "proxy_base_url",
        "proxy_model_override",
        "proxy_api_key",
        "additional_directories",
        "editor_state",
        "dangerously_skip_permissions_timeout_ms",
        "num_turns",
        "result_content",
        "summary",
    )
] + [("user_settings", "opt_in_telemetry")]


@settings(max_examples=25)
@given(skipped=st.sets(st.sampled_from(SKIPPABLE), min_size=1))
def test_any_set_of_skipped_columns_is_repaired(
    skipped: set[tuple[str, str]], fresh_schema: bootmigrate.Schema, fresh_22: bytes
) -> None:
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "daemon.db"
        path.write_bytes(fresh_22)
        with closing(sqlite3.connect(path)) as conn:
            for table, column in sorted(skipped):
                conn.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
            conn.commit()
        before = read_rows(path)

        with sessionstore.open(path) as store:
            adoption = store.migration.adoption

        assert adoption is not None and adoption.version == 22
        assert set(adoption.repairs) == {
            f"added the missing column {table}.{column}" for table, column in skipped
        }
        assert bootmigrate.schema_diff(fresh_schema, bootmigrate.canonical_schema(path)) == ""
        _assert_rows_kept(before, read_rows(path))


@pytest.fixture(scope="module")
def fresh_22(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """A fresh-22 legacy file, checkpointed into one file so its bytes can be copied."""
    path = build(tmp_path_factory.mktemp("fresh-22") / "daemon.db", "fresh-22")
    assert not Path(f"{path}-wal").exists()
    return path.read_bytes()


def test_a_first_boot_that_stopped_half_way_is_completed(
    tmp_path: Path, fresh_schema: bootmigrate.Schema
) -> None:
    # initSchema's first statement ran, then the daemon died: an empty schema_version.
    path = tmp_path / "daemon.db"
    with closing(sqlite3.connect(path)) as conn:
        conn.execute(
            "CREATE TABLE schema_version (version INTEGER PRIMARY KEY, "
            "applied_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP, description TEXT)"
        )
        conn.commit()

    with sessionstore.open(path) as store:
        adoption = store.migration.adoption

    assert adoption is not None and (adoption.claimed, adoption.version) == (1, 1)
    assert "created the missing table sessions" in adoption.repairs
    assert bootmigrate.schema_diff(fresh_schema, bootmigrate.canonical_schema(path)) == ""
