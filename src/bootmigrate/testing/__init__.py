"""The migration test kit: checks that every database in the wild reaches the fresh schema.

An app's users hold databases at every release it ever shipped. :class:`MigrationKit`
answers, for each version, the questions CI must answer before a release::

    from bootmigrate.testing import MigrationKit

    kit = MigrationKit("myapp:migrations")
    kit.check_all()            # or one check for one version, e.g. kit.check_round_trip(3)

:func:`origin_from_report` turns a report :func:`bootmigrate.diagnose` wrote on a user's
machine into a database file with its schema, ledger and storage classes, an origin for
the kit: a failure seen in the field becomes a failing test.

The pytest plugin (``pytest --bootmigrate``, ``bootmigrate.testing.plugin``) generates
one test per check and version. The names are loaded on first use: the plugin module is
imported by every pytest run of a project that installs bootmigrate, and it must not
pay for the kit unless the kit is used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._fingerprint import fingerprint
    from ._kit import (
        CHECKS,
        FillHook,
        MigrationCheckFailed,
        MigrationKit,
        OriginBuilder,
        PrepareHook,
        RowsHook,
        UpgradeHook,
    )
    from ._origin import origin_from_report

__all__ = [
    "CHECKS",
    "FillHook",
    "MigrationCheckFailed",
    "MigrationKit",
    "OriginBuilder",
    "PrepareHook",
    "RowsHook",
    "UpgradeHook",
    "fingerprint",
    "origin_from_report",
]


def __getattr__(name: str) -> Any:
    if name == "fingerprint":
        from ._fingerprint import fingerprint

        return fingerprint
    if name == "origin_from_report":
        from . import _origin

        return getattr(_origin, name)
    if name in __all__:
        from . import _kit as kit

        return getattr(kit, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
