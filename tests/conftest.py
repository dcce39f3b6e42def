"""Shared fixtures. The functions behind them live in tests/support (usable without pytest).

Where a test goes. Pure: no file, no database (at most ``:memory:``):
  test_filenames        the file-name parser
  test_plan             the planner, on plain data
  test_sqltext          SQL text: splitting, checksums, directives (one test in :memory:)
  test_public_api       exported names, ``__all__``, the error tree
  test_architecture     issue 9's one-owner rules and layers, read with ast (and one
                        quick subprocess: the boot's import path)
File-level: real files on disk (migration sets, databases, wheels); quick subprocesses at most:
  test_migration_set    build_set (pure) and load from directories; creates no database
  test_schema           canonical schema of database files (the normalize_sql tests: pure)
  test_fingerprint      row fingerprints of database files
  test_runner           migrate, status, downgrade on database files
  test_executor         the executor's guard (authorizer) on database files
  test_ledger           the runner's tables: the ledger module and its checks, on files
  test_fast_path        the lock-file fast path (the ledger-format test: pure)
  test_foreign_keys     foreign keys around a run
  test_baseline         adopting a database made before bootmigrate
  test_tool_import      other tools' migration folders imported, checked against the tools'
                        own way of running them (the data: tests/data/tools/)
  test_tool_takeover    databases another tool migrated, taken over (Baseline.from_tool)
  test_prepare          connections the app prepares
  test_testkit          the migration test kit's checks
  test_synthetic_rows   the kit's own rows in every table (a property over schemas too)
  test_plugin           the pytest plugin, through pytester
  test_cli              the CLI, run in quick subprocesses
  test_lock_cli         schema, lock and verify --schema commands
  test_sessionstore     the reference app on a file
  test_packaging        the two distributions' wheels and the sdist, zip imports, editable
                        installs (marked slow); the README as a package index shows it
  test_sessionstore_wheel  the reference app from its wheel (marked slow)
File-level, with some tests marked ``process`` (they start workers, fork or kill):
  test_backup           processes booting together keep one backup
  test_newer_database   an older app in a worker process
  test_no_transaction   processes racing on a step, a step-lock holder
  test_faults           SIGKILL loops, a forked 'nobody', damaged files seen by a worker
  test_takeover         two processes taking over one legacy file
Process-level: every test marked ``process`` (``make stress`` runs them at full count):
  test_concurrency      processes booting together, a writer holding the lock
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

import processes
from dbfiles import EXAMPLE_SET, FileContent, Snapshot, make_set, read_db

# No deadline: a slow CI machine must not turn a correct property into a failure.
settings.register_profile(
    "bootmigrate", deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile("bootmigrate")

# The test kit's hook for the reference app (every legacy shape as an origin): used by
# `pytest --bootmigrate` (make migrate-test); without the flag it adds nothing.
pytest_plugins = ["migration_kit"]

MakeSet = Callable[..., Path]


@pytest.fixture(autouse=True)
def _process_mark(request: pytest.FixtureRequest) -> Iterator[None]:
    """Tell tests/support/processes.py whether this test may start workers (see MARKED)."""
    processes.MARKED = request.node.get_closest_marker("process") is not None
    yield
    processes.MARKED = None


@pytest.fixture
def make_set_in(tmp_path: Path) -> MakeSet:
    """``make_set_in({"0001_a.up.sql": "..."})``: write a directory source under tmp_path."""

    def factory(files: Mapping[str, FileContent], *, subdir: str = "migrations") -> Path:
        return make_set(tmp_path, files, subdir=subdir)

    return factory


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """Where a test's database file goes (not created)."""
    return tmp_path / "app.db"


@pytest.fixture
def example_set(tmp_path: Path) -> Path:
    """A private copy of tests/data/example_set that the test may change."""
    target = tmp_path / "example_set"
    shutil.copytree(EXAMPLE_SET, target)
    return target


@pytest.fixture
def snapshot() -> Callable[[Path], Snapshot]:
    """:func:`dbfiles.read_db`, for tests that prefer a fixture."""
    return read_db


@pytest.fixture(scope="session")
def project_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The checkout as a clone has it, copied once per session for the builds below."""
    from wheels import copy_project

    return copy_project(tmp_path_factory.mktemp("checkout"))


@pytest.fixture(scope="session")
def project_wheel(tmp_path_factory: pytest.TempPathFactory, project_copy: Path) -> Path:
    """bootmigrate's wheel, built once per session and shared by the packaging tests."""
    from wheels import build_wheel

    return build_wheel(project_copy, tmp_path_factory.mktemp("bootmigrate-wheel"))


@pytest.fixture(scope="session")
def app_wheel(tmp_path_factory: pytest.TempPathFactory, project_copy: Path) -> Path:
    """The reference app's wheel (distribution ``sessionstore``), built once per session."""
    from wheels import APP_PROJECT, build_wheel

    return build_wheel(project_copy / APP_PROJECT, tmp_path_factory.mktemp("app-wheel"))
