"""The ``bootmigrate`` command: a thin layer that calls one public function per command.

Exit status: 0 on success, 1 on a :class:`MigrationError` (one line on stderr, no
traceback unless ``--traceback``), 2 on a usage error; ``status --exit-code`` adds 3
(migrations pending) and 4 (a problem: unknown, modified, out-of-order or unfinished
migrations). Under ``--json`` an error is a JSON object on stdout,
``{"error": {"type": ..., "message": ...}}``, with the same exit status.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sqlite3
import sys
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

import bootmigrate
from bootmigrate import DEFAULT_TIMEOUT, Baseline, MigrationError, UsageError, __version__

from .. import _config
from .._foreign import TOOLS
from .._schema.snapshot import SNAPSHOT_FILENAME
from .._source.lockfile import LOCK_FILENAME
from .progress import live_line

EXIT_OK, EXIT_ERROR, EXIT_USAGE = 0, 1, 2
#: ``status --exit-code``: migrations are pending; something is wrong (see EXIT_CODES).
EXIT_PENDING, EXIT_PROBLEM = 3, 4
EXIT_CODES = f"""exit status:
  {EXIT_OK}  success (status --exit-code: up to date)
  {EXIT_ERROR}  an error: the files, the database or the run (one line per problem on stderr)
  {EXIT_USAGE}  a usage error: a bad option, a missing setting
  {EXIT_PENDING}  status --exit-code: migrations are pending
  {EXIT_PROBLEM}  status --exit-code: a problem (unknown, modified, out-of-order or unfinished
     migrations)"""


class _Usage(Exception):
    """A usage error found after argument parsing (exit 2)."""


class _Parser(argparse.ArgumentParser):
    """argparse, except that under ``--json`` a usage error is the JSON error object."""

    json_errors = False

    def error(self, message: str) -> NoReturn:
        """Print the usage error (as JSON under ``--json``) and exit 2."""
        if _Parser.json_errors:
            _print_json_error("UsageError", message)
            self.exit(EXIT_USAGE)
        super().error(message)


def _command(
    commands: argparse._SubParsersAction[_Parser],
    common: _Parser,
    name: str,
    summary: str,
    *examples: str,
) -> argparse.ArgumentParser:
    """A subcommand: its one-line help, and ``--help`` ending in its examples."""
    return commands.add_parser(
        name,
        parents=[common],
        help=summary,
        description=summary,
        epilog="examples:\n" + "\n".join(f"  {example}" for example in examples),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def _parser() -> argparse.ArgumentParser:
    # Global options are accepted before and after the command.
    common = _Parser(add_help=False)
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
        "--connect",
        default=argparse.SUPPRESS,
        metavar="MODULE:FUNCTION",
        help="the app's function that opens its database, called as sqlite3.connect is "
        "(an encrypted SQLCipher database's, or pysqlite3's); env BOOTMIGRATE_CONNECT",
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
        "-v",
        "--verbose",
        action="store_true",
        default=argparse.SUPPRESS,
        help="log each step to stderr",
    )

    parser = _Parser(
        prog="bootmigrate",
        parents=[common],
        description="Keep a SQLite database on the schema of its app's migrations. "
        "--db, --source and --prepare default to [tool.bootmigrate] in the nearest "
        "pyproject.toml (searched upward from the current directory).",
        epilog="example:\n  bootmigrate --db var/app.db --source myapp:migrations status\n\n"
        + EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"bootmigrate {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True

    p = _command(
        commands,
        common,
        "status",
        "compare the database with the migrations (read-only)",
        "bootmigrate status",
        "bootmigrate status --exit-code || echo 'pending or wrong: exit status' $?",
    )
    p.epilog = f"{p.epilog}\n\n{EXIT_CODES}"
    p.add_argument(
        "--json",
        action="store_true",
        help='print a JSON object; an error too: {"error": {"type": ..., "message": ...}}',
    )
    p.add_argument(
        "--exit-code",
        action="store_true",
        help=f"exit {EXIT_PENDING} when migrations are pending, {EXIT_PROBLEM} on a problem",
    )
    p = _command(
        commands,
        common,
        "doctor",
        "check the database's health against the migrations (read-only); "
        "exit 1 on an error or a warning",
        "bootmigrate --db ~/.local/share/myapp/app.db doctor",
        "bootmigrate doctor --full --json",
    )
    p.add_argument(
        "--json",
        action="store_true",
        help='print the findings as a JSON object; an error too: {"error": {...}}',
    )
    p.add_argument(
        "--full",
        action="store_true",
        help="run PRAGMA integrity_check (reads every index entry) instead of quick_check",
    )
    p = _command(
        commands,
        common,
        "diagnose",
        "print a JSON report of the database for a bug report: schema, ledger, row counts "
        "and storage classes, versions, the doctor's findings; none of the user's data",
        "bootmigrate --db ~/.local/share/myapp/app.db diagnose > report.json",
    )
    p.add_argument(
        "--json",
        action="store_true",
        help="the report is JSON either way (accepted for symmetry with the other commands)",
    )
    p = _command(
        commands,
        common,
        "up",
        "apply pending migrations",
        "bootmigrate --db var/app.db up --backup",
        "bootmigrate up --to 3 --dry-run",
    )
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
    _quiet_option(p)
    p = _command(
        commands,
        common,
        "down",
        "undo migrations with their down files",
        "bootmigrate down --to 2 --backup",
    )
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
    _quiet_option(p)
    p = _command(
        commands,
        common,
        "restore",
        "put the newest backup (or BACKUP) back in place of the database, atomically; "
        "refused while another process holds the database",
        "bootmigrate --db var/app.db restore",
        "bootmigrate --db app.db restore app.db.20261127T101500000000Z-v4.bootmigrate-backup",
    )
    p.add_argument(
        "backup",
        nargs="?",
        metavar="BACKUP",
        help="a backup file of this database (default: the newest one beside it)",
    )
    p = _command(
        commands,
        common,
        "new",
        "write the next-numbered up/down pair into the working copy",
        "bootmigrate new add_user_email",
        "bootmigrate new --python hash_tokens",
    )
    p.add_argument("name", help="lower-case name of [a-z0-9_], e.g. add_user_email")
    p.add_argument(
        "--python",
        action="store_true",
        help="write a Python migration (NNNN_name.up.py / .down.py) instead of SQL",
    )
    p = _command(
        commands,
        common,
        "verify",
        "check files and database (and the installed package's data); exit 1 on a problem",
        "bootmigrate verify",
        "bootmigrate --prepare app_hooks:prepare verify --schema",
    )
    p.add_argument(
        "--schema",
        action="store_true",
        help="also compare the database's schema with the one its version should have",
    )
    p = _command(
        commands,
        common,
        "schema",
        "print the canonical schema of the database",
        "bootmigrate --db var/app.db schema",
        f"bootmigrate schema --write   # {SNAPSHOT_FILENAME} for a new database at the head",
    )
    p.add_argument(
        "--json",
        action="store_true",
        help='print a JSON object; an error too: {"error": {"type": ..., "message": ...}}',
    )
    p.add_argument(
        "--write",
        action="store_true",
        help=f"write {SNAPSHOT_FILENAME} beside the migrations: the schema of a new "
        "database at the newest version",
    )
    p = _command(
        commands,
        common,
        "lock",
        f"write {LOCK_FILENAME} beside the migrations",
        "bootmigrate lock",
        "bootmigrate lock --check",
    )
    p.add_argument(
        "--check", action="store_true", help="only check that no locked migration changed"
    )
    p = _command(
        commands,
        common,
        "squash",
        "write NNNN_squashed.baseline.sql: a new database at version N, which new "
        "databases run instead of the migrations up to N",
        "bootmigrate squash --to 40",
        "bootmigrate squash --to 40 --force   # write it again",
    )
    p.add_argument("--to", type=int, metavar="N", required=True, help="the version to squash to")
    p.add_argument(
        "--name", default="squashed", help="the name in the file's name (default: squashed)"
    )
    p.add_argument("--force", action="store_true", help="replace a baseline of version N")
    p = _command(
        commands,
        common,
        "import",
        "convert another tool's migrations into a bootmigrate source directory",
        "bootmigrate import --from goose db/migrations src/myapp/migrations",
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


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    try:
        status = _main(sys.argv[1:] if argv is None else list(argv))
        sys.stdout.flush()  # a closed pipe shows here, not at the interpreter's exit
        return status
    except BrokenPipeError:
        # The reader went away (`bootmigrate status | head -1`): what Python's docs
        # advise (signal module, "Note on SIGPIPE"): point stdout at devnull so the
        # interpreter's last flush cannot fail again, and exit 1 without a traceback.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_ERROR


def _quiet_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        help="no live progress line (drawn on stderr only when it is a terminal)",
    )


def _main(argv: list[str]) -> int:
    _Parser.json_errors = "--json" in argv
    parser = _parser()
    args = parser.parse_args(argv)
    options = vars(args)
    as_json = bool(options.get("json"))
    if options.get("verbose"):
        logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
    try:
        try:
            project = _config.load_project()
        except UsageError as exc:  # a broken pyproject.toml is a usage error (exit 2)
            raise _Usage(str(exc)) from exc
        handler = _COMMANDS[args.command]
        return handler(args, project)
    except _Usage as exc:
        if as_json:
            _print_json_error("UsageError", str(exc))
            return EXIT_USAGE
        parser.print_usage(sys.stderr)
        print(f"bootmigrate: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except MigrationError as exc:
        if options.get("traceback"):
            raise
        if as_json:
            _print_json_error(type(exc).__name__, str(exc))
            return EXIT_ERROR
        # Every line of an error is its own "bootmigrate: error:" line: `lock` refuses
        # with one line per changed migration, and each should stand out as an error.
        _print_problems(str(exc).splitlines() or [""])
        return EXIT_ERROR


def _print_json_error(kind: str, message: str) -> None:
    """The error object of ``--json``, on stdout where the JSON result would be."""
    print(json.dumps({"error": {"type": kind, "message": message}}, indent=2))


def _setting(
    args: argparse.Namespace, name: str, project: _config.Project, required: bool = True
) -> str | None:
    value = _config.resolve_setting(name, getattr(args, name, None), project)
    if value is None and required:
        raise _Usage(
            f"no {name} given: pass --{name}, set {_config.ENV[name]}, "
            f"or add {name} = ... under [tool.bootmigrate] in pyproject.toml"
            + (f" ({project.pyproject})" if project.pyproject else "")
        )
    return value


def _timeout(args: argparse.Namespace) -> float:
    return float(getattr(args, "timeout", DEFAULT_TIMEOUT))


def _database(args: argparse.Namespace, project: _config.Project) -> str | sqlite3.Connection:
    """The database path, or a prepared connection when ``--prepare`` names a function."""
    db = _db(args, project)
    prepare = _prepare(args, project)
    if prepare is None:
        return db
    opener = _connect(args, project) or sqlite3.connect
    conn = opener(db, timeout=_timeout(args))
    prepare(conn)
    return conn


def _import_function(
    spec: str, project: _config.Project, option: str = "--prepare"
) -> Callable[..., Any]:
    if not all(spec.partition(":")[::2]):
        raise _Usage(f"{option} takes MODULE:FUNCTION, not {spec!r}")
    return _config.load_function(spec, project, option)


def _import_baseline(spec: str, project: _config.Project) -> Baseline:
    if spec in TOOLS:
        return Baseline.from_tool(spec)
    if not all(spec.partition(":")[::2]):
        raise _Usage(f"--baseline takes MODULE:NAME or one of {', '.join(TOOLS)}, not {spec!r}")
    baseline = _config.load_object(spec, project, "--baseline")
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


def _source(args: argparse.Namespace, project: _config.Project) -> _config.ProjectSource:
    """The source with its working copy: commands read ``.read``, write ``.writable``."""
    source = _setting(args, "source", project)
    assert source is not None
    return _config.project_source(source, project)


def _db(args: argparse.Namespace, project: _config.Project) -> str:
    db = _setting(args, "db", project)
    assert db is not None
    # A missing folder is reported before anything runs, in the runner's words, by
    # every command (a dry run or a status would otherwise look fine).
    directory = os.path.dirname(os.path.abspath(db))
    if not db.startswith("file:") and db != ":memory:" and not os.path.isdir(directory):
        raise bootmigrate.DatabaseUnavailable(
            db, f"the directory {directory!r} does not exist; create it first"
        )
    return db


def _prepare(
    args: argparse.Namespace, project: _config.Project
) -> Callable[[sqlite3.Connection], object] | None:
    spec = _setting(args, "prepare", project, required=False)
    return _import_function(spec, project) if spec else None


def _connect(args: argparse.Namespace, project: _config.Project) -> bootmigrate.Connect | None:
    spec = _setting(args, "connect", project, required=False)
    return _import_function(spec, project, "--connect") if spec else None


def _cmd_status(args: argparse.Namespace, project: _config.Project) -> int:
    result = bootmigrate.status(
        _db(args, project), _source(args, project).read, connect=_connect(args, project)
    )
    print(json.dumps(result.as_dict(), indent=2) if args.json else result.summary())
    if not args.exit_code:
        return EXIT_OK
    if result.problems:
        return EXIT_PROBLEM
    return EXIT_PENDING if result.pending else EXIT_OK


def _cmd_diagnose(args: argparse.Namespace, project: _config.Project) -> int:
    report = bootmigrate.diagnose(
        _db(args, project),
        _source(args, project).read,
        timeout=_timeout(args),
        connect=_connect(args, project),
    )
    print(json.dumps(report, indent=2, sort_keys=True))
    return EXIT_OK


def _cmd_doctor(args: argparse.Namespace, project: _config.Project) -> int:
    health = bootmigrate.doctor(
        _db(args, project),
        _source(args, project).read,
        full=args.full,
        timeout=_timeout(args),
        connect=_connect(args, project),
    )
    print(json.dumps(health.as_dict(), indent=2) if args.json else health.summary())
    return EXIT_OK if health.healthy else EXIT_ERROR


def _cmd_up(args: argparse.Namespace, project: _config.Project) -> int:
    source = _source(args, project).read
    if args.dry_run:
        return _dry_run(args, project, source)
    baseline = _import_baseline(args.baseline, project) if args.baseline else None
    # The files are read before the database is opened, so a broken source leaves no
    # file behind; and a loaded set makes migrate() read every file (no lock fast
    # path), so `up` still names an applied migration that was edited.
    migrations = bootmigrate.load(source)
    db = _database(args, project)
    line = live_line(args)
    try:
        report = bootmigrate.migrate(
            db,
            migrations,
            target=args.to,
            timeout=_timeout(args),
            baseline=baseline,
            backup=args.backup is not None,
            backup_keep=1 if args.backup is None else args.backup,
            progress=line,
            connect=_connect(args, project),
        )
    finally:
        if line is not None:
            line.clear()
        if not isinstance(db, str):  # opened for --prepare (by --connect's module too)
            db.close()
    head = getattr(migrations, "head", None)
    if report.state == "up-to-date" and args.to is not None and args.to != head:
        # "up to date" would read as "at the newest version"; it is only at the target.
        print(f"{report.database}: already at version {args.to} (head is {head})")
    else:
        print(report.summary())
    return EXIT_OK


def _dry_run(args: argparse.Namespace, project: _config.Project, source: str) -> int:
    """``up --dry-run``: the pending migrations run on a scratch copy (bootmigrate.rehearse);
    the summary with each step's time, then the SQL that ran."""
    migrations = bootmigrate.load(source)  # for the SQL it prints
    report = bootmigrate.rehearse(
        _db(args, project),
        migrations,
        target=args.to,
        baseline=_import_baseline(args.baseline, project) if args.baseline else None,
        prepare=_prepare(args, project),
        timeout=_timeout(args),
        connect=_connect(args, project),
    )
    print(report.summary())
    for step in report.steps:
        script = migrations.script_for(step.version, step.name)
        if script is not None:
            print(f"\n-- {script.filename}")
            print(script.text.rstrip("\n"))
    return EXIT_OK


def _cmd_down(args: argparse.Namespace, project: _config.Project) -> int:
    migrations = bootmigrate.load(_source(args, project).read)  # before opening: see _cmd_up
    db = _database(args, project)
    line = live_line(args)
    try:
        report = bootmigrate.downgrade(
            db,
            migrations,
            args.to,
            timeout=_timeout(args),
            backup=args.backup is not None,
            backup_keep=1 if args.backup is None else args.backup,
            progress=line,
            connect=_connect(args, project),
        )
    finally:
        if line is not None:
            line.clear()
        if not isinstance(db, str):  # opened for --prepare (by --connect's module too)
            db.close()
    print(report.summary())
    return EXIT_OK


def _check_name(name: str) -> None:
    """A name that cannot be in a file's name is a usage error (exit 2), found before
    anything is read."""
    from .._authoring import name_problem

    problem = name_problem(name)
    if problem is not None:
        raise _Usage(problem)


def _cmd_new(args: argparse.Namespace, project: _config.Project) -> int:
    _check_name(args.name)
    up, down = bootmigrate.new_migration(
        _source(args, project).writable, args.name, python=args.python
    )
    print(f"created {up}\ncreated {down}")
    return EXIT_OK


def _cmd_verify(args: argparse.Namespace, project: _config.Project) -> int:
    source, db = _source(args, project), _db(args, project)
    # --prepare serves the schema comparison and the dry run of pending migrations.
    prepare = _prepare(args, project)
    result = bootmigrate.verify(
        db, source.read, schema=args.schema, prepare=prepare, connect=_connect(args, project)
    )
    # The working copy is what verify checked; the installed copy is what the app
    # boots with: a file only the working copy has is package data the build lost.
    lost = _config.package_data_problem(source)
    problems = [*result.problems, *([str(lost)] if lost else [])]
    if problems:
        _print_problems(problems)
        return EXIT_ERROR
    print(result.summary())
    return EXIT_OK


def _cmd_schema(args: argparse.Namespace, project: _config.Project) -> int:
    if args.write:
        source = _source(args, project).writable
        written = bootmigrate.write_schema_snapshot(source, prepare=_prepare(args, project))
        print(written.summary())
        return EXIT_OK
    schema = bootmigrate.canonical_schema(_db(args, project), connect=_connect(args, project))
    if args.json:
        print(json.dumps(schema.to_dict(), indent=2))
    else:
        print(schema.to_text(), end="")
    return EXIT_OK


def _cmd_lock(args: argparse.Namespace, project: _config.Project) -> int:
    # Both read the working copy: `lock --check` advises `bootmigrate lock`, which
    # must then write where the check read.
    source = _source(args, project).writable
    if args.check:
        lock = bootmigrate.check_lock(source)
        if not lock.ok:
            _print_problems(lock.problems)
            return EXIT_ERROR
        print(lock.summary())
        return EXIT_OK
    print(bootmigrate.write_lock(source).summary())
    return EXIT_OK


def _cmd_squash(args: argparse.Namespace, project: _config.Project) -> int:
    _check_name(args.name)
    written = bootmigrate.squash(
        _source(args, project).writable,
        args.to,
        name=args.name,
        force=args.force,
        prepare=_prepare(args, project),
    )
    print(written.summary())
    return EXIT_OK


def _cmd_import(args: argparse.Namespace, project: _config.Project) -> int:
    report = bootmigrate.import_migrations(args.tool, args.src, args.dest)
    print(report.summary())
    return EXIT_OK


def _cmd_restore(args: argparse.Namespace, project: _config.Project) -> int:
    restored = bootmigrate.restore(
        _db(args, project), args.backup, timeout=_timeout(args), connect=_connect(args, project)
    )
    print(restored.summary())
    return EXIT_OK


def _print_problems(problems: Sequence[str]) -> None:
    for problem in problems:
        print(f"bootmigrate: error: {problem}", file=sys.stderr)


_COMMANDS: dict[str, Callable[[argparse.Namespace, _config.Project], int]] = {
    "status": _cmd_status,
    "diagnose": _cmd_diagnose,
    "doctor": _cmd_doctor,
    "up": _cmd_up,
    "down": _cmd_down,
    "new": _cmd_new,
    "verify": _cmd_verify,
    "schema": _cmd_schema,
    "lock": _cmd_lock,
    "import": _cmd_import,
    "restore": _cmd_restore,
    "squash": _cmd_squash,
}
