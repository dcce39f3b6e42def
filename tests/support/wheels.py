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
    return _build(project, out, "--wheel", "*.whl")


def build_sdist(project: Path, out: Path) -> Path:
    """Build *project*'s sdist into *out* with the current interpreter; return its path."""
    return _build(project, out, "--sdist", "*.tar.gz")


def _build(project: Path, out: Path, kind: str, pattern: str) -> Path:
    run(
        [sys.executable, "-m", "build", kind, "--no-isolation", "--outdir", out, project],
        cwd=project,
    )
    (built,) = out.glob(pattern)
    return built


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


# The folder of the reference app's distribution (its pyproject.toml) in the repository.
APP_PROJECT = "reference-app"


def copy_project(root: Path) -> Path:
    """The checkout as a clone has it (work in progress included), copied under *root*.

    The packaging tests build from the copy, so the checkout gets no build/ or *.egg-info,
    and what the build picks up is what a clone holds: everything but .git and what
    .gitignore names (its patterns are file names, matched at any depth).
    """
    patterns = [".git"]
    for line in (REPO / ".gitignore").read_text().splitlines():
        pattern = line.strip().rstrip("/")
        if pattern and not pattern.startswith("#"):
            assert "/" not in pattern, f".gitignore pattern {line!r}: copy_project needs a name"
            patterns.append(pattern)
    copy = root / "project"
    shutil.copytree(REPO, copy, ignore=shutil.ignore_patterns(*patterns))
    return copy
