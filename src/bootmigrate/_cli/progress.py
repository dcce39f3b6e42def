"""The live progress line of ``bootmigrate up`` and ``down`` on a terminal.

One line on stderr, rewritten in place with a carriage return as the run's progress
events arrive (``applying 0004_rebuild (3/7) 12 s…``), and wiped when the run ends, so
the summary on stdout stands alone. Nothing is drawn when stderr is not a terminal (a
log file, a pipe, CI), under ``-q``, or under ``-v``, whose log lines would break it.
"""

from __future__ import annotations

import argparse
import sys
from typing import Protocol, TextIO

from bootmigrate import ProgressEvent


class _Stream(Protocol):
    def write(self, text: str, /) -> int: ...

    def flush(self) -> None: ...


class Line:
    """A progress callback that draws the run's current step on *stream*."""

    def __init__(self, stream: TextIO) -> None:
        self.stream: _Stream = stream
        #: What is on the line now.
        self.shown = ""
        self.ellipsis = "…" if _encodes(stream, "…") else "..."

    def __call__(self, event: ProgressEvent) -> None:
        """Draw *event* (a run-start event draws nothing: its first step follows)."""
        if event.kind == "run-start":
            return
        verb = "applying" if event.direction == "up" else "undoing"
        self._draw(
            f"{verb} {event.label} ({event.index}/{event.total}) "
            f"{int(event.elapsed)} s{self.ellipsis}"
        )

    def clear(self) -> None:
        """Wipe the line (the run is over)."""
        if self.shown:
            self._draw("")

    def _draw(self, text: str) -> None:
        if text == self.shown:
            return  # most "working" events within one second: nothing new to show
        # Spaces over what is left of a longer line: no terminal escape sequences.
        padding = " " * max(0, len(self.shown) - len(text))
        try:
            self.stream.write(f"\r{text}{padding}\r{text}" if padding else f"\r{text}")
            self.stream.flush()
        except (OSError, ValueError):
            # The terminal went away (or the stream was closed): a progress line must not
            # stop a migration, so it stops drawing.
            self.stream = _Nowhere()
        self.shown = text


class _Nowhere:
    """A stream that drops what is written to it."""

    def write(self, text: str, /) -> int:
        return len(text)

    def flush(self) -> None:
        pass


def _encodes(stream: TextIO, text: str) -> bool:
    encoding = getattr(stream, "encoding", None)
    if encoding is None:
        return True  # a stream of str that encodes nothing (io.StringIO)
    try:
        text.encode(encoding)
    except (UnicodeEncodeError, LookupError):
        return False
    return True


def live_line(args: argparse.Namespace) -> Line | None:
    """The progress line for a run of ``up`` or ``down``, or None when none is drawn."""
    if getattr(args, "quiet", False) or getattr(args, "verbose", False):
        return None
    stream = sys.stderr
    try:
        if not stream.isatty():
            return None
    except (AttributeError, ValueError):  # replaced by something without a terminal
        return None
    return Line(stream)


__all__ = ["Line", "live_line"]
