"""setuptools' build backend without an sdist, for the reference app (see pyproject.toml).

The app's code and migrations are outside this folder, and an sdist holds only what is
inside it: setuptools would write an archive with no code in it and report success.
"""

from __future__ import annotations

from setuptools.build_meta import *  # noqa: F403  (every other hook, unchanged)


def build_sdist(sdist_directory: str, config_settings: object = None) -> str:
    """Refuse: an sdist of this folder would hold no code (see the module docstring)."""
    raise SystemExit(
        "sessionstore has no sdist: its code (../src/sessionstore) and migrations "
        "(../migrations) are outside reference-app/, and an sdist holds only that folder. "
        "Build the wheel instead: python -m build --wheel reference-app"
    )
