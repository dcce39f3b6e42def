"""Other processes for tests: the worker scripts, and the CLI.

A worker is a script next to this module, ``worker_<name>.py``, run BY PATH in a new
process (``python tests/support/worker_boot.py ...``), so locks, crashes and signals are
real. Workers import only the standard library and bootmigrate, print one JSON object on
stdout, and exit 0 on success, 1 on a ``MigrationError`` (printed as ``{"error": class
name, "message": ...}``). :func:`run_cli` runs ``python -m bootmigrate`` the same way.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

#: tests/support: where the worker scripts are.
SUPPORT = Path(__file__).resolve().parent

#: ``make stress`` sets this to run the fault and concurrency loops many more times.
STRESS = os.environ.get("BOOTMIGRATE_STRESS", "") not in ("", "0")

#: Whether the running test is marked ``process`` (set by tests/conftest.py around each
#: test; None outside a test). A test that starts a worker must carry the mark, so that
#: ``-m process`` (``make stress``) finds every one of them.
MARKED: bool | None = None


def rounds(ci: int, stress: int) -> int:
    """How many times a loop runs: *ci* in ``make test``, *stress* under ``make stress``."""
    return stress if STRESS else ci


def start(
    script: str, args: Sequence[str | os.PathLike[str]], *, env: dict[str, str] | None = None
) -> subprocess.Popen[str]:
    """Start ``tests/support/worker_<script>.py ARGS`` in a new process; output captured."""
    if MARKED is False:
        raise AssertionError(f"this test starts a worker ({script}): mark it @pytest.mark.process")
    environment = dict(os.environ if env is None else env)
    environment["PYTHONIOENCODING"] = "utf-8"
    return subprocess.Popen(
        [sys.executable, str(SUPPORT / f"worker_{script}.py"), *map(str, args)],
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


def cli_env(**extra: str) -> dict[str, str]:
    """The environment for a CLI subprocess: this one, minus BOOTMIGRATE_* settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BOOTMIGRATE_")}
    env["PYTHONIOENCODING"] = "utf-8"
    env.update(extra)
    return env


def run_cli(
    args: Sequence[str | os.PathLike[str]],
    *,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    script: bool = False,
    python: str | os.PathLike[str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m bootmigrate ARGS`` (or the ``bootmigrate`` script) in a new process.

    *python* selects another interpreter (a fresh virtual environment); *script* runs the
    console script installed beside it instead of ``-m``.
    """
    interpreter = Path(python) if python is not None else Path(sys.executable)
    if script:
        name = "bootmigrate.exe" if os.name == "nt" else "bootmigrate"
        command: list[str | os.PathLike[str]] = [interpreter.parent / name]
    else:
        command = [interpreter, "-m", "bootmigrate"]
    return subprocess.run(
        [*command, *args],
        cwd=cwd,
        env=dict(env) if env is not None else cli_env(),
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
        check=False,
    )
