"""Where the CLI finds its database and source when they are not given as options.

Order: the command-line option, then ``BOOTMIGRATE_DB`` / ``BOOTMIGRATE_SOURCE``, then
``[tool.bootmigrate]`` (``db``, ``source``, ``prepare``) in ``pyproject.toml`` of the
current directory. A directory source or database path from ``pyproject.toml`` is
relative to that file's directory.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from ._errors import UsageError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised by the 3.9/3.10 runs of the matrix
    import tomli as tomllib

ENV = {"db": "BOOTMIGRATE_DB", "source": "BOOTMIGRATE_SOURCE", "prepare": "BOOTMIGRATE_PREPARE"}


def pyproject_settings(directory: Path | None = None) -> dict[str, Any]:
    """``[tool.bootmigrate]`` of ``pyproject.toml`` in *directory* (default: cwd), or ``{}``."""
    path = (directory or Path.cwd()) / "pyproject.toml"
    if not path.is_file():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: cannot read [tool.bootmigrate] ({exc})") from exc
    settings = data.get("tool", {}).get("bootmigrate", {})
    if not isinstance(settings, dict):
        raise UsageError(f"{path}: [tool.bootmigrate] must be a table")
    return settings


def resolve_setting(name: str, given: str | None, settings: dict[str, Any]) -> str | None:
    """The value of *name* from the option, the environment or ``pyproject.toml``."""
    if given:
        return given
    from_env = os.environ.get(ENV[name])
    if from_env:
        return from_env
    value = settings.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise UsageError(f"[tool.bootmigrate] {name} must be a string, not {value!r}")
    if name == "db" or (name == "source" and ":" not in value):
        return str(Path.cwd() / value) if not os.path.isabs(value) else value
    return value
