"""The hook an app's ``conftest.py`` may implement to give the test kit its hooks."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from ._kit import MigrationKit


@pytest.hookspec(firstresult=True)
def pytest_bootmigrate_kit(config: pytest.Config, source: str) -> MigrationKit | None:
    """Return the :class:`~bootmigrate.testing.MigrationKit` for *source*, or None.

    Implement it in ``conftest.py`` to give the kit the app's hooks, e.g.::

        def pytest_bootmigrate_kit(config, source):
            return MigrationKit(source, fill=add_rows, origins={"legacy 13": build_13})

    The generated tests (``pytest --bootmigrate``) and the ``bootmigrate_kit`` fixture
    both use it.
    """
