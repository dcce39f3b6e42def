"""The live progress line of ``bootmigrate up`` and ``down``: on a terminal (a pty) and
not on a pipe; ``-q`` and ``-v`` turn it off."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bootmigrate import ProgressEvent
from bootmigrate._cli.progress import Line
from dbfiles import make_set, read_db
from processes import cli_env, run_cli

pty = pytest.importorskip("pty")  # POSIX only, as terminals are here

NO_TX = "-- bootmigrate: no-transaction\n"
SET = {
    "0001_notes.up.sql": "CREATE TABLE notes (id INTEGER PRIMARY KEY, title TEXT);\n",
    "0001_notes.down.sql": "DROP TABLE notes;\n",
    "0002_vacuum.up.sql": NO_TX + "VACUUM;\n",
    "0002_vacuum.down.sql": "SELECT 1;\n",
    "0003_rebuild.up.sql": (
        "INSERT INTO notes (title) WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 "
        "FROM n WHERE i < 300) SELECT 'note ' || i FROM n;\n"
    ),
    "0003_rebuild.down.sql": "DELETE FROM notes;\n",
}


def on_a_terminal(*args: str | Path, cwd: Path) -> tuple[int, str, str]:
    """Run the CLI with stderr on a pseudo-terminal; (exit status, stdout, what the
    terminal received on stderr)."""
    leader, follower = pty.openpty()
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", "bootmigrate", *map(str, args)],
            cwd=cwd,
            env=cli_env(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=follower,
        )
    finally:
        os.close(follower)
    received = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # Linux: EIO once the process closed its end
            break
        if not chunk:
            break
        received += chunk
    os.close(leader)
    assert process.stdout is not None
    stdout = process.stdout.read().decode("utf-8")
    process.stdout.close()
    return process.wait(timeout=60), stdout, received.decode("utf-8")


def wiped(text: str) -> str:
    """What wipes a line of *text*'s length: a carriage return, spaces, and another."""
    return "\r" + " " * len(text) + "\r"


def test_up_and_down_draw_one_line_on_a_terminal_and_wipe_it(tmp_path: Path) -> None:
    source = make_set(tmp_path, SET)
    db = tmp_path / "app.db"
    status, stdout, stderr = on_a_terminal("--db", db, "--source", source, "up", cwd=tmp_path)
    assert status == 0, stderr
    assert stdout.startswith(f"{db}: migrated from an empty database to version 3")
    last = "applying 0003_rebuild (3/3) 0 s…"
    # Steps in order, one line rewritten in place (no newline), wiped at the end.
    assert stderr == (
        f"\rapplying 0001_notes (1/3) 0 s…\rapplying 0002_vacuum (2/3) 0 s…\r{last}" + wiped(last)
    )
    assert read_db(db).versions == (1, 2, 3)

    status, stdout, stderr = on_a_terminal(
        "--db", db, "--source", source, "down", "--to", "1", cwd=tmp_path
    )
    assert status == 0, stderr
    assert stdout.startswith(f"{db}: downgraded from version 3 to 1 (2 migration(s))")
    last = "undoing 0002_vacuum (2/2) 0 s…"
    # A shorter line is drawn, padded over the longer one, and drawn again (for the cursor).
    assert stderr == "\rundoing 0003_rebuild (1/2) 0 s…" + f"\r{last} \r{last}" + wiped(last)
    assert read_db(db).versions == (1,)


def test_a_failing_run_wipes_the_line_before_its_error(tmp_path: Path) -> None:
    source = make_set(tmp_path, {**SET, "0003_rebuild.up.sql": "INSERT INTO nowhere VALUES (1);\n"})
    db = tmp_path / "app.db"
    status, stdout, stderr = on_a_terminal("--db", db, "--source", source, "up", cwd=tmp_path)
    assert status == 1
    assert stdout == ""
    last = "applying 0003_rebuild (3/3) 0 s…"
    drawn = f"\r{last}" + wiped(last)
    assert stderr.startswith("\rapplying 0001_notes (1/3) 0 s…")
    error = stderr[stderr.index(drawn) + len(drawn) :]
    # The terminal turns the error line's newline into CR LF.
    assert error.startswith("bootmigrate: error: '0003_rebuild.up.sql' statement 1 (line 1)")
    assert error.endswith("\r\n") and error.count("\n") == 1


@pytest.mark.parametrize("option", ["-q", "--quiet", "-v"])
def test_quiet_and_verbose_draw_no_line(tmp_path: Path, option: str) -> None:
    source = make_set(tmp_path, SET)
    db = tmp_path / "app.db"
    status, stdout, stderr = on_a_terminal(
        "--db", db, "--source", source, "up", option, cwd=tmp_path
    )
    assert status == 0, stderr
    assert stdout.startswith(f"{db}: migrated from an empty database to version 3")
    assert "applying" not in stderr and "\r" not in stderr.replace("\r\n", "\n")
    if option != "-v":
        assert stderr == ""
    status, _, stderr = on_a_terminal(
        "--db", db, "--source", source, "down", "--to", "0", option, cwd=tmp_path
    )
    assert status == 0, stderr
    assert "undoing" not in stderr
    assert read_db(db).versions == ()


def test_nothing_extra_when_stderr_is_not_a_terminal(tmp_path: Path) -> None:
    source = make_set(tmp_path, SET)
    db = tmp_path / "app.db"
    done = run_cli(["--db", str(db), "--source", str(source), "up"], cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert done.stdout.startswith(f"{db}: migrated from an empty database to version 3")
    done = run_cli(["--db", str(db), "--source", str(source), "down", "--to", "0"], cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""


def event(kind: str, elapsed: float, direction: str = "up") -> ProgressEvent:
    return ProgressEvent(kind, direction, 7, 3, 4, "rebuild", elapsed, 1, 7)  # type: ignore[arg-type]


def test_the_line_shows_the_steps_seconds_and_repaints_only_what_changed() -> None:
    stream = io.StringIO()
    line = Line(stream)
    line(ProgressEvent("run-start", "up", 7, 0, None, None, 0.0, 1, 7))
    assert stream.getvalue() == ""
    for kind, elapsed in [("step-start", 0.0), ("working", 0.4), ("working", 12.3)]:
        line(event(kind, elapsed))
    line(event("working", 12.9))  # the same second: not drawn again
    line(event("step-end", 13.0))
    assert stream.getvalue() == (
        "\rapplying 0004_rebuild (3/7) 0 s…"
        "\rapplying 0004_rebuild (3/7) 12 s…"
        "\rapplying 0004_rebuild (3/7) 13 s…"
    )
    line(event("working", 2.0, "down"))
    line.clear()
    line.clear()  # nothing left to wipe
    undoing = "undoing 0004_rebuild (3/7) 2 s…"
    assert stream.getvalue().endswith(f"\r{undoing}  \r{undoing}" + wiped(undoing))


def test_the_line_falls_back_to_ascii_and_stops_when_the_terminal_goes() -> None:
    class Ascii(io.StringIO):
        encoding = "ascii"

    stream = Ascii()
    line = Line(stream)
    line(event("step-start", 0.0))
    assert stream.getvalue() == "\rapplying 0004_rebuild (3/7) 0 s..."

    class Gone(io.StringIO):
        def write(self, text: str) -> int:
            raise OSError(5, "Input/output error")

    line = Line(Gone())
    line(event("step-start", 0.0))  # no error: a migration must not fail for its line
    line(event("working", 3.0))
    line.clear()
