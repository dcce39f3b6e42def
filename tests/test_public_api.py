"""The public surface: fails when it drifts, so that a change to it is a decision.

Adding a public name? Add it to ``__all__`` in src/bootmigrate/__init__.py AND to
EXPECTED below, with a docstring (a ``#:`` comment for an alias or a constant), and
to the API reference in docs/.
"""

from __future__ import annotations

import functools
import inspect
import re
import subprocess
import sys
import textwrap
import types
from dataclasses import dataclass
from pathlib import Path

import bootmigrate
import bootmigrate.testing
from bootmigrate import _errors

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
# The modules whose __all__ is public: each name is documented and in the API reference.
PUBLIC_MODULES = (bootmigrate, bootmigrate.testing)

EXPECTED = [
    "DEFAULT_TIMEOUT",
    "Adoption",
    "AppliedMigration",
    "ApplyError",
    "Baseline",
    "Column",
    "DatabaseBusy",
    "Connect",
    "DatabaseLike",
    "DatabaseTooNew",
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
    "Restoration",
    "RestoreError",
    "SQLiteTooOld",
    "Schema",
    "Script",
    "SourceError",
    "SourceLike",
    "SourceNotFound",
    "SqlObject",
    "Statement",
    "StatementError",
    "Status",
    "Step",
    "Table",
    "TransactionControlError",
    "UnrecognizedDatabase",
    "UsageError",
    "Verification",
    "WrittenFile",
    "__version__",
    "additive_repair",
    "canonical_schema",
    "check_lock",
    "diagnose",
    "doctor",
    "downgrade",
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
    "status",
    "verify",
    "write_lock",
    "write_schema_snapshot",
    # Squashed history (issue 13).
    "BaselineError",
    "DatabaseTooOld",
    "Squash",
    "Squashed",
    "squash",
    # Diagnostic reports turned into test databases (issue 14).
    "ReportError",
    "InvalidReport",
    "UnreproducibleReport",
]
# Type aliases: documented where they are defined (src/bootmigrate/_types.py) and in the
# README; a Union cannot carry a docstring of its own.
ALIASES = {"Connect", "DatabaseLike", "SourceLike"}


def public_objects() -> list[tuple[str, object]]:
    return [(name, getattr(bootmigrate, name)) for name in bootmigrate.__all__]


def test_all_is_exactly_the_expected_list() -> None:
    assert sorted(bootmigrate.__all__) == sorted(EXPECTED)
    assert len(set(bootmigrate.__all__)) == len(bootmigrate.__all__)


def test_star_import_gives_exactly_all() -> None:
    namespace: dict[str, object] = {}
    exec("from bootmigrate import *", namespace)
    assert sorted(k for k in namespace if k != "__builtins__") == sorted(bootmigrate.__all__)


def every_public_object() -> list[tuple[str, object]]:
    """``(bootmigrate.X, X)`` and ``(bootmigrate.testing.Y, Y)`` for every public name."""
    return [
        (f"{module.__name__}.{name}", getattr(module, name))
        for module in PUBLIC_MODULES
        for name in module.__all__
    ]


def _own_docstring(obj: object) -> str:
    """*obj*'s docstring, not one it inherits or one a decorator made up."""
    if inspect.isclass(obj):
        doc = vars(obj).get("__doc__") or ""
        if doc.startswith(f"{obj.__name__}("):
            return ""  # the signature @dataclass writes when the class has no docstring
        return doc.strip()
    return (getattr(obj, "__doc__", None) or "").strip()


def _doc_comment(name: str, value: object) -> str:
    """The ``#:`` comment above the assignment that defines *name* (an alias, a constant)."""
    for module_name, module in sorted(sys.modules.items()):
        if not module_name.startswith("bootmigrate.") or vars(module).get(name) is not value:
            continue
        lines = inspect.getsource(module).splitlines()
        for number, line in enumerate(lines):
            if re.match(rf"{re.escape(name)}\s*(:[^=]*)?=", line):
                comment: list[str] = []
                while number > 0 and lines[number - 1].startswith("#:"):
                    number -= 1
                    comment.insert(0, lines[number][2:].strip())
                return " ".join(comment)
    return ""


def _is_class(obj: object) -> bool:
    # On Python 3.9 and 3.10 an alias such as Callable[[Path], object] passes isclass().
    return inspect.isclass(obj) and not isinstance(obj, types.GenericAlias)


def test_every_public_name_has_a_docstring() -> None:
    # A docstring of its own: inspect.getdoc would accept an error class's parent's.
    missing = [
        name
        for name, obj in every_public_object()
        if (_is_class(obj) or inspect.isroutine(obj)) and not _own_docstring(obj)
    ]
    assert missing == []


def test_every_public_alias_and_constant_has_a_doc_comment() -> None:
    # A Union, a Callable alias, a number or a tuple cannot carry a docstring: the
    # ``#:`` comment above its definition is what help texts and the API reference show.
    undocumented = [
        name
        for name, obj in every_public_object()
        if not (_is_class(obj) or inspect.isroutine(obj))
        and not _doc_comment(name.rpartition(".")[2], obj)
    ]
    assert undocumented == []


def test_a_missing_docstring_is_found() -> None:
    # The checks above, on names without documentation of their own.
    class Undocumented(bootmigrate.SourceError):
        pass

    @dataclass
    class Record:
        field: int

    assert _own_docstring(Undocumented) == ""
    assert _own_docstring(Record) == ""
    assert _own_docstring(bootmigrate.SourceError) != ""
    assert _doc_comment("UNCHANGED", _errors.UNCHANGED) != ""
    assert _doc_comment("TYPE_CHECKING", _errors.TYPE_CHECKING) == ""


def test_no_public_docstring_points_at_a_private_module() -> None:
    # The user reads these in help() and the API reference, where private modules are
    # neither documented nor promised to stay.
    private = re.compile(r"bootmigrate\._|:mod:`~?\.|``_[a-z]+\.|\b_[a-z_]+\.py\b")
    found = []
    for name, obj in every_public_object():
        docs = [(name, _own_docstring(obj))]
        if inspect.isclass(obj):
            docs += [
                (f"{name}.{attribute}", _own_docstring(_unwrapped(value)))
                for attribute, value in vars(obj).items()
                if not attribute.startswith("_")
            ]
        found += [f"{where}: {match}" for where, doc in docs for match in private.findall(doc)]
    for module in PUBLIC_MODULES:
        found += [f"{module.__name__}: {m}" for m in private.findall(module.__doc__ or "")]
    assert found == []


def _unwrapped(value: object) -> object:
    if isinstance(value, (staticmethod, classmethod)):
        return value.__func__
    if isinstance(value, property):
        return value.fget
    if isinstance(value, functools.cached_property):
        return value.func
    return value


def test_the_api_reference_lists_every_public_name_once() -> None:
    # docs/*.rst name each public name in an autodoc directive; `make docs` renders them.
    listed: dict[str, list[str]] = {module.__name__: [] for module in PUBLIC_MODULES}
    module = ""
    for page in sorted((ROOT / "docs").glob("*.rst")):
        for line in page.read_text(encoding="utf-8").splitlines():
            directive = re.match(r"\.\. (\w+):: (\S+)", line)
            if not directive:
                continue
            kind, target = directive.groups()
            if kind in ("automodule", "module", "currentmodule"):
                module = target
            elif kind in ("autoclass", "autoexception", "autofunction", "autodata"):
                listed[module].append(target)
    for public in PUBLIC_MODULES:
        names = listed[public.__name__]
        assert sorted(set(names)) == sorted(public.__all__), public.__name__
        assert len(names) == len(set(names)), public.__name__


def test_every_public_name_says_bootmigrate_as_its_module() -> None:
    # A user's traceback shows bootmigrate.LegacyVersionTooNew, not a private module.
    # Connect is collections.abc.Callable[...], whose module cannot be set (and which no
    # traceback shows).
    wrong = [
        f"{name}: {obj.__module__}"
        for name, obj in public_objects()
        if not isinstance(obj, (str, float))
        and obj.__module__ != "bootmigrate"
        and (name, obj.__module__) != ("Connect", "collections.abc")
    ]
    assert wrong == []


def test_an_error_raised_before_anything_is_looked_up_is_named_bootmigrate(tmp_path) -> None:
    # Set when the package is imported, not when a name is first looked up.
    code = (
        "import sys, bootmigrate\n"
        "try:\n"
        "    bootmigrate.migrate(sys.argv[1], sys.argv[1])\n"
        "except Exception as exc:\n"
        "    print(type(exc).__module__, type(exc).__qualname__)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "missing")],
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.split() == ["bootmigrate", "SourceNotFound"]


# Names that may appear in public signatures without being bootmigrate's own.
_FOREIGN = {
    "Any", "Callable", "Collection", "Iterable", "Iterator", "Literal", "Mapping",
    "None", "Path", "PathLike", "Sequence", "bool", "bytes", "dict", "float", "frozenset",
    "int", "list", "object", "os", "set", "sqlite3", "Connection", "str", "tuple",
    "Repair", "State", "Prepare", "Kind", "TypeVar", "Self", "BaseException",
}  # fmt: skip


def _annotations(obj: object) -> list[str]:
    found: list[str] = []
    targets = [obj]
    if inspect.isclass(obj):
        targets = [obj.__init__, *(v for k, v in vars(obj).items() if not k.startswith("_"))]
        found += [str(a) for a in getattr(obj, "__annotations__", {}).values()]
    for target in targets:
        if isinstance(target, property):
            target = target.fget
        found += [str(a) for a in getattr(target, "__annotations__", {}).values()]
    return found


def test_the_types_in_public_signatures_are_exported() -> None:
    exported = set(bootmigrate.__all__)
    missing = set()
    for name, obj in public_objects():
        if name in ALIASES or not (inspect.isclass(obj) or callable(obj)):
            continue
        for annotation in _annotations(obj):
            for word in re.findall(r"[A-Za-z_][A-Za-z0-9_]*", annotation):
                if word[0].isupper() and word not in exported and word not in _FOREIGN:
                    missing.add(f"{name}: {word}")
    assert sorted(missing) == []


def test_every_public_method_and_property_has_a_docstring() -> None:
    missing = []
    for name, obj in every_public_object():
        if not inspect.isclass(obj) or issubclass(obj, BaseException):
            continue
        for attribute, value in vars(obj).items():
            if attribute.startswith("_"):
                continue
            if isinstance(value, (staticmethod, classmethod)):
                value = value.__func__
            documentable = callable(value) or isinstance(
                value, (property, functools.cached_property)
            )
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


def _error_classes() -> dict[str, type]:
    return {
        name: obj
        for name, obj in vars(_errors).items()
        if inspect.isclass(obj) and issubclass(obj, bootmigrate.MigrationError)
    }


def test_every_exception_of_the_errors_module_is_public() -> None:
    assert len(_error_classes()) >= 30
    assert set(_error_classes()) - set(bootmigrate.__all__) == set()


def test_every_exception_lives_in_the_errors_module() -> None:
    exported = {
        name
        for name, obj in public_objects()
        if inspect.isclass(obj) and issubclass(obj, BaseException)
    }
    assert exported == set(_error_classes())


def _drawn_tree(text: str) -> dict[str, str]:
    """``{class: parent}`` from a tree drawn with ├── / └── lines."""
    parents: dict[str, str] = {}
    stack: list[tuple[int, str]] = []
    for line in text.splitlines():
        match = re.match(
            r"^(\s*(?:[│ ]   )*)(?:[├└]── )?([A-Z][A-Za-z]+Error|[A-Z][A-Za-z]+)\b", line
        )
        if not match or ("──" not in line and match.group(2) != "MigrationError"):
            continue
        depth = len(match.group(1)) // 4 + ("──" in line)
        name = match.group(2)
        while stack and stack[-1][0] >= depth:
            stack.pop()
        if stack:
            parents[name] = stack[-1][1]
        stack.append((depth, name))
    return parents


def _tree_block(text: str) -> str:
    start = (
        text.index("    MigrationError\n")
        if "    MigrationError\n" in text
        else text.index("MigrationError\n├")
    )
    end = text.index("\n\n", start)
    return textwrap.dedent(text[start:end])


def test_the_error_tree_is_drawn_once_in_the_docstring_and_the_readme() -> None:
    actual = {
        name: cls.__mro__[1].__name__
        for name, cls in _error_classes().items()
        if cls is not bootmigrate.MigrationError
    }
    docstring = _drawn_tree(_tree_block(_errors.__doc__ or ""))
    readme = _drawn_tree(_tree_block(README.read_text(encoding="utf-8")))
    assert docstring == actual
    assert readme == actual


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
        bootmigrate.InvalidPythonMigration: bootmigrate.SourceError,
        bootmigrate.DatabaseTooNew: bootmigrate.PlanError,
        bootmigrate.ModifiedMigration: bootmigrate.PlanError,
        bootmigrate.OutOfOrderMigration: bootmigrate.PlanError,
        bootmigrate.IrreversibleMigration: bootmigrate.PlanError,
        bootmigrate.InvalidTarget: bootmigrate.PlanError,
        bootmigrate.StatementError: bootmigrate.ApplyError,
        bootmigrate.PythonMigrationError: bootmigrate.ApplyError,
        bootmigrate.ForeignKeyViolation: bootmigrate.ApplyError,
        bootmigrate.DatabaseBusy: bootmigrate.ApplyError,
        bootmigrate.DiskFull: bootmigrate.ApplyError,
        bootmigrate.ReadOnlyDatabase: bootmigrate.ApplyError,
        bootmigrate.NotADatabase: bootmigrate.ApplyError,
        bootmigrate.DatabaseUnavailable: bootmigrate.ApplyError,
        bootmigrate.LedgerError: bootmigrate.ApplyError,
        bootmigrate.RestoreError: bootmigrate.ApplyError,
        bootmigrate.SQLiteTooOld: bootmigrate.ApplyError,
        bootmigrate.ReportError: bootmigrate.MigrationError,
        bootmigrate.InvalidReport: bootmigrate.ReportError,
        bootmigrate.UnreproducibleReport: bootmigrate.ReportError,
    }
    wrong = [child.__name__ for child, parent in families.items() if child.__base__ is not parent]
    assert wrong == []


def test_version_is_a_string() -> None:
    assert isinstance(bootmigrate.__version__, str)
    assert bootmigrate.__version__[0].isdigit()
