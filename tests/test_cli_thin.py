"""The CLI holds no logic of its own: each command makes one call of a public function.

Every public function a command could call is replaced by a recorder returning a
stand-in result; each command line must then make exactly one call (``up`` and ``down``
also read the source with ``load`` first, see bootmigrate._cli.main._cmd_up), with the
arguments it was given, and print what the result says.
"""

from __future__ import annotations

import ast
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

import bootmigrate
from bootmigrate._cli import main as cli_main

OK = SimpleNamespace(
    ok=True, summary=lambda: "summary line", problems=(), state="migrated", database="app.db"
)
SCHEMA = SimpleNamespace(to_text=lambda: "table t\n", to_dict=lambda: {"tables": []})
PLAN = SimpleNamespace(current=None, pending=())
STATUS = SimpleNamespace(summary=lambda: "summary line", as_dict=lambda: {})

# What each public function returns in these tests.
RESULTS: dict[str, object] = {
    "status": STATUS,
    "migrate": OK,
    "downgrade": OK,
    "load": "<the loaded set>",
    "canonical_schema": SCHEMA,
    "verify": OK,
    "check_lock": OK,
    "schema_drift": "",
    "dry_run": PLAN,
    "rehearse": SimpleNamespace(summary=lambda: "summary line", steps=()),
    "restore": OK,
    "new_migration": (Path("up.sql"), Path("down.sql")),
    "write_lock": OK,
    "write_schema_snapshot": OK,
    "import_migrations": OK,
    "squash": OK,
    "doctor": SimpleNamespace(healthy=True, summary=lambda: "healthy: app.db", as_dict=lambda: {}),
    "diagnose": {},
}


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[tuple[str, tuple[Any, ...]]]:
    monkeypatch.chdir(tmp_path)
    for name in (
        "BOOTMIGRATE_DB",
        "BOOTMIGRATE_SOURCE",
        "BOOTMIGRATE_PREPARE",
        "BOOTMIGRATE_CONNECT",
    ):
        monkeypatch.delenv(name, raising=False)
    recorded: list[tuple[str, tuple[Any, ...]]] = []
    for name, result in RESULTS.items():

        def recorder(*args: Any, _name: str = name, _result: object = result, **kwargs: Any):
            recorded.append((_name, (*args, *sorted(kwargs.items()))))
            return _result

        monkeypatch.setattr(bootmigrate, name, recorder)
    return recorded


DB, SOURCE = "app.db", "migrations"
COMMON = ["--db", DB, "--source", SOURCE]


CASES = [
    (["status"], [("status", (DB, SOURCE, ("connect", None)))]),
    (["status", "--json"], [("status", (DB, SOURCE, ("connect", None)))]),
    (["doctor"], [("doctor", (DB, SOURCE, ("connect", None), ("full", False), ("timeout", 30.0)))]),
    (
        ["doctor", "--json", "--full"],
        [("doctor", (DB, SOURCE, ("connect", None), ("full", True), ("timeout", 30.0)))],
    ),
    (
        ["up", "--to", "2"],
        [
            ("load", (SOURCE,)),
            (
                "migrate",
                (
                    DB,
                    "<the loaded set>",
                    ("backup", False),
                    ("backup_keep", 1),
                    ("baseline", None),
                    ("connect", None),
                    ("progress", None),  # stderr is not a terminal here
                    ("target", 2),
                    ("timeout", 30.0),
                ),
            ),
        ],
    ),
    (
        ["up", "--dry-run", "--to", "2"],
        [
            ("load", (SOURCE,)),
            (
                "rehearse",
                (
                    DB,
                    "<the loaded set>",
                    ("baseline", None),
                    ("connect", None),
                    ("prepare", None),
                    ("target", 2),
                    ("timeout", 30.0),
                ),
            ),
        ],
    ),
    (["restore"], [("restore", (DB, None, ("connect", None), ("timeout", 30.0)))]),
    (["diagnose"], [("diagnose", (DB, SOURCE, ("connect", None), ("timeout", 30.0)))]),
    (
        ["restore", "app.db.bk"],
        [("restore", (DB, "app.db.bk", ("connect", None), ("timeout", 30.0)))],
    ),
    (
        ["down", "--to", "1"],
        [
            ("load", (SOURCE,)),
            (
                "downgrade",
                (
                    DB,
                    "<the loaded set>",
                    1,
                    ("backup", False),
                    ("backup_keep", 1),
                    ("connect", None),
                    ("progress", None),
                    ("timeout", 30.0),
                ),
            ),
        ],
    ),
    (["new", "add_tags"], [("new_migration", (SOURCE, "add_tags", ("python", False)))]),
    (
        ["new", "--python", "hash_tokens"],
        [("new_migration", (SOURCE, "hash_tokens", ("python", True)))],
    ),
    (
        ["verify"],
        [("verify", (DB, SOURCE, ("connect", None), ("prepare", None), ("schema", False)))],
    ),
    (
        ["verify", "--schema"],
        [("verify", (DB, SOURCE, ("connect", None), ("prepare", None), ("schema", True)))],
    ),
    (["schema"], [("canonical_schema", (DB, ("connect", None)))]),
    (["schema", "--json"], [("canonical_schema", (DB, ("connect", None)))]),
    (["schema", "--write"], [("write_schema_snapshot", (SOURCE, ("prepare", None)))]),
    (["lock"], [("write_lock", (SOURCE,))]),
    (["lock", "--check"], [("check_lock", (SOURCE,))]),
    (
        ["squash", "--to", "3", "--name", "v3", "--force"],
        [("squash", (SOURCE, 3, ("force", True), ("name", "v3"), ("prepare", None)))],
    ),
    (
        ["import", "--from", "goose", "goose_dir", "new_dir"],
        [("import_migrations", ("goose", "goose_dir", "new_dir"))],
    ),
]


@pytest.mark.parametrize(("args", "expected"), CASES, ids=[" ".join(a) for a, _ in CASES])
def test_each_command_is_one_library_call(calls, capsys, args, expected):
    assert cli_main.main([*COMMON, *args]) == 0
    assert calls == expected
    out = capsys.readouterr().out
    assert out  # it printed what the call returned


def test_every_command_is_covered():
    assert {args[0] for args, _ in CASES} == set(cli_main._COMMANDS)


def test_a_failed_check_prints_its_problems_and_exits_1(calls, monkeypatch, capsys):
    failed = SimpleNamespace(ok=False, problems=("first problem", "second\nwith its diff"))
    monkeypatch.setattr(bootmigrate, "verify", lambda *a, **k: failed)
    monkeypatch.setattr(bootmigrate, "check_lock", lambda *a, **k: failed)
    for args in (["verify"], ["lock", "--check"]):
        assert cli_main.main([*COMMON, *args]) == 1
        captured = capsys.readouterr()
        assert captured.out == ""
        assert captured.err == (
            "bootmigrate: error: first problem\nbootmigrate: error: second\nwith its diff\n"
        )


def test_every_line_of_an_error_is_an_error_line(calls, monkeypatch, capsys):
    def refuse(*args: Any, **kwargs: Any) -> None:
        raise bootmigrate.SourceError("bootmigrate.lock: one\nbootmigrate.lock not written")

    monkeypatch.setattr(bootmigrate, "write_lock", refuse)
    assert cli_main.main([*COMMON, "lock"]) == 1
    assert capsys.readouterr().err == (
        "bootmigrate: error: bootmigrate.lock: one\n"
        "bootmigrate: error: bootmigrate.lock not written\n"
    )


def test_the_cli_module_imports_no_implementation():
    # The library's internals are reached through the public functions only: the CLI
    # may import settings, the file-name constants for its help, the name rule, the
    # tools' names (the choices of --from and of --baseline), and its own progress line.
    tree = ast.parse(Path(cli_main.__file__).read_text(encoding="utf-8"))
    private = sorted(
        "." * node.level + (node.module or "")
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.level > 0
    )
    assert private == [
        "..",
        ".._authoring",
        ".._foreign",
        ".._schema.snapshot",
        ".._source.lockfile",
        ".progress",
    ]
    allowed = {
        "_config",
        "name_problem",
        "SNAPSHOT_FILENAME",
        "LOCK_FILENAME",
        "TOOLS",
        "live_line",
    }
    imported = {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.level > 0
        for alias in node.names
    }
    assert imported == allowed
