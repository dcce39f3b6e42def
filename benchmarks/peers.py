"""Peer tools on the same inputs, each in a throwaway environment of its own.

yoyo-migrations, alembic and sqlite-utils (and sqlparse, for the splitting comparison)
are installed from PyPI into venvs under ``.bench-cache/``; dbmate from npm (its package
ships the Go binary). A tool that cannot be installed is reported and skipped. Each Python peer runs
a small driver script inside its own venv, which prints its timings as JSON.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

CACHE = Path(__file__).resolve().parents[1] / ".bench-cache"

PIP_PACKAGES = {
    "yoyo": ["yoyo-migrations"],
    "alembic": ["alembic"],
    "sqlite-utils": ["sqlite-utils>=4"],
    "sqlparse": ["sqlparse"],
}

# Runs inside a peer's venv: python driver.py TOOL CASE ARGS... -> JSON on stdout.
DRIVER = r"""
import json, os, shutil, sqlite3, statistics, sys, time

def timed(fn, repeat, setup=None):
    runs = []
    for i in range(repeat + 1):
        if setup: setup()
        t = time.perf_counter(); fn(); runs.append(time.perf_counter() - t)
    return runs[1:] if repeat else runs  # the first is the warm-up, if there are more

def fresh(db):
    def setup():
        for suffix in ("", "-journal", "-wal", "-shm"):
            if os.path.exists(db + suffix): os.remove(db + suffix)
    return setup

tool, case, folder, db = sys.argv[1:5]
repeat = int(sys.argv[5])

if tool == "yoyo":
    from yoyo import get_backend, read_migrations
    def apply():
        backend = get_backend("sqlite:///" + db)
        with backend.lock():
            backend.apply_migrations(backend.to_apply(read_migrations(folder)))
        backend.connection.close()
    if case == "apply":
        print(json.dumps(timed(apply, repeat, fresh(db))))
    else:
        apply()
        backend = get_backend("sqlite:///" + db)
        def check():
            assert not backend.to_apply(read_migrations(folder))
        print(json.dumps(timed(check, repeat)))

elif tool == "alembic":
    from alembic import command
    from alembic.config import Config
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory
    import sqlalchemy
    cfg = Config()
    cfg.set_main_option("script_location", folder)
    cfg.set_main_option("sqlalchemy.url", "sqlite:///" + db)
    def apply():
        command.upgrade(cfg, "head")
    if case == "apply":
        print(json.dumps(timed(apply, repeat, fresh(db))))
    else:
        apply()
        engine = sqlalchemy.create_engine("sqlite:///" + db)
        def check():
            head = ScriptDirectory.from_config(cfg).get_current_head()
            with engine.connect() as conn:
                assert MigrationContext.configure(conn).get_current_revision() == head
        print(json.dumps(timed(check, repeat)))

elif tool == "sqlite-utils":
    # sqlite-utils 4's Migrations: each migration a Python function, run in its own
    # transaction (db.atomic()); here each runs one of our files, split as the sqlite3
    # docs suggest (executescript() would commit in the middle of that transaction).
    import sqlite_utils
    def migrations():
        found = sqlite_utils.Migrations("bench")
        for name in sorted(n for n in os.listdir(folder) if n.endswith(".up.sql")):
            def run(database, path=os.path.join(folder, name)):
                buffer = ""
                with open(path, encoding="utf-8") as f:
                    for line in f:
                        buffer += line
                        if sqlite3.complete_statement(buffer):
                            database.execute(buffer)
                            buffer = ""
                if buffer.strip():
                    database.execute(buffer)
            found(name=name[: -len(".up.sql")])(run)
        return found
    def apply():
        database = sqlite_utils.Database(db)
        migrations().apply(database)
        database.close()
    if case == "apply":
        print(json.dumps(timed(apply, repeat, fresh(db))))
    else:
        apply()
        database = sqlite_utils.Database(db)
        def check():
            assert not migrations().pending(database)
        print(json.dumps(timed(check, repeat)))

elif tool == "sqlparse":
    import sqlparse
    text = open(folder, encoding="utf-8").read()
    started = time.perf_counter()
    n = len(sqlparse.split(text))
    seconds = time.perf_counter() - started
    trigger = sys.argv[4]
    print(json.dumps({"seconds": seconds, "statements": n, "trigger": sqlparse.split(trigger)}))
"""

ALEMBIC_ENV = """
from alembic import context
from sqlalchemy import create_engine

engine = create_engine(context.config.get_main_option("sqlalchemy.url"))
with engine.connect() as connection:
    context.configure(connection=connection, target_metadata=None)
    with context.begin_transaction():
        context.run_migrations()
"""

# An alembic revision that runs a .sql file beside it, split the way the sqlite3 docs
# suggest (sqlite3.complete_statement), each statement through exec_driver_sql.
ALEMBIC_REVISION = """
import os, sqlite3
from alembic import op

revision = {revision!r}
down_revision = {down!r}
branch_labels = None
depends_on = None

def upgrade():
    bind = op.get_bind()
    here = os.path.dirname(__file__)
    buffer = ""
    with open(os.path.join(here, {sql!r}), encoding="utf-8") as f:
        for line in f:
            buffer += line
            if sqlite3.complete_statement(buffer):
                bind.exec_driver_sql(buffer)
                buffer = ""
    if buffer.strip():
        bind.exec_driver_sql(buffer)
"""


def venv_python(name: str, log: list[str]) -> Path | None:
    """The python of the peer's venv, created and filled on first use; None if impossible."""
    folder = CACHE / f"venv-{name}"
    python = folder / "bin" / "python"
    marker = folder / ".installed"
    if marker.exists():
        return python
    base = getattr(sys, "_base_executable", sys.executable)
    try:
        subprocess.run([base, "-m", "venv", str(folder)], check=True, capture_output=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", *PIP_PACKAGES[name]],
            check=True,
            capture_output=True,
            timeout=600,
        )
    except (subprocess.SubprocessError, OSError) as exc:
        log.append(f"{name}: could not be installed ({exc}); skipped")
        return None
    marker.touch()
    return python


def dbmate_binary(log: list[str]) -> Path | None:
    """The dbmate binary from npm, installed under .bench-cache/npm on first use."""
    folder = CACHE / "npm"
    found = _dbmate_in(folder)
    if found is not None:
        return found
    npm = shutil.which("npm")
    if npm is None:
        log.append("dbmate: npm is not installed; skipped")
        return None
    folder.mkdir(parents=True, exist_ok=True)
    try:
        subprocess.run(
            [npm, "install", "--silent", "--prefix", str(folder), "dbmate"],
            check=True,
            capture_output=True,
            timeout=600,
        )
    except (subprocess.SubprocessError, OSError) as exc:
        log.append(f"dbmate: could not be installed ({exc}); skipped")
        return None
    return _dbmate_in(folder)


def _dbmate_in(folder: Path) -> Path | None:
    # The Go binary itself, not node_modules/.bin/dbmate (a node wrapper that would keep
    # it running when a timeout kills the wrapper).
    binaries = sorted(folder.glob("node_modules/@dbmate/*/bin/dbmate"))
    return binaries[0] if binaries else None


def run_driver(
    python: Path, work: Path, args: list[str], timeout: float
) -> list[float] | dict[str, object] | None:
    driver = work / "peer_driver.py"
    if not driver.exists():
        driver.write_text(DRIVER)
    try:
        done = subprocess.run(
            [str(python), str(driver), *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            env={**os.environ, "PYTHONWARNINGS": "ignore"},
        )
    except subprocess.TimeoutExpired:
        return None
    if done.returncode != 0:
        raise RuntimeError(f"peer driver {args[:2]} failed:\n{done.stderr[-2000:]}")
    result: list[float] | dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def folder_for(tool: str, source: Path, work: Path) -> Path:
    """The migration folder *tool* reads, made from ours."""
    if tool == "yoyo":
        return yoyo_folder(source, work)
    if tool == "alembic":
        return alembic_folder(source, work)
    return source  # sqlite-utils: its migrations are functions that read our files


def yoyo_folder(source: Path, work: Path) -> Path:
    """Our up files as yoyo migrations (``NNNN_name.sql``; yoyo splits them with sqlparse)."""
    folder = work / f"yoyo-{source.name}"
    if not folder.exists():
        folder.mkdir()
        for path in sorted(source.glob("*.up.sql")):
            shutil.copyfile(path, folder / path.name.replace(".up.sql", ".sql"))
    return folder


def alembic_folder(source: Path, work: Path) -> Path:
    """An alembic script directory with one revision per up file."""
    folder = work / f"alembic-{source.name}"
    if not folder.exists():
        versions = folder / "versions"
        versions.mkdir(parents=True)
        (folder / "env.py").write_text(ALEMBIC_ENV)
        down = None
        for path in sorted(source.glob("*.up.sql")):
            revision = "r" + path.name.split("_", 1)[0]
            shutil.copyfile(path, versions / path.name)
            (versions / f"{revision}.py").write_text(
                ALEMBIC_REVISION.format(revision=revision, down=down, sql=path.name)
            )
            down = revision
    return folder


def dbmate_command(binary: Path, db: Path, migrations: Path) -> list[str]:
    """dbmate's command line for the SQLite file *db* and the folder *migrations*
    (the action, ``up`` or ``status``, goes last)."""
    return [
        str(binary),
        "--url",
        f"sqlite:{db}",
        "--migrations-dir",
        str(migrations),
        "--no-dump-schema",
    ]


def dbmate_folder(source: Path, work: Path) -> Path:
    """Our up files as dbmate migrations (``-- migrate:up`` sections)."""
    folder = work / f"dbmate-{source.name}"
    if not folder.exists():
        folder.mkdir()
        for path in sorted(source.glob("*.up.sql")):
            text = path.read_text(encoding="utf-8")
            name = path.name.replace(".up.sql", ".sql")
            (folder / name).write_text("-- migrate:up\n" + text + "\n-- migrate:down\n")
    return folder
