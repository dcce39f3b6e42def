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

from . import _config
from ._database import DEFAULT_TIMEOUT
from ._errors import MigrationError, UsageError
from ._migration import MigrationSet
from ._plan import plan
from ._runner import downgrade, migrate, status
from ._sources import load, resolve
from ._version import __version__

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
    p = commands.add_parser("down", parents=[common], help="undo migrations with their down files")
    p.add_argument(
        "--to", type=int, metavar="N", required=True, help="the version to go back to (0: all)"
    )
    p = commands.add_parser("new", parents=[common], help="write the next-numbered up/down pair")
    p.add_argument("name", help="lower-case name of [a-z0-9_], e.g. add_user_email")
    commands.add_parser(
        "verify", parents=[common], help="check files and database; exit 1 on a problem"
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
    db = _database(args, settings)
    try:
        report = migrate(db, migrations, target=args.to, timeout=_timeout(args))
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
    if not would.pending:
        print(f"{current.database}: up to date at version {current.current}; nothing would run")
        return EXIT_OK
    print(
        f"{current.database}: would migrate from version {current.current} to "
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
    if result.problems:
        for problem in result.problems:
            print(f"bootmigrate: error: {problem}", file=sys.stderr)
        return EXIT_ERROR
    print(
        f"ok: {len(migrations)} migration file(s) valid; {result.database} at version "
        f"{result.current}, {len(result.pending)} pending"
    )
    return EXIT_OK


_COMMANDS: dict[str, Callable[[argparse.Namespace, dict[str, object]], int]] = {
    "status": _cmd_status,
    "up": _cmd_up,
    "down": _cmd_down,
    "new": _cmd_new,
    "verify": _cmd_verify,
}
