"""The reference app from its installed wheel: migrations found as package data, in a venv."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from legacy_store import build
from wheels import make_venv


@pytest.mark.slow
def test_installed_wheel_opens_and_takes_over_a_store(
    tmp_path_factory: pytest.TempPathFactory, project_wheel: Path
) -> None:
    root = tmp_path_factory.mktemp("sessionstore-wheel")
    python = make_venv(root / "env", project_wheel)
    work = root / "work"
    work.mkdir()

    def sessionstore(path: Path) -> subprocess.CompletedProcess[str]:
        # From an empty directory, so the checkout's src/ cannot be what is imported.
        return subprocess.run(
            [python, "-c", "import sys, sessionstore.__main__ as m; sys.exit(m.main())", path],
            capture_output=True,
            text=True,
            cwd=work,
            check=False,
        )

    fresh = sessionstore(work / "var" / "sessions.db")
    assert fresh.returncode == 0, fresh.stderr
    assert "migrated from an empty database to version" in fresh.stdout
    assert "0025_session_search" in fresh.stdout

    legacy = build(work / "legacy.db", "swapped-17")
    taken = sessionstore(legacy)
    assert taken.returncode == 0, taken.stderr
    assert "its own records say version 17, its schema is at version 16" in taken.stdout
    located = subprocess.run(
        [python, "-c", "import sessionstore; print(sessionstore.__file__)"],
        capture_output=True,
        text=True,
        cwd=work,
        check=True,
    )
    assert Path(located.stdout.strip()).is_relative_to(root / "env")
