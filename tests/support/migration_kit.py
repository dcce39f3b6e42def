"""The test kit's hook for the reference app: every legacy shape is an origin.

tests/conftest.py loads this module as a pytest plugin, so ``pytest --bootmigrate``
(``make migrate-test``) checks, besides the migrations themselves, that each database the
legacy daemon left behind (tests/support/legacy_store.py), opened by ``sessionstore.open``,
reaches the schema of a new store: ``bootmigrate::origin[upgraded-13]`` and so on.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from bootmigrate.testing import MigrationKit

#: Shapes that ``open`` refuses on purpose rather than takes over.
REFUSED = frozenset({"legacy-23"})


def _builder(shape: str) -> Callable[[Path], object]:
    def build(path: Path) -> object:
        from legacy_store import build

        return build(path, shape)

    return build


def _open_like_the_app(path: Path) -> None:
    import sessionstore

    sessionstore.open(path).close()


def pytest_bootmigrate_kit(config: pytest.Config, source: str) -> MigrationKit:
    """The kit with the legacy shapes as origins, upgraded by ``sessionstore.open``."""
    from legacy_store import SHAPES

    origins = {shape: _builder(shape) for shape in SHAPES if shape not in REFUSED}
    return MigrationKit(source, origins=origins, upgrade=_open_like_the_app)
