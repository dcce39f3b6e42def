"""The ``bootmigrate`` command: a thin layer that calls one public function per command.

Exit status: 0 on success, 1 on a :class:`MigrationError` (one line on stderr, no
traceback unless ``--traceback``), 2 on a usage error.
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import re
import sqlite3
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from .. import _config
from .._apply.adopt import Baseline
from .._apply.runner import downgrade, migrate, status
from .._db.connection import DEFAULT_TIMEOUT
from .._errors import MigrationError, UsageError
from .._plan import plan
from .._schema.model import schema_diff
from .._schema.read import canonical_schema
from .._schema.snapshot import SNAPSHOT_FILENAME, render_snapshot, schema_at
from .._source import lockfile as _lockfile
from .._source.locate import LOCK_FILENAME, load, resolve
from .._source.model import MigrationSet
from .._version import __version__

EXIT_OK, EXIT_ERROR, EXIT_USAGE = 0, 1, 2


class _Usage(Exception):
    """A usage error found after argument parsing (exit 2)."""


def _parser() -> argparse.ArgumentParser:
    # Global options are accepted before and after the command.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--db", default=argparse.SUPPRESS, help="database file (env BOOTMIGRATE_DB)"
    )
    common.add_argument(
        "--source",
        default=argparse.SUPPRESS,
        help="migrations: 'pkg:folder' or a directory (env BOOTMIGRATE_SOURCE)",
    )
    common.add_argument(
        "--prepare",
        default=argparse.SUPPRESS,
        metavar="MODULE:FUNCTION",
        help="a function called with each connection the command opens to run SQL "
        "(register functions, collations, pragmas); env BOOTMIGRATE_PREPARE",
    )
    common.add_argument(
        "--timeout",
        type=float,
        default=argparse.SUPPRESS,
        help=f"seconds to wait for another writer (default {DEFAULT_TIMEOUT:g})",
    )
    common.add_argument(
        "--traceback", action="store_true", default=argparse.SUPPRESS, help="show tracebacks"
    )
    common.add_argument(
        "-v", "--verbose", action="store_true", default=argparse.SUPPRESS, help="log each step"
    )

    parser = argparse.ArgumentParser(
        prog="bootmigrate",
        parents=[common],
        description="Keep a SQLite database on the schema of its app's migrations.",
    )
    parser.add_argument("--version", action="version", version=f"bootmigrate {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True

    p = commands.add_parser(
        "status", parents=[common], help="compare the database with the migrations (read-only)"
    )
    p.add_argument("--json", action="store_true", help="print a JSON object")
    p = commands.add_parser("up", parents=[common], help="apply pending migrations")
    p.add_argument("--to", type=int, metavar="N", help="stop at version N (default: the newest)")
    p.add_argument(
        "--dry-run", action="store_true", help="print the plan and its SQL, change nothing"
    )
    p.add_argument(
        "--baseline",
        metavar="MODULE:NAME",
        help="a bootmigrate.Baseline that adopts a database made before bootmigrate",
    )
    p.add_argument(
        "--backup",
        type=int,
        nargs="?",
        const=1,
        metavar="KEEP",
        help="back the database up next to it before applying; keep the newest KEEP (1)",
    )
    p = commands.add_parser("down", parents=[common], help="undo migrations with their down files")
    p.add_argument(
        "--to", type=int, metavar="N", required=True, help="the version to go back to (0: all)"
    )
    p = commands.add_parser("new", parents=[common], help="write the next-numbered up/down pair")
    p.add_argument("name", help="lower-case name of [a-z0-9_], e.g. add_user_email")
    p = commands.add_parser(
        "verify", parents=[common], help="check files and database; exit 1 on a problem"
    )
    p.add_argument(
        "--schema",
        action="store_true",
        help="also compare the database's schema with the one its version should have",
    )
    p = commands.add_parser(
        "schema", parents=[common], help="print the canonical schema of the database"
    )
    p.add_argument("--json", action="store_true", help="print a JSON object")
    p.add_argument(
        "--write",
        action="store_true",
        help=f"write {SNAPSHOT_FILENAME} beside the migrations: the schema of a new "
        "database at the newest version",
    )
    p = commands.add_parser(
        "lock", parents=[common], help=f"write {LOCK_FILENAME} beside the migrations"
    )
    p.add_argument(
        "--check", action="store_true", help="only check that no locked migration changed"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    options = vars(args)
    if options.get("verbose"):
        logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
    try:
        settings = _config.pyproject_settings()
        handler = _COMMANDS[args.command]
        return handler(args, settings)
    except _Usage as exc:
        parser.print_usage(sys.stderr)
        print(f"bootmigrate: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except MigrationError as exc:
        if options.get("traceback"):
            raise
        print(f"bootmigrate: error: {exc}", file=sys.stderr)
        return EXIT_ERROR


def _setting(
    args: argparse.Namespace, name: str, settings: dict[str, object], required: bool = True
) -> str | None:
    value = _config.resolve_setting(name, getattr(args, name, None), settings)
    if value is None and required:
        raise _Usage(
            f"no {name} given: pass --{name}, set {_config.ENV[name]}, "
            f"or add {name} = ... under [tool.bootmigrate] in pyproject.toml"
        )
    return value


def _timeout(args: argparse.Namespace) -> float:
    return float(getattr(args, "timeout", DEFAULT_TIMEOUT))


def _database(args: argparse.Namespace, settings: dict[str, object]) -> str | sqlite3.Connection:
    """The database path, or a prepared connection when ``--prepare`` names a function."""
    db = _setting(args, "db", settings)
    assert db is not None
    spec = _setting(args, "prepare", settings, required=False)
    if not spec:
        return db
    prepare = _import_function(spec)
    if not Path(db).resolve().parent.is_dir():
        return db  # let the runner report the missing directory
    conn = sqlite3.connect(db, timeout=_timeout(args))
    prepare(conn)
    return conn


def _import_function(spec: str) -> Callable[[sqlite3.Connection], object]:
    module_name, _, attribute = spec.partition(":")
    if not module_name or not attribute:
        raise _Usage(f"--prepare takes MODULE:FUNCTION, not {spec!r}")
    try:
        module = importlib.import_module(module_name)
        function = getattr(module, attribute)
    except (ImportError, AttributeError) as exc:
        raise UsageError(f"cannot load the --prepare function {spec!r}: {exc}") from exc
    if not callable(function):
        raise UsageError(f"the --prepare target {spec!r} is not callable")
    return function  # type: ignore[no-any-return]


def _import_baseline(spec: str) -> Baseline:
    module_name, _, attribute = spec.partition(":")
    if not module_name or not attribute:
        raise _Usage(f"--baseline takes MODULE:NAME, not {spec!r}")
    try:
        baseline = getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError) as exc:
        raise UsageError(f"cannot load the --baseline {spec!r}: {exc}") from exc
    if not isinstance(baseline, Baseline):
        raise UsageError(f"the --baseline {spec!r} is not a bootmigrate.Baseline")
    return baseline


def _migrations(args: argparse.Namespace, settings: dict[str, object]) -> MigrationSet:
    source = _setting(args, "source", settings)
    assert source is not None
    return load(source)


def _cmd_status(args: argparse.Namespace, settings: dict[str, object]) -> int:
    db = _setting(args, "db", settings)
    assert db is not None
    result = status(db, _migrations(args, settings))
    if args.json:
        print(json.dumps(result.as_dict(), indent=2))
    else:
        print(result.summary())
    return EXIT_OK


def _cmd_up(args: argparse.Namespace, settings: dict[str, object]) -> int:
    migrations = _migrations(args, settings)
    if args.dry_run:
        return _dry_run(args, settings, migrations)
    baseline = _import_baseline(args.baseline) if args.baseline else None
    db = _database(args, settings)
    try:
        report = migrate(
            db,
            migrations,
            target=args.to,
            timeout=_timeout(args),
            baseline=baseline,
            backup=args.backup is not None,
            backup_keep=1 if args.backup is None else args.backup,
        )
    finally:
        if isinstance(db, sqlite3.Connection):
            db.close()
    print(report.summary())
    return EXIT_OK


def _dry_run(
    args: argparse.Namespace, settings: dict[str, object], migrations: MigrationSet
) -> int:
    db = _setting(args, "db", settings)
    assert db is not None
    current = status(db, migrations)
    would = plan(migrations.migrations, current.applied, args.to)
    would.check()
    at = "none" if current.current is None else current.current  # as Report.summary() says
    if not would.pending:
        print(f"{current.database}: up to date at version {at}; nothing would run")
        return EXIT_OK
    print(
        f"{current.database}: would migrate from version {at} to "
        f"{would.pending[-1].version} ({len(would.pending)} migration(s)); dry run, nothing changed"
    )
    for migration in would.pending:
        print(f"\n-- {migration.up.filename}")
        print(migration.up.text.rstrip("\n"))
    return EXIT_OK


def _cmd_down(args: argparse.Namespace, settings: dict[str, object]) -> int:
    migrations = _migrations(args, settings)
    db = _database(args, settings)
    try:
        report = downgrade(db, migrations, args.to, timeout=_timeout(args))
    finally:
        if isinstance(db, sqlite3.Connection):
            db.close()
    print(report.summary())
    return EXIT_OK


_NAME = re.compile(r"[a-z0-9_]+")


def _cmd_new(args: argparse.Namespace, settings: dict[str, object]) -> int:
    if not _NAME.fullmatch(args.name):
        raise _Usage(f"the name {args.name!r} may hold only lower-case letters, digits and '_'")
    spec = _setting(args, "source", settings)
    assert spec is not None
    source = resolve(spec)
    if source.directory is None:
        raise UsageError(
            f"'new' writes files, so it needs a directory source, not the package resource "
            f"{spec!r}; pass the migrations directory with --source"
        )
    migrations = load(spec)
    version = (migrations.head or 0) + 1
    width = max(4, len(str(migrations.head or 0)))
    stem = f"{version:0{width}d}_{args.name}"
    up = source.directory / f"{stem}.up.sql"
    down = source.directory / f"{stem}.down.sql"
    up.write_text(f"-- {stem}: write the change here.\n", encoding="utf-8")
    down.write_text(
        f"-- {stem}: write here how to undo it, or delete this file.\n", encoding="utf-8"
    )
    print(f"created {up}\ncreated {down}")
    return EXIT_OK


def _cmd_verify(args: argparse.Namespace, settings: dict[str, object]) -> int:
    migrations = _migrations(args, settings)
    db = _setting(args, "db", settings)
    assert db is not None
    result = status(db, migrations)
    problems = list(result.problems) + _lock_differences(migrations)
    if args.schema and not problems:
        problems += _schema_drift(args, settings, migrations, db, result.current, result.unknown)
    if problems:
        for problem in problems:
            print(f"bootmigrate: error: {problem}", file=sys.stderr)
        return EXIT_ERROR
    print(
        f"ok: {len(migrations)} migration file(s) valid; {result.database} at version "
        f"{result.current}, {len(result.pending)} pending"
        + ("; the lock file matches" if migrations.lock_text is not None else "")
        + ("; its schema is the one of its version" if args.schema else "")
    )
    return EXIT_OK


def _lock_differences(migrations: MigrationSet) -> list[str]:
    """What changed since the source's lock file was written; empty without a lock file."""
    if migrations.lock_text is None:
        return []
    entries = _lockfile.parse(migrations.lock_text, LOCK_FILENAME)
    return [f"{LOCK_FILENAME}: {d}" for d in _lockfile.differences(entries, migrations)]


def _schema_drift(
    args: argparse.Namespace,
    settings: dict[str, object],
    migrations: MigrationSet,
    db: str,
    current: int | None,
    unknown: Sequence[int],
) -> list[str]:
    """How the database's schema differs from a new database migrated to its version."""
    if not Path(db).exists():
        return [f"{db}: the database does not exist, so it has no schema to check"]
    if unknown:
        return [
            f"{db}: holds version(s) {', '.join(map(str, unknown))} that the migrations do "
            "not have, so the schema it should have is unknown; check it with the newer release"
        ]
    expected = schema_at(migrations, current or 0, prepare=_prepare(settings, args))
    diff = schema_diff(
        expected,
        canonical_schema(db),
        expected_label=f"version {current or 0} (a new database migrated by the files)",
        actual_label=db,
    )
    if not diff:
        return []
    return [
        f"{db}: the schema differs from the one version {current or 0} should have; someone "
        f"changed the database outside the migrations ('-' expected, '+' found):\n"
        + diff.rstrip("\n")
    ]


def _prepare(
    settings: dict[str, object], args: argparse.Namespace
) -> Callable[[sqlite3.Connection], object] | None:
    spec = _setting(args, "prepare", settings, required=False)
    return _import_function(spec) if spec else None


def _cmd_schema(args: argparse.Namespace, settings: dict[str, object]) -> int:
    if args.write:
        spec = _setting(args, "source", settings)
        assert spec is not None
        directory = resolve(spec).directory
        if directory is None:
            raise UsageError(
                f"'schema --write' writes {SNAPSHOT_FILENAME}, so it needs a directory source, "
                f"not the package resource {spec!r}; pass the migrations directory with --source"
            )
        migrations = load(spec)
        schema = schema_at(migrations, prepare=_prepare(settings, args))
        path = directory / SNAPSHOT_FILENAME
        path.write_text(render_snapshot(schema, migrations.head), encoding="utf-8")
        print(
            f"wrote {path}: the schema at version {migrations.head or 0} "
            f"({len(schema.tables)} table(s), {len(schema.indexes)} index(es), "
            f"{len(schema.triggers)} trigger(s), {len(schema.views)} view(s))"
        )
        return EXIT_OK
    db = _setting(args, "db", settings)
    assert db is not None
    schema = canonical_schema(db)
    if args.json:
        print(json.dumps(schema.to_dict(), indent=2))
    else:
        print(schema.to_text(), end="")
    return EXIT_OK


def _cmd_lock(args: argparse.Namespace, settings: dict[str, object]) -> int:
    spec = _setting(args, "source", settings)
    assert spec is not None
    migrations = load(spec)
    differences = _lock_differences(migrations)
    if args.check:
        if migrations.lock_text is None:
            raise UsageError(
                f"{migrations.origin} has no {LOCK_FILENAME}; write it with `bootmigrate lock`"
            )
        if differences:
            for problem in differences:
                print(f"bootmigrate: error: {problem}", file=sys.stderr)
            return EXIT_ERROR
        locked = {e.version for e in _lockfile.parse(migrations.lock_text, LOCK_FILENAME)}
        unlocked = [m.version for m in migrations if m.version not in locked]
        print(
            f"ok: {LOCK_FILENAME} matches {len(locked)} locked migration(s)"
            + (
                f"; not locked yet: {', '.join(map(str, unlocked))} (run `bootmigrate lock` "
                "when you release them)"
                if unlocked
                else ""
            )
        )
        return EXIT_OK
    directory = resolve(spec).directory
    if directory is None:
        raise UsageError(
            f"'lock' writes {LOCK_FILENAME}, so it needs a directory source, not the package "
            f"resource {spec!r}; pass the migrations directory with --source"
        )
    if differences:
        # Re-locking would bless an edited release; make that a deliberate act.
        for problem in differences:
            print(f"bootmigrate: error: {problem}", file=sys.stderr)
        print(
            f"bootmigrate: error: {LOCK_FILENAME} not written; restore the locked files, or "
            f"delete {directory / LOCK_FILENAME} first if rewriting released history is intended",
            file=sys.stderr,
        )
        return EXIT_ERROR
    path = directory / LOCK_FILENAME
    path.write_text(_lockfile.render(migrations), encoding="utf-8")
    print(f"wrote {path}: {len(migrations)} migration(s) locked, up to version {migrations.head}")
    return EXIT_OK


_COMMANDS: dict[str, Callable[[argparse.Namespace, dict[str, object]], int]] = {
    "status": _cmd_status,
    "up": _cmd_up,
    "down": _cmd_down,
    "new": _cmd_new,
    "verify": _cmd_verify,
    "schema": _cmd_schema,
    "lock": _cmd_lock,
}
