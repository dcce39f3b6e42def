"""The public surface: fails when it drifts, so that a change to it is a decision.

Adding a public name? Add it to ``__all__`` in src/bootmigrate/__init__.py AND to
EXPECTED below, with a docstring.
"""

from __future__ import annotations

import inspect

import bootmigrate
from bootmigrate import _errors

EXPECTED = [
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


def public_objects() -> list[tuple[str, object]]:
    return [(name, getattr(bootmigrate, name)) for name in bootmigrate.__all__]


def test_all_is_exactly_the_expected_list() -> None:
    assert sorted(bootmigrate.__all__) == sorted(EXPECTED)
    assert len(set(bootmigrate.__all__)) == len(bootmigrate.__all__)


def test_star_import_gives_exactly_all() -> None:
    namespace: dict[str, object] = {}
    exec("from bootmigrate import *", namespace)
    assert sorted(k for k in namespace if k != "__builtins__") == sorted(bootmigrate.__all__)


def test_every_public_name_has_a_docstring() -> None:
    missing = [
        name
        for name, obj in public_objects()
        if (inspect.isclass(obj) or callable(obj)) and not (inspect.getdoc(obj) or "").strip()
    ]
    assert missing == []


def test_every_public_method_and_property_has_a_docstring() -> None:
    missing = []
    for name, obj in public_objects():
        if not inspect.isclass(obj) or issubclass(obj, BaseException):
            continue
        for attribute, value in vars(obj).items():
            if attribute.startswith("_"):
                continue
            if isinstance(value, (staticmethod, classmethod)):
                value = value.__func__
            documentable = callable(value) or isinstance(value, property)
            if documentable and not (value.__doc__ or "").strip():
                missing.append(f"{name}.{attribute}")
    assert missing == []


def test_every_exception_is_a_migration_error() -> None:
    exceptions = [
        obj
        for _, obj in public_objects()
        if inspect.isclass(obj) and issubclass(obj, BaseException)
    ]
    assert bootmigrate.MigrationError in exceptions
    assert [e.__name__ for e in exceptions if not issubclass(e, bootmigrate.MigrationError)] == []


def test_every_exception_of_the_errors_module_is_public() -> None:
    defined = {
        name
        for name, obj in vars(_errors).items()
        if inspect.isclass(obj)
        and issubclass(obj, BaseException)
        and obj.__module__ == _errors.__name__
    }
    assert defined - set(bootmigrate.__all__) == set()


def test_the_error_tree_of_the_readme() -> None:
    # The README draws this tree; callers catch by these families.
    families = {
        bootmigrate.UsageError: bootmigrate.MigrationError,
        bootmigrate.SourceError: bootmigrate.MigrationError,
        bootmigrate.PlanError: bootmigrate.MigrationError,
        bootmigrate.ApplyError: bootmigrate.MigrationError,
        bootmigrate.SourceNotFound: bootmigrate.SourceError,
        bootmigrate.InvalidFileName: bootmigrate.SourceError,
        bootmigrate.DuplicateMigration: bootmigrate.SourceError,
        bootmigrate.NameMismatch: bootmigrate.SourceError,
        bootmigrate.OrphanDownFile: bootmigrate.SourceError,
        bootmigrate.EncodingError: bootmigrate.SourceError,
        bootmigrate.EmptyMigration: bootmigrate.SourceError,
        bootmigrate.TransactionControlError: bootmigrate.SourceError,
        bootmigrate.DirectiveError: bootmigrate.SourceError,
        bootmigrate.DatabaseTooNew: bootmigrate.PlanError,
        bootmigrate.ModifiedMigration: bootmigrate.PlanError,
        bootmigrate.OutOfOrderMigration: bootmigrate.PlanError,
        bootmigrate.IrreversibleMigration: bootmigrate.PlanError,
        bootmigrate.InvalidTarget: bootmigrate.PlanError,
        bootmigrate.StatementError: bootmigrate.ApplyError,
        bootmigrate.ForeignKeyViolation: bootmigrate.ApplyError,
        bootmigrate.DatabaseBusy: bootmigrate.ApplyError,
        bootmigrate.DiskFull: bootmigrate.ApplyError,
        bootmigrate.ReadOnlyDatabase: bootmigrate.ApplyError,
        bootmigrate.NotADatabase: bootmigrate.ApplyError,
        bootmigrate.DatabaseUnavailable: bootmigrate.ApplyError,
        bootmigrate.LedgerError: bootmigrate.ApplyError,
    }
    wrong = [child.__name__ for child, parent in families.items() if child.__base__ is not parent]
    assert wrong == []


def test_version_is_a_string() -> None:
    assert isinstance(bootmigrate.__version__, str)
    assert bootmigrate.__version__[0].isdigit()
