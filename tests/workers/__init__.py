"""Helper scripts that tests run as separate processes, and the code to start them.

Each script here is run with ``python tests/workers/<name>.py ...`` in a new process, so
locks, crashes and signals are real. They import only the standard library and
bootmigrate, print one JSON object on stdout, and exit 0 on success, 1 on a
``MigrationError`` (printed as ``{"error": class name, "message": ...}``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

WORKERS = Path(__file__).resolve().parent

#: ``make stress`` sets this to run the fault and concurrency loops many more times.
STRESS = os.environ.get("BOOTMIGRATE_STRESS", "") not in ("", "0")


def rounds(ci: int, stress: int) -> int:
    """How many times a loop runs: *ci* in ``make test``, *stress* under ``make stress``."""
    return stress if STRESS else ci


def start(
    script: str, args: Sequence[str | os.PathLike[str]], *, env: dict[str, str] | None = None
) -> subprocess.Popen[str]:
    """Start ``tests/workers/<script>.py ARGS`` in a new process; stdout/stderr captured."""
    environment = dict(os.environ if env is None else env)
    environment["PYTHONIOENCODING"] = "utf-8"
    return subprocess.Popen(
        [sys.executable, str(WORKERS / f"{script}.py"), *map(str, args)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
        env=environment,
    )


def finish(process: subprocess.Popen[str], timeout: float = 120) -> tuple[int, dict[str, Any]]:
    """Wait for a worker; its exit status and the JSON object it printed."""
    out, err = process.communicate(timeout=timeout)
    try:
        result = json.loads(out.strip().splitlines()[-1]) if out.strip() else {}
    except json.JSONDecodeError as exc:
        raise AssertionError(f"worker printed no JSON: {out!r} {err!r}") from exc
    if not isinstance(result, dict):
        raise AssertionError(f"worker printed {result!r}")
    result.setdefault("stderr", err)
    return process.returncode, result


def run(
    script: str, args: Sequence[str | os.PathLike[str]], *, env: dict[str, str] | None = None
) -> tuple[int, dict[str, Any]]:
    """Run a worker to its end: its exit status and its JSON object."""
    return finish(start(script, args, env=env))


def wait_for(path: Path, process: subprocess.Popen[str] | None = None, limit: float = 60) -> None:
    """Wait until *path* exists (a worker's 'ready' signal); fail if the worker died."""
    deadline = time.monotonic() + limit
    while not path.exists():
        if process is not None and process.poll() is not None:
            out, err = process.communicate()
            raise AssertionError(f"worker exited {process.returncode} early: {out!r} {err!r}")
        if time.monotonic() > deadline:
            raise AssertionError(f"{path} did not appear within {limit} s")
        time.sleep(0.005)
