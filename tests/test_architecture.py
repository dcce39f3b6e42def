"""Issue 9's one-owner rules, read from the source tree with ``ast``.

Each rule is a test that fails when someone gives a concern a second owner: a second
module that writes the runner's tables, maps SQLite's errors, runs migration SQL or
parses the lock file, or an import that points up the layers. Each detector is a plain
function, first shown to find what it looks for in small sources written here (so a
rule cannot pass by finding nothing), then run on every module of src/bootmigrate.

The detectors read code, not behaviour: each says in its docstring what it sees and
what it cannot see. Where the tree would have to break a rule, the exception is listed
by name with the reason (none today), and one test keeps every other module out.

Pure: no database. The last test starts one quick subprocess (the boot's import path).
"""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path

from bootmigrate import _errors
from bootmigrate._db import errors as db_errors
from bootmigrate._db import ledger
from dbfiles import REPO

SRC = REPO / "src"
PACKAGE = SRC / "bootmigrate"


def sources() -> dict[str, str]:
    """``{path relative to src/bootmigrate: source text}`` of every module."""
    return {
        path.relative_to(PACKAGE).as_posix(): path.read_text(encoding="utf-8")
        for path in sorted(PACKAGE.rglob("*.py"))
    }


def module_name(relative: str) -> str:
    """``_db/ledger.py`` -> ``bootmigrate._db.ledger``; ``__init__.py`` -> ``bootmigrate``."""
    parts = ["bootmigrate", *relative[: -len(".py")].split("/")]
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


Detector = Callable[[ast.AST], Iterable[int]]


def scan(texts: Mapping[str, str], detector: Detector) -> dict[str, list[int]]:
    """Run *detector* on every module: ``{module: lines}`` of those with findings."""
    found = {}
    for relative, text in texts.items():
        lines = sorted(set(detector(ast.parse(text))))
        if lines:
            found[relative] = lines
    return found


def one(text: str, detector: Detector) -> list[int]:
    """The detector's findings in a small source written in a test."""
    return sorted(set(detector(ast.parse(textwrap.dedent(text)))))


def identifier(node: ast.AST) -> str | None:
    """``name`` of ``name`` and of ``anything.name``; None for other expressions."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def call_name(node: ast.Call) -> str:
    """``conn.execute(...)`` and ``execute(...)`` are both ``execute``."""
    function = node.func
    if isinstance(function, ast.Attribute):
        return function.attr
    if isinstance(function, ast.Name):
        return function.id
    return ""


# -- strings as the code spells them ------------------------------------------------------

# Constants whose value a rendered string shows (f"INSERT INTO main.{LEDGER_TABLE}").
KNOWN_NAMES = {"LEDGER_TABLE": ledger.LEDGER_TABLE, "META_TABLE": ledger.META_TABLE}


def render(node: ast.AST) -> str | None:
    """The text of a string expression: a literal, an f-string (known constants filled
    in, anything else as ``{}``) or a ``+`` of those; None for anything else."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, (ast.Name, ast.Attribute)):
        name = node.id if isinstance(node, ast.Name) else node.attr
        return KNOWN_NAMES.get(name)
    if isinstance(node, ast.JoinedStr):
        parts = []
        for value in node.values:
            if isinstance(value, ast.FormattedValue):
                parts.append(render(value.value) or "{}")
            else:
                parts.append(render(value) or "")
        return "".join(parts)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = render(node.left), render(node.right)
        if left is not None or right is not None:
            return (left or "{}") + (right or "{}")
    return None


def strings(tree: ast.AST) -> Iterator[tuple[int, str]]:
    """``(line, text)`` of every string expression (nested parts are seen again)."""
    for node in ast.walk(tree):
        if isinstance(node, (ast.Constant, ast.JoinedStr, ast.BinOp)):
            text = render(node)
            if text is not None:
                yield node.lineno, text


# -- rule 1: one writer of the runner's tables ---------------------------------------------

OWN_TABLE_WRITE = re.compile(
    r"\b(?:INSERT(?:\s+OR\s+\w+)?\s+INTO|REPLACE\s+INTO|UPDATE(?:\s+OR\s+\w+)?"
    r"|DELETE\s+FROM|CREATE\s+(?:TEMP\s+|TEMPORARY\s+)?TABLE(?:\s+IF\s+NOT\s+EXISTS)?"
    r"|DROP\s+TABLE(?:\s+IF\s+EXISTS)?|ALTER\s+TABLE)"
    r"\s+(?:[\"`\[]?main[\"`\]]?\s*\.\s*)?[\"`\[]?bootmigrate_(?:ledger|meta)\b",
    re.IGNORECASE,
)


def own_table_writes(tree: ast.AST) -> Iterator[int]:
    """SQL text that writes ``bootmigrate_ledger`` or ``bootmigrate_meta``: INSERT,
    REPLACE, UPDATE, DELETE, CREATE/DROP/ALTER TABLE naming one of them, spelled out or
    through ``LEDGER_TABLE``/``META_TABLE`` in an f-string or a ``+``. It cannot see a
    table name built any other way (``.format()``, a variable)."""
    for line, text in strings(tree):
        if OWN_TABLE_WRITE.search(text):
            yield line


def test_the_writer_detector_finds_writes_and_only_writes() -> None:
    found = one(
        """
        conn.execute("SELECT * FROM bootmigrate_ledger")                         # 2: a read
        conn.execute(f"DELETE FROM main.{LEDGER_TABLE} WHERE version = ?", (v,)) # 3
        conn.execute("update " + ledger.META_TABLE + " set value = '2'")          # 4
        conn.execute("CREATE TABLE IF NOT EXISTS bootmigrate_meta (k)")           # 5
        conn.execute("CREATE TABLE bootmigrate_ledger2 (x)")                      # 6: not ours
        conn.execute('INSERT OR REPLACE INTO "bootmigrate_ledger" VALUES (1)')    # 7
        """,
        own_table_writes,
    )
    assert found == [3, 4, 5, 7]


def test_only_the_ledger_module_writes_the_runners_tables() -> None:
    found = scan(sources(), own_table_writes)
    assert found.pop("_db/ledger.py"), "the detector no longer sees the ledger's own writes"
    assert found == {}


# -- rule 2: one translator of SQLite's errors ----------------------------------------------

# SQLite's result codes, as the translator knows them, by number and by name.
RESULT_CODES = {
    db_errors.BUSY,
    db_errors.LOCKED,
    db_errors.READONLY,
    db_errors.IOERR,
    db_errors.CORRUPT,
    db_errors.FULL,
    db_errors.CANTOPEN,
    db_errors.AUTH,
    db_errors.NOTADB,
    db_errors._BUSY_SNAPSHOT,
    *db_errors._WRITE_ERRORS,
}
RESULT_CODE_NAMES = {"BUSY", "LOCKED", "READONLY", "IOERR", "CORRUPT", "FULL", "CANTOPEN"}
RESULT_CODE_NAMES |= {"AUTH", "NOTADB"}
ERROR_CLASSES = {
    name
    for name, value in vars(_errors).items()
    if isinstance(value, type) and issubclass(value, _errors.MigrationError)
}
ERROR_CODE_ATTRIBUTES = ("sqlite_errorcode", "sqlite_errorname")
# SQLite's own message texts (Python 3.9 and 3.10 give only these).
SQLITE_MESSAGES = tuple(db_errors._MESSAGES)


def _compares_a_result_code(test: ast.AST) -> bool:
    for node in ast.walk(test):
        if not isinstance(node, ast.Compare):
            continue
        if "version_info" in ast.unparse(node):
            continue  # sys.version_info >= (3, 11): not an error code
        for part in ast.walk(node):
            name = identifier(part) or ""
            if isinstance(part, ast.Constant) and type(part.value) is int:
                if part.value in RESULT_CODES:
                    return True
            elif name in RESULT_CODE_NAMES or name.startswith("SQLITE_"):
                return True
    return False


def _raises_a_migration_error(body: list[ast.stmt]) -> bool:
    for statement in body:
        for node in ast.walk(statement):
            if isinstance(node, ast.Raise) and node.exc is not None:
                raised = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
                if isinstance(raised, ast.Name) and raised.id in ERROR_CLASSES:
                    return True
    return False


def error_translations(tree: ast.AST) -> Iterator[int]:
    """Reading ``sqlite_errorcode``/``sqlite_errorname`` (as an attribute or a string
    for ``getattr``); a string holding one of SQLite's error messages ("database is
    locked", ...); an ``if`` that compares something with a SQLite result code (a number
    the translator knows, its name, or ``sqlite3.SQLITE_*``) and raises a
    :class:`MigrationError` class in its body. It cannot see a mapping spelled another
    way (a dict lookup, a code in a variable of another name)."""
    for node in ast.walk(tree):
        if (isinstance(node, ast.Attribute) and node.attr in ERROR_CODE_ATTRIBUTES) or (
            isinstance(node, ast.If)
            and _compares_a_result_code(node.test)
            and _raises_a_migration_error(node.body)
        ):
            yield node.lineno
    for line, text in strings(tree):
        lowered = text.lower()
        if lowered in ERROR_CODE_ATTRIBUTES or any(
            message in lowered for message in SQLITE_MESSAGES
        ):
            yield line


# Today's second translators, by module, and why each is one.
TRANSLATING_TODAY: dict[str, str] = {}


def test_the_translation_detector_finds_each_kind() -> None:
    found = one(
        """
        code = getattr(exc, "sqlite_errorcode", None)         # 2
        code = exc.sqlite_errorcode                           # 3
        if "database is locked" in str(exc):                  # 4
            raise DatabaseBusy(name, timeout)
        if status in (5, 6):                                  # 6
            raise DatabaseBusy(name, timeout)
        if code(exc) == READONLY and hot:                     # 8
            raise ReadOnlyDatabase(name, "hot journal")
        if exc.sqlite_errorcode == sqlite3.SQLITE_FULL:       # 10
            raise DiskFull(name)
        if sys.version_info >= (3, 11):                       # 12: not a code
            raise UsageError("new Python")
        if len(versions) > 6:                                 # 14: raises nothing
            return versions
        """,
        error_translations,
    )
    assert found == [2, 3, 4, 6, 8, 10]


def test_no_new_module_translates_sqlite_errors() -> None:
    found = scan(sources(), error_translations)
    assert found.pop("_db/errors.py"), "the detector no longer sees the translator itself"
    assert sorted(set(found) - set(TRANSLATING_TODAY)) == []


def test_only_the_translator_maps_sqlite_errors() -> None:
    found = scan(sources(), error_translations)
    found.pop("_db/errors.py")
    assert found == {}


# -- rule 3: one executor of migration SQL -------------------------------------------------

SPLITTERS = {"statement_spans", "split", "iter_split"}


def _loop_names(loop: ast.For | ast.comprehension) -> set[str]:
    """The names a loop binds when it iterates the splitter's output or ``.statements``."""
    source = loop.iter
    from_splitter = (isinstance(source, ast.Call) and call_name(source) in SPLITTERS) or (
        isinstance(source, ast.Attribute) and source.attr == "statements"
    )
    if not from_splitter:
        return set()
    return {n.id for n in ast.walk(loop.target) if isinstance(n, ast.Name)}


def migration_sql_runs(tree: ast.AST) -> Iterator[int]:
    """``executescript(...)`` anywhere; ``execute``/``executemany`` of a ``.sql``
    attribute (a :class:`Statement`'s text); ``execute`` of a name bound by a loop over
    ``statement_spans``/``split``/``iter_split`` or a script's ``.statements`` (anywhere
    in the same module; ``str.split`` counts too: running the pieces of a text is running
    SQL the executor did not split). It cannot see SQL taken from a migration by other
    means: additive_repair's CREATE statements, read back from ``sqlite_master``, run
    through ``conn.execute`` inside ``Executor.call`` (whose guard covers them) and are
    not seen here."""
    bound: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.For, ast.comprehension)):
            bound |= _loop_names(node)
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = call_name(node)
        if name == "executescript":
            yield node.lineno
        elif name in ("execute", "executemany") and node.args:
            first = node.args[0]
            if (isinstance(first, ast.Attribute) and first.attr == "sql") or (
                isinstance(first, ast.Name) and first.id in bound
            ):
                yield node.lineno


# Today's second executors, by module, and why each is one.
EXECUTING_TODAY: dict[str, str] = {}


def test_the_execution_detector_finds_each_kind() -> None:
    found = one(
        """
        conn.executescript(script.text)                      # 2
        for statement in script.statements:
            conn.execute(statement.sql)                      # 4
        for _first, _end, sql in statement_spans(text):
            run(sql)                                         # 6: not an execute call
            execute(sql)                                     # 7
        for line in text.split("\\n"):
            conn.execute(line)                               # 9
        conn.execute("PRAGMA foreign_key_check")             # 10: the runner's own
        """,
        migration_sql_runs,
    )
    assert found == [2, 4, 7, 9]


def test_no_new_module_runs_migration_sql() -> None:
    found = scan(sources(), migration_sql_runs)
    assert found.pop("_apply/executor.py"), "the detector no longer sees the executor"
    assert sorted(set(found) - set(EXECUTING_TODAY)) == []


def test_only_the_executor_runs_migration_sql() -> None:
    found = scan(sources(), migration_sql_runs)
    found.pop("_apply/executor.py")
    assert found == {}


# -- rule 4: one reader of the lock-file format ---------------------------------------------

LOCK_FORMAT_LINE = re.compile(r"(?m)^\s*format\s+\d+\s*$")
LOCK_INTERNALS = {"LOCK_FORMAT", "_FORMAT_LINE", "_HEADER", "LockEntry", "FastLock"}
SPLITTING = {"split", "rsplit", "splitlines", "partition", "rpartition"}


def annotation_nodes(tree: ast.AST) -> set[int]:
    """The ids of every node inside a type annotation."""
    roots: list[ast.AST] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.arg) and node.annotation is not None:
            roots.append(node.annotation)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.returns:
            roots.append(node.returns)
        elif isinstance(node, ast.AnnAssign):
            roots.append(node.annotation)
    return {id(n) for root in roots for n in ast.walk(root)}


def lock_parsing(tree: ast.AST) -> Iterator[int]:
    """A string that is the lock's ``format N`` line or the word ``"format"`` alone (a
    parser comparing a word with it); the lock module's format constants or its entry
    classes used by name; ``split``/``splitlines``/``partition`` of an expression that
    mentions the lock (``lock_text.splitlines()``), or of a name assigned from one
    (``text = source.read_text(LOCK_FILENAME)``). It cannot see lock text that reaches a
    split under a name with no mention of a lock, assigned elsewhere."""
    for line, text in strings(tree):
        if LOCK_FORMAT_LINE.search(text) or text.strip() == "format":
            yield line
    hints = annotation_nodes(tree)
    for node in ast.walk(tree):
        if id(node) in hints:
            continue  # a type in an annotation parses nothing
        if isinstance(node, (ast.Name, ast.Attribute)) and identifier(node) in LOCK_INTERNALS:
            yield node.lineno
    scopes = [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.Module))]
    for scope in scopes:
        lock_names = set()
        for node in ast.walk(scope):
            if isinstance(node, ast.Assign) and "lock" in ast.unparse(node.value).lower():
                lock_names |= {
                    n.id for t in node.targets for n in ast.walk(t) if isinstance(n, ast.Name)
                }
        for node in ast.walk(scope):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                receiver = node.func.value
                if node.func.attr in SPLITTING and (
                    "lock" in ast.unparse(receiver).lower()
                    or (isinstance(receiver, ast.Name) and receiver.id in lock_names)
                ):
                    yield node.lineno


def test_the_lock_detector_finds_each_kind() -> None:
    found = one(
        """
        def boot(source):
            text = source.read_text(LOCK_FILENAME)
            words = text.split()                             # 4
            header = "format 1\\n"                            # 5
            if words[0] != "format":                         # 6
                return None
            entries = [LockEntry(*w) for w in words]         # 8
            return migrations.lock_text.splitlines()         # 9
        def elsewhere(name: str, entry: LockEntry) -> None:  # 10: an annotation
            return name.split(".")                           # 11: not a lock
        """,
        lock_parsing,
    )
    assert found == [4, 5, 6, 8, 9]


def test_only_the_lock_module_parses_the_lock_format() -> None:
    found = scan(sources(), lock_parsing)
    assert found.pop("_source/lockfile.py"), "the detector no longer sees the lock module"
    assert found == {}


# -- rule 5: the layers import only downwards -------------------------------------------

# The brief's order, _source < _plan < _db < _apply < the tools, and where the modules
# it does not name go: the foundation that every layer may import (errors, values,
# version, type aliases, the logger, none of which imports bootmigrate); the report
# types, plain data the runner returns, beside the planner; the configuration file
# reader, which only the CLI and the pytest plugin use; other tools' files and version
# tables (_foreign: files -> data like _source, tables read through a connection it is
# given) beside the planner, below the adoption that reads them; the package itself
# (re-exports, and the tools loaded on first use) and __main__, with the tools.
LAYERS = {
    "_errors": 0,
    "_value": 0,
    "_version": 0,
    "_types": 0,
    "_log": 0,
    "_binding": 0,
    "_source": 1,
    "_plan": 2,
    "_report": 2,
    "_foreign": 2,
    "_db": 3,
    "_apply": 4,
    "_schema": 5,
    "_checks": 5,
    "_doctor": 5,
    "_diagnose": 5,
    "_authoring": 5,
    "_cli": 5,
    "testing": 5,
    "_config": 5,
    "__init__": 5,
    "__main__": 5,
}
# Entry points: nothing but themselves (and __main__, for the CLI) may import them.
LEAVES = {"_cli": {"_cli", "__main__"}, "testing": {"testing"}}
# Imports that point upwards today, with the reason each is allowed: none.
UPWARD_TODAY: dict[tuple[str, str], str] = {}


def part(module: str) -> str:
    """The layer key of a module: ``bootmigrate._db.ledger`` -> ``_db``."""
    pieces = module.split(".")
    return pieces[1] if len(pieces) > 1 else "__init__"


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def runtime_imports(relative: str, tree: ast.Module, modules: set[str]) -> set[str]:
    """The bootmigrate modules *relative* imports when it runs: every ``import`` and
    ``from ... import``, in functions too, except in ``if TYPE_CHECKING:`` blocks (their
    ``else`` counts). ``from pkg import name`` is ``pkg.name`` when that is a module. The
    package's lazy ``_LAZY`` table counts as imports of ``__init__``; other dynamic
    imports (``importlib.import_module`` of the app's modules) are not seen."""
    name = module_name(relative)
    package = name if relative.endswith("__init__.py") else name.rpartition(".")[0]
    found: set[str] = set()

    def target(base: str, imported: str) -> str:
        candidate = f"{base}.{imported}"
        return candidate if candidate in modules else base

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for statement in node.orelse:
                visit(statement)
            return
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.split(".")[0] == "bootmigrate")
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                pieces = package.split(".")
                base = ".".join(pieces[: len(pieces) - node.level + 1])
                base = f"{base}.{node.module}" if node.module else base
            else:
                base = node.module or ""
            if base.split(".")[0] == "bootmigrate":
                found.update(target(base, alias.name) for alias in node.names)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    if relative == "__init__.py":
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Assign)
                and any(isinstance(t, ast.Name) and t.id == "_LAZY" for t in node.targets)
                and isinstance(node.value, ast.Dict)
            ):
                for value in node.value.values:
                    assert isinstance(value, ast.Constant) and isinstance(value.value, str)
                    found.add(f"bootmigrate.{value.value}")
    return found - {name}


def import_graph() -> dict[str, set[str]]:
    texts = sources()
    modules = {module_name(relative) for relative in texts}
    return {
        module_name(relative): runtime_imports(relative, ast.parse(text), modules)
        for relative, text in texts.items()
    }


def test_the_import_reader_skips_type_checking_blocks_and_sees_function_imports() -> None:
    tree = ast.parse(
        textwrap.dedent(
            """
            from .. import _log
            from .._db import ledger
            from .runner import upgrade
            TYPE_CHECKING = False
            if TYPE_CHECKING:
                from .adopt import Baseline
            else:
                from .._plan import plan
            def later():
                from .._schema.read import canonical_schema
            """
        )
    )
    modules = {"bootmigrate._log", "bootmigrate._db.ledger", "bootmigrate._apply.runner"}
    found = runtime_imports("_apply/boot.py", tree, modules)
    assert found == {
        "bootmigrate._log",
        "bootmigrate._db.ledger",
        "bootmigrate._apply.runner",
        "bootmigrate._plan",
        "bootmigrate._schema.read",
    }


def test_every_module_has_a_layer_and_type_checking_is_a_constant() -> None:
    for relative, text in sources().items():
        assert part(module_name(relative)) in LAYERS, f"{relative}: which layer is it in?"
        tree = ast.parse(text)
        uses = any(isinstance(n, ast.If) and _is_type_checking(n.test) for n in ast.walk(tree))
        constant = (
            any(
                isinstance(n, ast.Assign)
                and any(isinstance(t, ast.Name) and t.id == "TYPE_CHECKING" for t in n.targets)
                and isinstance(n.value, ast.Constant)
                and n.value.value is False
                for n in tree.body
            )
            or "from typing import TYPE_CHECKING" in text
        )
        assert constant or not uses, f"{relative}: TYPE_CHECKING is not a False constant"


def test_the_layers_import_only_downwards() -> None:
    graph = import_graph()
    assert "bootmigrate._db.ledger" in graph["bootmigrate._apply.runner"]  # the reader works
    upward = {}
    for module, imported in graph.items():
        for other in imported:
            if LAYERS[part(other)] > LAYERS[part(module)]:
                upward[(module, other)] = f"{part(module)} -> {part(other)}"
    assert {edge: why for edge, why in upward.items() if edge not in UPWARD_TODAY} == {}


def test_nothing_imports_the_cli_or_the_test_kit() -> None:
    graph = import_graph()
    found = sorted(
        (module, other)
        for module, imported in graph.items()
        for other in imported
        if part(other) in LEAVES and part(module) not in LEAVES[part(other)]
    )
    assert found == []


# -- rule 6: the boot's import path ------------------------------------------------------

# The modules the no-op boot runs (bootmigrate._apply.boot and what it imports).
BOOT_PATH = {
    "bootmigrate",
    "bootmigrate._apply",
    "bootmigrate._apply.boot",
    "bootmigrate._binding",
    "bootmigrate._db",
    "bootmigrate._db.connection",
    "bootmigrate._db.ledger",
    "bootmigrate._errors",
    "bootmigrate._log",
    "bootmigrate._report",
    "bootmigrate._source",
    "bootmigrate._source.filenames",
    "bootmigrate._source.locate",
    "bootmigrate._source.lockfile",
    "bootmigrate._value",
    "bootmigrate._version",
}
HEAVY = (
    "typing",
    "dataclasses",
    "re",
    "pathlib",
    "enum",
    "hashlib",
    "inspect",
    "logging",
    "importlib.resources",
    "json",
    "tempfile",
    "urllib",
    "contextlib",
)
# Runs with -S: no site module and no .pth files, which would import re, enum, pathlib
# and contextlib before bootmigrate does (the editable install's finder does) and hide
# what bootmigrate itself imports. Prints what was loaded before and by the boot, then
# looks inside the boot's modules (importing re and dataclasses only after the count).
PROBE = """
import sys
before = sorted(sys.modules)
import bootmigrate
report = bootmigrate.migrate(sys.argv[1], sys.argv[2])
gained = sorted(set(sys.modules) - set(before))
import dataclasses, re
built = []
for name in gained:
    if not name.startswith("bootmigrate"):
        continue
    for attribute, value in vars(sys.modules[name]).items():
        inside = vars(value).items() if isinstance(value, type) else ()
        for label, item in [(attribute, value), *((attribute + "." + k, v) for k, v in inside)]:
            if isinstance(item, re.Pattern):
                built.append(name + "." + label + ": a compiled regular expression")
            elif isinstance(item, type) and dataclasses.is_dataclass(item):
                built.append(name + "." + label + ": a dataclass")
print(report.state)
print(before)
print(gained)
print(sorted(set(built)))
"""


def loaded(modules: list[str], heavy: str) -> bool:
    return any(m == heavy or m.startswith(heavy + ".") for m in modules)


def test_the_no_op_boot_imports_only_its_path(tmp_path: Path) -> None:
    import bootmigrate

    folder = tmp_path / "migrations"
    folder.mkdir()
    (folder / "0001_a.up.sql").write_text("CREATE TABLE a (x);\n", encoding="utf-8")
    (folder / "0002_b.up.sql").write_text("CREATE TABLE b (x);\n", encoding="utf-8")
    (folder / "0002_b.down.sql").write_text("DROP TABLE b;\n", encoding="utf-8")
    bootmigrate.write_lock(folder)
    db = tmp_path / "app.db"
    bootmigrate.migrate(db, folder)
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    done = subprocess.run(
        [sys.executable, "-S", "-c", PROBE, str(db), str(folder)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    state, before, gained, built = done.stdout.splitlines()
    assert state == "up-to-date"
    before_list, gained_list = ast.literal_eval(before), ast.literal_eval(gained)
    # Meaningful only if the interpreter had not loaded them already.
    assert [h for h in HEAVY if loaded(before_list, h)] == []
    assert [h for h in HEAVY if loaded(gained_list, h)] == []
    ours = {m for m in gained_list if m.split(".")[0] == "bootmigrate"}
    assert "bootmigrate._apply.boot" in ours
    assert sorted(ours - BOOT_PATH) == []
    assert ast.literal_eval(built) == []
