"""Building wheels and fresh virtual environments for the packaging tests."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from dbfiles import REPO
from processes import cli_env


def run(command: list[str | os.PathLike[str]], cwd: Path | None = None) -> str:
    """Run a build/install step; on failure show its output in the test report."""
    result = subprocess.run(
        command, capture_output=True, text=True, check=False, env=cli_env(), cwd=cwd
    )
    assert result.returncode == 0, f"{command}\n{result.stdout}\n{result.stderr}"
    return str(result.stdout)


def build_wheel(project: Path, out: Path) -> Path:
    """Build *project*'s wheel into *out* with the current interpreter; return its path."""
    run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", out, project],
        cwd=project,
    )
    (wheel,) = out.glob("*.whl")
    return wheel


def make_venv(path: Path, *wheels: Path) -> Path:
    """A fresh virtual environment with only *wheels* installed; returns its python."""
    run([sys.executable, "-m", "venv", "--without-pip", path])
    python = path / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            python,
            "--disable-pip-version-check",
            "install",
            "--quiet",
            "--no-deps",
            "--no-index",
            *wheels,
        ]
    )
    if sys.version_info < (3, 11):
        # bootmigrate's one dependency on old Pythons, copied from this environment
        # (pure Python) because the test installs with --no-deps --no-index: no network.
        import tomli

        site = run([python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"])
        shutil.copytree(Path(tomli.__file__).parent, Path(site.strip()) / "tomli")
    return python


def build_project_wheel(root: Path) -> Path:
    """This project's wheel, built from a copy under *root* so the checkout gets no build/."""
    copy = root / "project"
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info", "*.pyc")
    for name in ("src", "migrations"):
        shutil.copytree(REPO / name, copy / name, ignore=ignore)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO / name, copy / name)
    return build_wheel(copy, root / "dist")
