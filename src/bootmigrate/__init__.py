"""bootmigrate: keep an app's client-side SQLite database on the schema its release expects.

Migrations are ``NNNN_name.up.sql`` / ``NNNN_name.down.sql`` files (or Python migrations,
``NNNN_name.up.py``) shipped inside the app's package. On boot the app calls::

    import bootmigrate
    bootmigrate.migrate(app_dir / "app.db", "myapp:migrations")

and the database either reaches the release's schema in one transaction or stays
exactly as it was, with a :class:`MigrationError` that says what is wrong and what to do.

This module only re-exports. What the boot needs (``migrate``, its report, the errors)
is imported at once; everything else on first use, so ``import bootmigrate`` costs the
app's start-up next to nothing. Every public name says ``bootmigrate`` as its module.
"""

from __future__ import annotations

from . import _errors
from ._apply.boot import migrate
from ._db.connection import DEFAULT_TIMEOUT
from ._errors import (
    ApplyError,
    BaselineError,
    DatabaseBusy,
    DatabaseTooNew,
    DatabaseTooOld,
    DatabaseUnavailable,
    DirectiveError,
    DiskFull,
    DuplicateMigration,
    EmptyMigration,
    EncodingError,
    ForeignKeyViolation,
    InvalidFileName,
    InvalidPythonMigration,
    InvalidReport,
    InvalidTarget,
    IrreversibleMigration,
    LedgerError,
    LegacyVersionTooNew,
    LockFileError,
    MigrationError,
    ModifiedMigration,
    NameMismatch,
    NoMigrations,
    NotADatabase,
    OrphanDownFile,
    OutOfOrderMigration,
    PlanError,
    PythonMigrationError,
    ReadOnlyDatabase,
    ReportError,
    RestoreError,
    SourceError,
    SourceNotFound,
    SQLiteTooOld,
    StatementError,
    TransactionControlError,
    UnrecognizedDatabase,
    UnreproducibleReport,
    UsageError,
)
from ._report import Report, Status, Step
from ._version import __version__

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from ._apply.adopt import Adoption, Baseline, additive_repair
    from ._apply.progress import ProgressEvent
    from ._apply.rehearsal import rehearse
    from ._apply.restoring import Restoration, restore
    from ._apply.runner import downgrade, status
    from ._authoring import WrittenFile, new_migration, squash, write_lock, write_schema_snapshot
    from ._checks import LockCheck, Verification, check_lock, dry_run, schema_drift, verify
    from ._db.ledger import AppliedMigration
    from ._doctor import Finding, Health, doctor
    from ._foreign.importing import ImportReport, import_migrations
    from ._plan import Modification, Plan, plan
    from ._schema.model import Column, ForeignKey, Index, Schema, SqlObject, Table, schema_diff
    from ._schema.read import canonical_schema
    from ._source.locate import load
    from ._source.model import Migration, MigrationSet, Script, Squash, Squashed
    from ._source.text import Statement
    from ._types import Connect, DatabaseLike, SourceLike

# Loaded on first use: name -> the private module that defines it.
_LAZY = {
    "downgrade": "_apply.runner",
    "status": "_apply.runner",
    "Adoption": "_apply.adopt",
    "Baseline": "_apply.adopt",
    "additive_repair": "_apply.adopt",
    "ProgressEvent": "_apply.progress",
    "rehearse": "_apply.rehearsal",
    "Restoration": "_apply.restoring",
    "restore": "_apply.restoring",
    "load": "_source.locate",
    "Migration": "_source.model",
    "MigrationSet": "_source.model",
    "Script": "_source.model",
    "Squash": "_source.model",
    "Squashed": "_source.model",
    "Statement": "_source.text",
    "Plan": "_plan",
    "Modification": "_plan",
    "plan": "_plan",
    "AppliedMigration": "_db.ledger",
    "Finding": "_doctor",
    "Health": "_doctor",
    "doctor": "_doctor",
    "diagnose": "_diagnose",
    "Connect": "_types",
    "DatabaseLike": "_types",
    "SourceLike": "_types",
    "Schema": "_schema.model",
    "Table": "_schema.model",
    "Column": "_schema.model",
    "ForeignKey": "_schema.model",
    "Index": "_schema.model",
    "SqlObject": "_schema.model",
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
    "squash": "_authoring",
    "ImportReport": "_foreign.importing",
    "import_migrations": "_foreign.importing",
}


def _public(value: object) -> object:
    """Name ``bootmigrate`` as the module of a public class, function or type alias
    (tracebacks, ``repr`` and documentation then show the name users import)."""
    try:  # noqa: SIM105 - contextlib is one more import for the boot
        setattr(value, "__module__", __name__)  # noqa: B010 - mypy: not every object has it
    except AttributeError:
        pass  # collections.abc's aliases (Connect) keep their module: it cannot be set
    return value


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib import import_module

    value = _public(getattr(import_module(f"{__name__}.{module}"), name))
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__all__ = [
    "DEFAULT_TIMEOUT",
    "Adoption",
    "AppliedMigration",
    "ApplyError",
    "Baseline",
    "BaselineError",
    "Column",
    "DatabaseBusy",
    "Connect",
    "DatabaseLike",
    "DatabaseTooNew",
    "DatabaseTooOld",
    "DatabaseUnavailable",
    "DirectiveError",
    "DiskFull",
    "DuplicateMigration",
    "EmptyMigration",
    "EncodingError",
    "Finding",
    "ForeignKey",
    "ForeignKeyViolation",
    "Health",
    "ImportReport",
    "Index",
    "InvalidFileName",
    "InvalidPythonMigration",
    "InvalidReport",
    "InvalidTarget",
    "IrreversibleMigration",
    "LedgerError",
    "LegacyVersionTooNew",
    "LockCheck",
    "LockFileError",
    "Migration",
    "MigrationError",
    "MigrationSet",
    "Modification",
    "ModifiedMigration",
    "NameMismatch",
    "NoMigrations",
    "NotADatabase",
    "OrphanDownFile",
    "OutOfOrderMigration",
    "Plan",
    "PlanError",
    "ProgressEvent",
    "PythonMigrationError",
    "ReadOnlyDatabase",
    "Report",
    "ReportError",
    "Restoration",
    "RestoreError",
    "SQLiteTooOld",
    "Schema",
    "Script",
    "SourceError",
    "SourceLike",
    "SourceNotFound",
    "SqlObject",
    "Squash",
    "Squashed",
    "Statement",
    "StatementError",
    "Status",
    "Step",
    "Table",
    "TransactionControlError",
    "UnrecognizedDatabase",
    "UnreproducibleReport",
    "UsageError",
    "Verification",
    "WrittenFile",
    "__version__",
    "additive_repair",
    "canonical_schema",
    "check_lock",
    "diagnose",
    "downgrade",
    "doctor",
    "dry_run",
    "import_migrations",
    "load",
    "migrate",
    "new_migration",
    "plan",
    "rehearse",
    "restore",
    "schema_diff",
    "schema_drift",
    "squash",
    "status",
    "verify",
    "write_lock",
    "write_schema_snapshot",
]

for _name in __all__:
    if _name not in _LAZY and _name not in ("DEFAULT_TIMEOUT", "__version__"):
        _public(globals()[_name])
for _value in vars(_errors).values():
    if isinstance(_value, type) and issubclass(_value, MigrationError):
        _public(_value)
del _name, _value
