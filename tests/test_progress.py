"""Progress: the events a ``progress`` callback receives, and a callback that fails.

On database files: the events of a run (a no-transaction step among transactional ones,
a downgrade) in order; "working" events during one long statement, rate-limited (on an
injected clock, and on the real one with generous bounds); a callback that raises at each
kind of event leaving the file byte-identical, with the exact message; the connection
given back without a progress handler. The CLI's live line: tests/test_cli_progress.py.
"""

from __future__ import annotations

import sqlite3
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import bootmigrate
from bootmigrate import ApplyError, ProgressEvent, UsageError
from bootmigrate._apply import progress
from dbfiles import make_set, read_db

NO_TX = "-- bootmigrate: no-transaction\n"
# One statement of about 30 million SQLite instructions (half a second on a laptop).
LONG = (
    "CREATE TABLE big (id INTEGER PRIMARY KEY, v TEXT);\n"
    "INSERT INTO big SELECT x, 'row ' || x FROM (WITH RECURSIVE n(x) AS (SELECT 1 "
    "UNION ALL SELECT x + 1 FROM n WHERE x < 1000000) SELECT x FROM n);\n"
)
# The same in one statement: for a no-transaction file, nothing of it takes effect when it
# is interrupted.
LONG_ALONE = (
    "CREATE TABLE big AS WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n "
    "WHERE x < 1000000) SELECT x AS id, 'row ' || x AS v FROM n;\n"
)
FILES = {
    "0001_a.up.sql": "CREATE TABLE a (x);\nINSERT INTO a VALUES (1);\n",
    "0001_a.down.sql": "DROP TABLE a;\n",
    "0002_b.up.sql": NO_TX + "CREATE TABLE b (x);\n",
    "0002_b.down.sql": NO_TX + "DROP TABLE b;\n",
    "0003_c.up.sql": "CREATE TABLE c (x);\n",
    "0003_c.down.sql": "DROP TABLE c;\n",
}
TAIL = (
    "Fix the callback, or catch what it raises (an exception from it stops a run, which "
    "is how an app cancels one)"
)


def own_tables(db: Path) -> tuple[str, ...]:
    """The tables of *db* that migrations made."""
    return tuple(t for t in read_db(db).tables if not t.startswith("bootmigrate_"))


def shape(events: list[ProgressEvent]) -> list[tuple[object, ...]]:
    """The events without their times."""
    return [
        (e.kind, e.direction, e.index, e.total, e.label, e.from_version, e.to_version)
        for e in events
    ]


class FakeClock:
    """A clock that advances *step* seconds each time it is read."""

    def __init__(self, step: float) -> None:
        self.now = 1000.0
        self.step = step

    def __call__(self) -> float:
        self.now += self.step
        return self.now


@pytest.fixture
def fake_clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeClock]:
    clock = FakeClock(0.01)
    monkeypatch.setattr(progress, "clock", clock)
    yield clock


def test_a_run_sends_its_events_in_order_and_a_downgrade_too(tmp_path: Path) -> None:
    source = make_set(tmp_path, FILES)
    db = tmp_path / "app.db"
    events: list[ProgressEvent] = []
    report = bootmigrate.migrate(db, source, progress=events.append)
    assert report.to_version == 3
    assert read_db(db).versions == (1, 2, 3)
    assert shape(events) == [
        ("run-start", "up", 0, 3, "", None, 3),
        ("step-start", "up", 1, 3, "0001_a", None, 3),
        ("step-end", "up", 1, 3, "0001_a", None, 3),
        ("step-start", "up", 2, 3, "0002_b", None, 3),  # the no-transaction step
        ("step-end", "up", 2, 3, "0002_b", None, 3),
        ("step-start", "up", 3, 3, "0003_c", None, 3),
        ("step-end", "up", 3, 3, "0003_c", None, 3),
    ]
    assert [e.elapsed for e in events if e.kind != "step-end"] == [0.0] * 4
    assert all(e.elapsed >= 0 for e in events)
    # Immutable, and as documented.
    with pytest.raises(AttributeError, match="immutable"):
        events[0].kind = "working"
    assert (events[1].version, events[1].name) == (1, "a")

    events.clear()
    report = bootmigrate.downgrade(db, source, 1, progress=events.append)
    assert report.to_version == 1
    assert read_db(db).versions == (1,)
    assert shape(events) == [
        ("run-start", "down", 0, 2, "", 3, 1),
        ("step-start", "down", 1, 2, "0003_c", 3, 1),
        ("step-end", "down", 1, 2, "0003_c", 3, 1),
        ("step-start", "down", 2, 2, "0002_b", 3, 1),  # a no-transaction down file
        ("step-end", "down", 2, 2, "0002_b", 3, 1),
    ]
    events.clear()
    bootmigrate.downgrade(db, source, 0, progress=events.append)
    assert shape(events)[0] == ("run-start", "down", 0, 1, "", 1, None)


def test_nothing_pending_sends_no_event(tmp_path: Path) -> None:
    source = make_set(tmp_path, FILES)
    db = tmp_path / "app.db"
    bootmigrate.migrate(db, source)
    events: list[ProgressEvent] = []
    assert bootmigrate.migrate(db, source, progress=events.append).state == "up-to-date"
    assert bootmigrate.migrate(db, bootmigrate.load(source), progress=events.append).steps == ()
    assert bootmigrate.downgrade(db, source, 3, progress=events.append).steps == ()
    assert events == []


def test_a_long_statement_sends_working_events_at_most_ten_a_second(
    tmp_path: Path, fake_clock: FakeClock
) -> None:
    # The clock moves 10 ms each time the handler reads it (every 20,000 instructions of
    # the INSERT, about 1,500 times): far more reads than events.
    source = make_set(tmp_path, {**FILES, "0004_big.up.sql": LONG})
    db = tmp_path / "app.db"
    events: list[ProgressEvent] = []
    bootmigrate.migrate(db, source, progress=events.append)
    working = [e for e in events if e.kind == "working"]
    assert len(working) >= 10
    assert {(e.label, e.index, e.total) for e in working} == {("0004_big", 4, 4)}
    kinds = [e.kind for e in events]
    first, last = kinds.index("working"), len(kinds) - 1 - kinds[::-1].index("working")
    assert kinds[first - 1] == "step-start" and kinds[last + 1] == "step-end"
    times = [e.elapsed for e in working]
    gaps = [later - earlier for earlier, later in zip(times, times[1:])]
    assert min(gaps) >= progress.INTERVAL - 1e-9
    assert times[0] >= progress.INTERVAL - 1e-9  # none before the step ran 0.1 s
    assert events[-1].elapsed >= times[-1]
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("SELECT count(*), max(v) FROM big").fetchone() == (
            1000000,
            "row 999999",
        )
    finally:
        conn.close()


def test_on_the_real_clock_working_events_keep_to_the_rate(tmp_path: Path) -> None:
    source = make_set(tmp_path, {"0001_big.up.sql": LONG})
    db = tmp_path / "app.db"
    events: list[ProgressEvent] = []
    started = time.monotonic()
    bootmigrate.migrate(db, source, progress=events.append)
    took = time.monotonic() - started
    working = sum(e.kind == "working" for e in events)
    # The statement takes well over 0.1 s on any machine this runs on; ten a second at
    # most, and a whole event to spare.
    assert took > progress.INTERVAL
    assert 1 <= working <= took / progress.INTERVAL + 1


@pytest.mark.parametrize(
    ("kind", "at"),
    [
        ("run-start", "its run-start event"),
        ("step-start", "its step-start event for 0002_big"),
        ("step-end", "its step-end event for 0002_big"),
        ("working", "its working event for 0002_big"),
    ],
)
def test_a_callback_that_raises_stops_the_run_and_changes_nothing(
    tmp_path: Path, fake_clock: FakeClock, kind: str, at: str
) -> None:
    source = make_set(tmp_path, {"0001_a.up.sql": FILES["0001_a.up.sql"], "0002_big.up.sql": LONG})
    db = tmp_path / "app.db"
    bootmigrate.migrate(db, source, target=1)
    before = db.read_bytes()
    seen: list[str] = []
    problem = ValueError("stop here")

    def callback(event: ProgressEvent) -> None:
        seen.append(event.kind)
        if event.kind == kind:
            raise problem

    with pytest.raises(ApplyError) as caught:
        bootmigrate.migrate(db, source, progress=callback)
    assert type(caught.value) is ApplyError
    assert str(caught.value) == (
        f"{db}: the progress callback raised ValueError: stop here at {at}; "
        f"the run was rolled back and the database is unchanged. {TAIL}"
    )
    assert caught.value.__cause__ is problem
    assert seen[-1] == kind and seen.count(kind) == 1
    # Byte for byte: a big transaction spills pages into the file before its commit,
    # and the rollback writes them back (so the modification time may change).
    assert db.read_bytes() == before
    assert not Path(f"{db}-journal").exists()
    assert read_db(db).versions == (1,)
    # The next run, without the failing callback, applies it.
    assert bootmigrate.migrate(db, source).to_version == 2


def test_a_callback_that_raises_in_a_long_no_transaction_step(
    tmp_path: Path, fake_clock: FakeClock
) -> None:
    # The statement is interrupted and rolled back by SQLite; the batch before it was
    # committed. Reported with the state, not as "interrupted".
    source = make_set(
        tmp_path, {"0001_a.up.sql": FILES["0001_a.up.sql"], "0002_big.up.sql": NO_TX + LONG_ALONE}
    )
    db = tmp_path / "app.db"

    def callback(event: ProgressEvent) -> None:
        if event.kind == "working":
            raise RuntimeError("cancelled")

    with pytest.raises(ApplyError) as caught:
        bootmigrate.migrate(db, source, progress=callback)
    assert str(caught.value) == (
        f"{db}: the progress callback raised RuntimeError: cancelled at its working event "
        "for 0002_big; it is a no-transaction migration and none of its statements took "
        "effect; the migrations before it were committed, so the database is at version 1. "
        f"Run again: it will be retried. {TAIL}"
    )
    assert read_db(db).versions == (1,)
    assert own_tables(db) == ("a",)
    assert bootmigrate.status(db, source).problems == ()


def test_an_exception_without_a_message_is_named_by_its_class(tmp_path: Path) -> None:
    class Cancelled(Exception):
        pass

    def callback(event: ProgressEvent) -> None:
        raise Cancelled

    source = make_set(tmp_path, FILES)
    with pytest.raises(ApplyError) as caught:
        bootmigrate.migrate(tmp_path / "app.db", source, progress=callback)
    assert str(caught.value).startswith(
        f"{tmp_path / 'app.db'}: the progress callback raised Cancelled at its run-start "
        "event; the run was rolled back and the database is unchanged. "
    )
    assert isinstance(caught.value.__cause__, Cancelled)
    assert own_tables(tmp_path / "app.db") == ()


def test_a_callback_that_raises_after_a_no_transaction_step_keeps_it_recorded(
    tmp_path: Path,
) -> None:
    source = make_set(tmp_path, FILES)
    db = tmp_path / "app.db"

    def callback(event: ProgressEvent) -> None:
        if event.kind == "step-end" and event.version == 2:
            raise RuntimeError("cancelled")

    with pytest.raises(ApplyError) as caught:
        bootmigrate.migrate(db, source, progress=callback)
    assert str(caught.value) == (
        f"{db}: the progress callback raised RuntimeError: cancelled at its step-end event "
        "for 0002_b; this batch was rolled back; the migrations before it were committed, "
        f"so the database is at version 2. Run again. {TAIL}"
    )
    assert read_db(db).versions == (1, 2)
    assert own_tables(db) == ("a", "b")
    assert bootmigrate.status(db, source).problems == ()


def test_ctrl_c_in_the_callback_is_a_keyboard_interrupt_and_changes_nothing(
    tmp_path: Path, fake_clock: FakeClock
) -> None:
    source = make_set(tmp_path, {"0001_a.up.sql": "CREATE TABLE a (x);\n"})
    bootmigrate.migrate(tmp_path / "app.db", source)
    (source / "0002_big.up.sql").write_text(LONG, encoding="utf-8")
    db = tmp_path / "app.db"
    before = db.read_bytes()

    def callback(event: ProgressEvent) -> None:
        if event.kind == "working":
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        bootmigrate.migrate(db, source, progress=callback)
    assert db.read_bytes() == before


def test_a_borrowed_connection_is_given_back_without_a_progress_handler(
    tmp_path: Path, fake_clock: FakeClock
) -> None:
    source = make_set(tmp_path, {"0001_big.up.sql": LONG})
    conn = sqlite3.connect(tmp_path / "app.db")
    calls: list[str] = []

    def apps_handler() -> int:
        calls.append("app's")
        return 0

    conn.set_progress_handler(apps_handler, 1000)
    events: list[ProgressEvent] = []
    try:
        bootmigrate.migrate(conn, source, progress=events.append)
        assert calls == []  # replaced during the run
        assert any(e.kind == "working" for e in events)
        count = len(events)
        conn.execute("SELECT count(*) FROM big WHERE v LIKE '%9%'").fetchone()
        assert len(events) == count and calls == []  # and cleared after it
    finally:
        conn.close()


def test_an_interrupt_from_the_app_is_reported_as_one(tmp_path: Path) -> None:
    # Connection.interrupt() from inside a statement: SQLite stops it at once.
    source = make_set(
        tmp_path,
        {
            "0001_a.up.sql": "CREATE TABLE a (x);\nINSERT INTO a WITH RECURSIVE n(i) AS "
            "(SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000) SELECT halt() FROM n;\n"
        },
    )
    conn = sqlite3.connect(tmp_path / "app.db")
    conn.create_function("halt", 0, lambda: conn.interrupt())
    try:
        with pytest.raises(ApplyError) as caught:
            bootmigrate.migrate(conn, source)
    finally:
        conn.close()
    assert str(caught.value) == (
        f"{tmp_path / 'app.db'}: a statement was interrupted (Connection.interrupt() was "
        "called on the connection while the run was under way); the run was rolled back "
        "and the database is unchanged. Run again when nothing interrupts the connection"
    )
    assert read_db(tmp_path / "app.db").tables == ()


@pytest.mark.parametrize("bad", ["print", 3])
def test_a_progress_that_is_not_a_function_is_refused(tmp_path: Path, bad: object) -> None:
    source = make_set(tmp_path, FILES)
    with pytest.raises(UsageError) as caught:
        bootmigrate.migrate(tmp_path / "app.db", source, progress=bad)  # type: ignore[arg-type]
    assert str(caught.value) == f"progress must be a function that takes one event, not {bad!r}"
    with pytest.raises(UsageError):
        bootmigrate.downgrade(tmp_path / "app.db", source, 0, progress=bad)  # type: ignore[arg-type]
    assert not (tmp_path / "app.db").exists()


@pytest.mark.skipif(sys.version_info < (3, 12), reason="the whole-script path is 3.12+ only")
def test_an_interrupted_big_script_is_not_run_again(tmp_path: Path) -> None:
    # A script of 1 MB or more runs in one executescript() call; a statement that fails
    # there makes the executor run the script again statement by statement to name it.
    # An interrupt is no statement's fault: it is reported at once, and the script
    # (and halt(), which interrupts) runs once.
    inserts = "".join(f"INSERT INTO a VALUES ({i});\n" for i in range(60_000))
    assert len(inserts) >= 1 << 20
    source = make_set(
        tmp_path,
        {
            "0001_a.up.sql": "CREATE TABLE a (x);\n"
            + inserts
            + "INSERT INTO a WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
            "WHERE i < 1000) SELECT halt() FROM n;\n"
        },
    )
    conn = sqlite3.connect(tmp_path / "app.db")
    halts: list[int] = []

    def halt() -> int:
        halts.append(1)
        conn.interrupt()
        return 0

    conn.create_function("halt", 0, halt)
    try:
        with pytest.raises(ApplyError, match="a statement was interrupted") as caught:
            bootmigrate.migrate(conn, source)
    finally:
        conn.close()
    assert "run was rolled back and the database is unchanged" in str(caught.value)
    assert len(halts) == 1
    assert own_tables(tmp_path / "app.db") == ()


def test_a_python_migration_that_swallows_the_interrupt_still_stops_the_run(
    tmp_path: Path, fake_clock: FakeClock
) -> None:
    # The callback's failure interrupts the function's statement; the function catches
    # SQLite's error and returns, and the run still stops with the callback's error.
    swallow = (
        "import sqlite3\n\n\ndef up(conn):\n    try:\n"
        "        conn.execute(" + repr(LONG_ALONE.strip().rstrip(";")) + ")\n"
        "    except sqlite3.OperationalError:\n        pass\n"
    )
    source = make_set(
        tmp_path, {"0001_a.up.sql": FILES["0001_a.up.sql"], "0002_swallow.up.py": swallow}
    )
    db = tmp_path / "app.db"
    bootmigrate.migrate(db, source, target=1)
    before = db.read_bytes()

    def callback(event: ProgressEvent) -> None:
        if event.kind == "working":
            raise ValueError("stop here")

    with pytest.raises(ApplyError) as caught:
        bootmigrate.migrate(db, source, progress=callback)
    assert str(caught.value) == (
        f"{db}: the progress callback raised ValueError: stop here at its working event for "
        f"0002_swallow; the run was rolled back and the database is unchanged. {TAIL}"
    )
    assert db.read_bytes() == before
    assert own_tables(db) == ("a",)
