"""bootmigrate: keep an app's client-side SQLite database on the schema its release expects.

Migrations are ``NNNN_name.up.sql`` / ``NNNN_name.down.sql`` files shipped inside the
app's package. On boot the app calls::

    import bootmigrate
    bootmigrate.migrate(app_dir / "app.db", "myapp:migrations")

and the database either reaches the release's schema in one transaction or stays
exactly as it was, with a :class:`MigrationError` that says what is wrong and what to do.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._apply.adopt import (
    Adoption,
    Baseline,
    LegacyVersionTooNew,
    UnrecognizedDatabase,
    additive_repair,
)
from ._apply.runner import downgrade, migrate, status
from ._db.connection import DEFAULT_TIMEOUT
from ._errors import (
    ApplyError,
    DatabaseBusy,
    DatabaseTooNew,
    DatabaseUnavailable,
    DirectiveError,
    DiskFull,
    DuplicateMigration,
    EmptyMigration,
    EncodingError,
    ForeignKeyViolation,
    InvalidFileName,
    InvalidTarget,
    IrreversibleMigration,
    LedgerError,
    MigrationError,
    ModifiedMigration,
    NameMismatch,
    NotADatabase,
    OrphanDownFile,
    OutOfOrderMigration,
    PlanError,
    ReadOnlyDatabase,
    SourceError,
    SourceNotFound,
    StatementError,
    TransactionControlError,
    UsageError,
)
from ._plan import AppliedMigration, Plan, plan
from ._report import Report, Status, Step
from ._source.locate import load
from ._source.model import Migration, MigrationSet, Script
from ._version import __version__

if TYPE_CHECKING:
    from ._authoring import WrittenFile, new_migration, write_lock, write_schema_snapshot
    from ._checks import LockCheck, Verification, check_lock, dry_run, schema_drift, verify
    from ._schema.model import Schema, schema_diff
    from ._schema.read import canonical_schema

# The schema tools, checks and authoring commands serve tests, CI and the CLI, not the
# app's boot, and importing them costs more than the whole no-op boot check: they are
# imported on first use. {public name: the module that defines it}
_LAZY = {
    "Schema": "_schema.model",
    "schema_diff": "_schema.model",
    "canonical_schema": "_schema.read",
    "LockCheck": "_checks",
    "Verification": "_checks",
    "check_lock": "_checks",
    "dry_run": "_checks",
    "schema_drift": "_checks",
    "verify": "_checks",
    "WrittenFile": "_authoring",
    "new_migration": "_authoring",
    "write_lock": "_authoring",
    "write_schema_snapshot": "_authoring",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is not None:
        from importlib import import_module

        return getattr(import_module(f"{__name__}.{module}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "DEFAULT_TIMEOUT",
    "Adoption",
    "AppliedMigration",
    "ApplyError",
    "Baseline",
    "DatabaseBusy",
    "DatabaseTooNew",
    "DatabaseUnavailable",
    "DirectiveError",
    "DiskFull",
    "DuplicateMigration",
    "EmptyMigration",
    "EncodingError",
    "ForeignKeyViolation",
    "InvalidFileName",
    "InvalidTarget",
    "IrreversibleMigration",
    "LedgerError",
    "LegacyVersionTooNew",
    "LockCheck",
    "Migration",
    "MigrationError",
    "MigrationSet",
    "ModifiedMigration",
    "NameMismatch",
    "NotADatabase",
    "OrphanDownFile",
    "OutOfOrderMigration",
    "Plan",
    "PlanError",
    "ReadOnlyDatabase",
    "Report",
    "Schema",
    "Script",
    "SourceError",
    "SourceNotFound",
    "StatementError",
    "Status",
    "Step",
    "TransactionControlError",
    "UnrecognizedDatabase",
    "UsageError",
    "Verification",
    "WrittenFile",
    "__version__",
    "additive_repair",
    "canonical_schema",
    "check_lock",
    "downgrade",
    "dry_run",
    "load",
    "migrate",
    "new_migration",
    "plan",
    "schema_diff",
    "schema_drift",
    "status",
    "verify",
    "write_lock",
    "write_schema_snapshot",
]
