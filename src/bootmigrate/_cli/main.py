"""The ``bootmigrate`` command: a thin layer that calls one public function per command.

Exit status: 0 on success, 1 on a :class:`MigrationError` (one line on stderr, no
traceback unless ``--traceback``), 2 on a usage error.
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import sqlite3
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import bootmigrate
from bootmigrate import DEFAULT_TIMEOUT, Baseline, MigrationError, UsageError, __version__

from .. import _config
from .._foreign import TOOLS
from .._schema.snapshot import SNAPSHOT_FILENAME
from .._source.lockfile import LOCK_FILENAME

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
        "--dry-run",
        action="store_true",
        help="run the pending migrations on a scratch copy of the database and print what "
        "ran, with its time and SQL, or the error; the database is not changed",
    )
    p.add_argument(
        "--baseline",
        metavar="MODULE:NAME|TOOL",
        help="a bootmigrate.Baseline that adopts a database made before bootmigrate, or "
        f"the tool whose version table it has ({', '.join(TOOLS)})",
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
    p.add_argument(
        "--backup",
        type=int,
        nargs="?",
        const=1,
        metavar="KEEP",
        help="back the database up next to it before undoing; keep the newest KEEP (1)",
    )
    _add_restore_parser(commands, common)
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
    p = commands.add_parser(
        "import",
        parents=[common],
        help="convert another tool's migrations into a bootmigrate source directory",
    )
    p.add_argument(
        "--from",
        dest="tool",
        required=True,
        choices=TOOLS,
        metavar="TOOL",
        help=f"the tool the migrations are written for: {', '.join(TOOLS)}",
    )
    p.add_argument("src", metavar="SRC", help="the tool's migrations folder")
    p.add_argument(
        "dest", metavar="DEST", help="the directory to write (new, or without migration files)"
    )
    return parser


def _add_restore_parser(commands: Any, common: argparse.ArgumentParser) -> None:
    p = commands.add_parser(
        "restore",
        parents=[common],
        help="put the newest backup (or BACKUP) back in place of the database",
        description="Put the newest backup that `up --backup` or `down --backup` made (or "
        "the backup file BACKUP) back in place of the database, atomically; refused while "
        "another process holds the database. Example: bootmigrate --db app.db restore",
    )
    p.add_argument(
        "backup",
        nargs="?",
        metavar="BACKUP",
        help="a backup file of this database (default: the newest one beside it)",
    )


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
        # Every line of an error is its own "bootmigrate: error:" line: `lock` refuses
        # with one line per changed migration, and each should stand out as an error.
        _print_problems(str(exc).splitlines() or [""])
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
    db = _db(args, settings)
    prepare = _prepare(args, settings)
    if prepare is None:
        return db
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
    if spec in TOOLS:
        return Baseline.from_tool(spec)
    module_name, _, attribute = spec.partition(":")
    if not module_name or not attribute:
        raise _Usage(f"--baseline takes MODULE:NAME or one of {', '.join(TOOLS)}, not {spec!r}")
    try:
        baseline = getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError) as exc:
        raise UsageError(f"cannot load the --baseline {spec!r}: {exc}") from exc
    if not isinstance(baseline, Baseline):
        raise UsageError(f"the --baseline {spec!r} is not a bootmigrate.Baseline")
    return baseline


# -- the commands: arguments -> one library call -> print ---------------------------
#
# Each command reads its arguments, makes ONE call of a public bootmigrate function
# and prints what it returns; what a command does lives in the library, where the test
# kit and scripts call it too (tests/test_cli_thin.py checks that it holds no more).
# The functions are looked up on the package at call time (bootmigrate.verify, not an
# imported name): the checks and authoring modules load only for the commands that
# use them, and a test can replace them to see which one a command calls.


def _source(args: argparse.Namespace, settings: dict[str, object]) -> str:
    source = _setting(args, "source", settings)
    assert source is not None
    return source


def _db(args: argparse.Namespace, settings: dict[str, object]) -> str:
    db = _setting(args, "db", settings)
    assert db is not None
    return db


def _prepare(
    args: argparse.Namespace, settings: dict[str, object]
) -> Callable[[sqlite3.Connection], object] | None:
    spec = _setting(args, "prepare", settings, required=False)
    return _import_function(spec) if spec else None


def _cmd_status(args: argparse.Namespace, settings: dict[str, object]) -> int:
    result = bootmigrate.status(_db(args, settings), _source(args, settings))
    print(json.dumps(result.as_dict(), indent=2) if args.json else result.summary())
    return EXIT_OK


def _cmd_up(args: argparse.Namespace, settings: dict[str, object]) -> int:
    source = _source(args, settings)
    if args.dry_run:
        return _dry_run(args, settings, source)
    baseline = _import_baseline(args.baseline) if args.baseline else None
    # The files are read before the database is opened, so a broken source leaves no
    # file behind; and a loaded set makes migrate() read every file (no lock fast
    # path), so `up` still names an applied migration that was edited.
    migrations = bootmigrate.load(source)
    db = _database(args, settings)
    try:
        report = bootmigrate.migrate(
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


def _dry_run(args: argparse.Namespace, settings: dict[str, object], source: str) -> int:
    """``up --dry-run``: the pending migrations run on a scratch copy (bootmigrate.rehearse);
    the summary with each step's time, then the SQL that ran."""
    migrations = bootmigrate.load(source)  # for the SQL it prints
    report = bootmigrate.rehearse(
        _db(args, settings),
        migrations,
        target=args.to,
        baseline=_import_baseline(args.baseline) if args.baseline else None,
        prepare=_prepare(args, settings),
        timeout=_timeout(args),
    )
    print(report.summary())
    for step in report.steps:
        migration = migrations.get(step.version)
        if migration is not None:
            print(f"\n-- {migration.up.filename}")
            print(migration.up.text.rstrip("\n"))
    return EXIT_OK


def _cmd_down(args: argparse.Namespace, settings: dict[str, object]) -> int:
    migrations = bootmigrate.load(_source(args, settings))  # before opening: see _cmd_up
    db = _database(args, settings)
    try:
        report = bootmigrate.downgrade(
            db,
            migrations,
            args.to,
            timeout=_timeout(args),
            backup=args.backup is not None,
            backup_keep=1 if args.backup is None else args.backup,
        )
    finally:
        if isinstance(db, sqlite3.Connection):
            db.close()
    print(report.summary())
    return EXIT_OK


def _cmd_new(args: argparse.Namespace, settings: dict[str, object]) -> int:
    from .._authoring import name_problem

    # A bad name is a usage error (exit 2), found before anything is read.
    problem = name_problem(args.name)
    if problem is not None:
        raise _Usage(problem)
    up, down = bootmigrate.new_migration(_source(args, settings), args.name)
    print(f"created {up}\ncreated {down}")
    return EXIT_OK


def _cmd_verify(args: argparse.Namespace, settings: dict[str, object]) -> int:
    source, db = _source(args, settings), _db(args, settings)
    # --prepare serves the schema comparison and the dry run of pending migrations.
    prepare = _prepare(args, settings)
    result = bootmigrate.verify(db, source, schema=args.schema, prepare=prepare)
    if not result.ok:
        _print_problems(result.problems)
        return EXIT_ERROR
    print(result.summary())
    return EXIT_OK


def _cmd_schema(args: argparse.Namespace, settings: dict[str, object]) -> int:
    if args.write:
        source = _source(args, settings)
        written = bootmigrate.write_schema_snapshot(source, prepare=_prepare(args, settings))
        print(written.summary())
        return EXIT_OK
    schema = bootmigrate.canonical_schema(_db(args, settings))
    if args.json:
        print(json.dumps(schema.to_dict(), indent=2))
    else:
        print(schema.to_text(), end="")
    return EXIT_OK


def _cmd_lock(args: argparse.Namespace, settings: dict[str, object]) -> int:
    source = _source(args, settings)
    if args.check:
        lock = bootmigrate.check_lock(source)
        if not lock.ok:
            _print_problems(lock.problems)
            return EXIT_ERROR
        print(lock.summary())
        return EXIT_OK
    print(bootmigrate.write_lock(source).summary())
    return EXIT_OK


def _cmd_import(args: argparse.Namespace, settings: dict[str, object]) -> int:
    report = bootmigrate.import_migrations(args.tool, args.src, args.dest)
    print(report.summary())
    return EXIT_OK


def _cmd_restore(args: argparse.Namespace, settings: dict[str, object]) -> int:
    restored = bootmigrate.restore(_db(args, settings), args.backup, timeout=_timeout(args))
    print(restored.summary())
    return EXIT_OK


def _print_problems(problems: Sequence[str]) -> None:
    for problem in problems:
        print(f"bootmigrate: error: {problem}", file=sys.stderr)


_COMMANDS: dict[str, Callable[[argparse.Namespace, dict[str, object]], int]] = {
    "status": _cmd_status,
    "up": _cmd_up,
    "down": _cmd_down,
    "new": _cmd_new,
    "verify": _cmd_verify,
    "schema": _cmd_schema,
    "lock": _cmd_lock,
    "import": _cmd_import,
    "restore": _cmd_restore,
}
