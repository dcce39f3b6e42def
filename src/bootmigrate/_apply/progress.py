"""Progress of a run: the events a ``progress`` callback receives, and what sends them.

A run (:func:`bootmigrate.migrate` or :func:`bootmigrate.downgrade` with *progress*)
sends a ``run-start`` event once it knows, under the write lock, what it will do; then a
``step-start`` and a ``step-end`` event around each migration; and, while one statement
runs long, ``working`` events, at most :data:`INTERVAL` apart.

The ``working`` events come from SQLite's progress handler, which SQLite calls every
:data:`INSTRUCTIONS` virtual machine instructions of a statement (a statement shorter than
that never calls it, and most migration statements are). The handler looks at a monotonic
clock and calls the app's callback only when :data:`INTERVAL` has passed since the last
event. Python cannot read a connection's progress handler back, so a borrowed connection's
own handler is replaced during the run and the connection is given back with none.

A callback that raises ends the run like any failure: the handler returns non-zero, which
makes SQLite interrupt the statement, and the runner reports the callback's exception (not
SQLite's "interrupted") as a :class:`~bootmigrate.ApplyError` chained to it. A
:class:`KeyboardInterrupt` (Ctrl-C, which Python delivers inside the handler) is raised
as itself after the rollback. Without a callback nothing is installed: the run costs what
it did before (:class:`Silent`).
"""

from __future__ import annotations

import sqlite3
import time
from contextlib import suppress

from .._binding import sqlite_errors
from .._errors import ApplyError, MigrationError, UsageError
from .._source.filenames import label
from .._value import Value

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Literal

    from .._source.model import Migration, Squash

    #: The kinds of event (private: the event's fields spell it out for the docs).
    Kind = Literal["run-start", "step-start", "step-end", "working"]

#: Every how many SQLite virtual machine instructions the handler looks at the clock. One
#: call costs about 1.7 µs (it takes the GIL); 20,000 instructions take about 0.3 ms on the
#: machine BENCHMARKS.md describes, so a long statement is about 0.5% slower and the
#: handler still looks at the clock hundreds of times between two events.
INSTRUCTIONS = 20_000
#: The least time between two events a run sends, in seconds: at most ten a second.
INTERVAL = 0.1
#: The clock of the events' times and of the rate limit (a test may replace it).
clock: Callable[[], float] = time.monotonic


class ProgressEvent(Value):
    """What a ``progress`` callback of :func:`bootmigrate.migrate` or
    :func:`bootmigrate.downgrade` receives: where the run is.

    *kind* is ``"run-start"`` (once, before the first step), ``"step-start"`` and
    ``"step-end"`` (around each migration), or ``"working"`` (at most ten a second while a
    statement of the step, or a check after it, runs long).
    """

    __slots__ = (
        "direction",
        "elapsed",
        "from_version",
        "index",
        "kind",
        "name",
        "to_version",
        "total",
        "version",
    )
    #: ``"run-start"``, ``"step-start"``, ``"step-end"`` or ``"working"``.
    kind: Literal["run-start", "step-start", "step-end", "working"]
    #: ``"up"`` (applying) or ``"down"`` (undoing).
    direction: Literal["up", "down"]
    #: How many steps the run has to do.
    total: int
    #: Which step this is, from 1 to :attr:`total` (0 in ``run-start``).
    index: int
    #: The step's version (None in ``run-start``).
    version: int | None
    #: The step's name (None in ``run-start``).
    name: str | None
    #: Seconds since the step started (``step-end``: how long it took; ``run-start``: 0).
    elapsed: float
    #: The version the run started from (None: no migration had been applied).
    from_version: int | None
    #: The version the run goes to (None: a downgrade to 0).
    to_version: int | None

    def __init__(
        self,
        kind: Literal["run-start", "step-start", "step-end", "working"],
        direction: Literal["up", "down"],
        total: int,
        index: int,
        version: int | None,
        name: str | None,
        elapsed: float,
        from_version: int | None,
        to_version: int | None,
    ) -> None:
        self._init(kind, direction, total, index, version, name, elapsed, from_version, to_version)

    @property
    def label(self) -> str:
        """The step as file names say it (``0004_rebuild``); ``""`` in ``run-start``."""
        if self.version is None or self.name is None:
            return ""
        return label(self.version, self.name)


def check_callback(progress: object) -> None:
    """Refuse a *progress* that is neither None nor callable (a bug in the calling code)."""
    if progress is not None and not callable(progress):
        raise UsageError(f"progress must be a function that takes one event, not {progress!r}")


class Silent:
    """The run without a callback: every event is dropped, nothing is installed."""

    #: What the callback raised, once it has (never, here).
    failure: BaseException | None = None

    def start(self, total: int, from_version: int | None, to_version: int | None) -> None:
        """The run is about to do *total* steps (only the first call counts)."""

    def step_started(self, migration: Migration | Squash) -> None:
        """*migration* is about to run."""

    def step_ended(self) -> None:
        """The step that started last is done (its ledger row written)."""

    def stop(self) -> None:
        """The run is over: take the progress handler away."""

    def error(self) -> MigrationError:
        """The error that reports :attr:`failure` (only when there is one)."""
        raise AssertionError("no callback failed")  # pragma: no cover - see Tracker


class Tracker(Silent):
    """The run with a callback: sends its events, and runs SQLite's progress handler
    between :meth:`start` and :meth:`stop`."""

    def __init__(
        self,
        callback: Callable[[ProgressEvent], object],
        conn: sqlite3.Connection,
        database: str,
        direction: Literal["up", "down"],
    ) -> None:
        self.callback = callback
        self.conn = conn
        #: How messages name the database.
        self.database = database
        self.direction: Literal["up", "down"] = direction
        self.clock = clock
        self.total = 0
        self.index = 0
        #: The step under way: a migration, or the baseline a new database starts from.
        self.migration: Migration | Squash | None = None
        self.from_version: int | None = None
        self.to_version: int | None = None
        self.started_at = 0.0
        #: When the next "working" event is due (the clock's time).
        self.due = 0.0
        #: Which event the failure happened at (for the message).
        self.at = ""
        self.running = False
        #: True while the callback runs: a query of its own on the connection does not
        #: call it again from the handler.
        self.sending = False
        self.failure: BaseException | None = None

    def start(self, total: int, from_version: int | None, to_version: int | None) -> None:
        if self.running or self.failure is not None:
            return
        self.total, self.from_version, self.to_version = total, from_version, to_version
        self.running = True
        self.conn.set_progress_handler(self._working, INSTRUCTIONS)
        self.started_at = self.clock()
        self._send("run-start", 0.0)

    def step_started(self, migration: Migration | Squash) -> None:
        self.migration = migration
        self.index += 1
        # A run plans again after each no-transaction step; the total grows only if
        # another process added work in between (it never does under the file lock).
        self.total = max(self.total, self.index)
        self.started_at = self.clock()
        self._send("step-start", 0.0)

    def step_ended(self) -> None:
        self._send("step-end", self.clock() - self.started_at)

    def stop(self) -> None:
        if not self.running:
            return
        self.running = False
        with suppress(*sqlite_errors.ProgrammingError):  # a migration closed the connection
            self.conn.set_progress_handler(None, 0)

    def _event(self, kind: Kind, elapsed: float) -> ProgressEvent:
        migration = self.migration
        return ProgressEvent(
            kind,
            self.direction,
            self.total,
            self.index,
            None if migration is None else migration.version,
            None if migration is None else migration.name,
            elapsed,
            self.from_version,
            self.to_version,
        )

    def _send(self, kind: Kind, elapsed: float) -> None:
        """Call the callback; raise what reports its failure (a KeyboardInterrupt as is)."""
        if self.failure is not None:
            raise self.error() from self.failure
        event = self._event(kind, elapsed)
        self.due = self.clock() + INTERVAL
        self.sending = True
        try:
            self.callback(event)
        except BaseException as exc:
            self._failed(exc, kind)
            if not isinstance(exc, Exception):
                raise
            raise self.error() from exc
        finally:
            self.sending = False

    def _working(self) -> int:
        """SQLite's progress handler: non-zero interrupts the statement."""
        try:
            if self.failure is not None:
                return 1  # the run is failing: stop whatever runs (a Python migration's)
            now = self.clock()
            if now < self.due or self.sending:
                return 0
            self.due = now + INTERVAL
            self.sending = True
            try:
                self.callback(self._event("working", now - self.started_at))
            finally:
                self.sending = False
        except BaseException as exc:  # Ctrl-C is delivered here too: handled by the runner
            self._failed(exc, "working")
            return 1
        return 0

    def _failed(self, exc: BaseException, kind: Kind) -> None:
        self.failure = exc
        migration = self.migration
        step = "" if migration is None else f" for {label(migration.version, migration.name)}"
        self.at = f"its {kind} event{step}"

    def error(self) -> MigrationError:
        exc = self.failure
        assert exc is not None
        raised = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        return ApplyError(
            f"{self.database}: the progress callback raised {raised} at {self.at}",
            "fix the callback, or catch what it raises (an exception from it stops a run, "
            "which is how an app cancels one)",
        )


#: The tracker of every run without a callback.
SILENT = Silent()


def tracker(
    progress: Callable[[ProgressEvent], object] | None,
    conn: sqlite3.Connection,
    database: str,
    direction: Literal["up", "down"],
) -> Silent:
    """A :class:`Tracker` for *progress*, or :data:`SILENT` when it is None."""
    if progress is None:
        return SILENT
    return Tracker(progress, conn, database, direction)


__all__ = [
    "INSTRUCTIONS",
    "INTERVAL",
    "SILENT",
    "ProgressEvent",
    "Silent",
    "Tracker",
    "check_callback",
    "tracker",
]
