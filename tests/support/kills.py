"""SIGKILL at random moments: a seed that replays them, and where each kill landed.

The fault tests draw their kill moments from :func:`seeded`'s generator. The seed is
printed (``pytest -s``, ``make stress`` and a failure's captured output show it), and
``BOOTMIGRATE_SEED=N`` replays the same moments; the timing around them still varies from
run to run, so a replay lands the kills near, not exactly at, the same instructions.
"""

from __future__ import annotations

import os
import random
from dataclasses import dataclass
from pathlib import Path

#: The environment variable that replays a seed.
SEED_VARIABLE = "BOOTMIGRATE_SEED"

_JOURNAL_MAGIC = bytes.fromhex("d9d505f920a163d7")
_WAL_HEADER = 32
_FRAME_HEADER = 24


def seeded(what: str) -> random.Random:
    """A generator seeded from ``BOOTMIGRATE_SEED`` or, without it, a fresh seed; printed."""
    given = os.environ.get(SEED_VARIABLE, "").strip()
    seed = int(given) if given else random.SystemRandom().randrange(2**32)
    print(f"{what}: seed {seed} ({SEED_VARIABLE}={seed} replays these moments)")
    return random.Random(seed)


def half_written(db: Path) -> bool:
    """Whether a killed run left uncommitted pages of *db* on disk for recovery to undo.

    A hot rollback journal (``-journal`` with a valid header: rollback-journal mode
    deletes it at commit), or WAL frames after the WAL's last commit frame. Call it
    after the kill and before anything opens the database again (which recovers it).
    """
    journal = Path(f"{db}-journal")
    if journal.exists() and journal.read_bytes()[:8] == _JOURNAL_MAGIC:
        return True
    wal = Path(f"{db}-wal")
    return wal.exists() and _uncommitted_frames(wal.read_bytes()) > 0


def _uncommitted_frames(data: bytes) -> int:
    """How many frames of the WAL *data* follow its last commit frame."""
    if len(data) < _WAL_HEADER:
        return 0
    page_size = int.from_bytes(data[8:12], "big")
    if page_size == 1:  # the format's way of writing 65536
        page_size = 65536
    salts = data[16:24]
    frame = _FRAME_HEADER + page_size
    pending = 0
    for offset in range(_WAL_HEADER, len(data) - frame + 1, frame):
        header = data[offset : offset + _FRAME_HEADER]
        if header[8:16] != salts:
            break  # a frame left over from before the WAL was last restarted
        committed = int.from_bytes(header[4:8], "big") != 0
        pending = 0 if committed else pending + 1
    return pending


@dataclass
class Landings:
    """Where the kills of one test landed, relative to the migration."""

    #: Killed before the migration started (the worker waiting at its barrier).
    before: int = 0
    #: Killed after the migration started and before its commit took effect.
    during: int = 0
    #: Of those, how many left uncommitted pages on disk (see :func:`half_written`).
    half_written: int = 0
    #: Killed after the commit took effect (the process may have exited already).
    after: int = 0

    def add(self, *, started: bool, committed: bool, on_disk: bool) -> None:
        """Count one kill: was the migration released, did its commit take effect."""
        if not started:
            assert not committed and not on_disk, "a kill before the migration changed the file"
            self.before += 1
        elif committed:
            self.after += 1
        else:
            self.during += 1
            self.half_written += on_disk

    def check(self, *, every_class: bool) -> None:
        """At least one kill landed mid-migration, and with *every_class*, each class."""
        assert self.half_written >= 1, f"no kill landed in a half-written migration: {self}"
        if every_class:
            assert self.before >= 1 and self.during >= 1 and self.after >= 1, (
                f"the kills missed a class: {self}"
            )

    def __str__(self) -> str:
        return (
            f"before the migration {self.before}, during it {self.during} "
            f"({self.half_written} with uncommitted pages on disk), after its commit "
            f"{self.after}"
        )
