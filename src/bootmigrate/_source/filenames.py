"""Parse migration file names. Pure: no I/O.

A migration file is ``NNNN_name.up.sql`` or ``NNNN_name.down.sql``; a test-data file
for the test kit is ``NNNN_name.fixture.sql``. Files that do not look like any of
these at all (``README.md``, ``__init__.py``, ``schema.sql``) are not migrations and
are ignored; files that look like one but break a rule raise :class:`InvalidFileName`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from .._errors import InvalidFileName

Kind = Literal["up", "down", "fixture"]

#: The highest version: ``PRAGMA user_version`` holds a signed 32-bit integer.
MAX_VERSION = 2**31 - 1

_VALID = re.compile(r"(?P<version>[0-9]{4,})_(?P<name>[a-z0-9_]+)\.(?P<kind>up|down|fixture)\.sql")
# What a migration-ish name is made of, loosely, to say what is wrong with it.
_LOOSE = re.compile(
    r"(?P<version>[0-9]+)(?P<sep>[^A-Za-z0-9]?)(?P<name>.*?)(?:\.(?P<kind>[A-Za-z]+))?\.(?P<ext>sql)",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class FileName:
    """The parts of a valid migration file name."""

    version: int
    name: str
    kind: Kind
    filename: str


def parse_filename(filename: str) -> FileName | None:
    """Parse *filename*; ``None`` if it is not a migration file at all.

    Raises :class:`InvalidFileName` when the name looks like a migration (it starts with
    a digit and ends in ``.sql``, or ends in ``.up.sql``/``.down.sql``) but breaks a rule.
    """
    if filename.startswith("."):
        return None  # hidden: .DS_Store, macOS "._0001_x.up.sql" twins, editor lock files
    match = _VALID.fullmatch(filename)
    if match:
        digits = match["version"].lstrip("0")
        # PRAGMA user_version, kept equal to the current version, is a signed 32-bit number.
        if len(digits) > len(str(MAX_VERSION)) or int(digits or "0") > MAX_VERSION:
            raise InvalidFileName(
                filename, f"the version must be at most {MAX_VERSION} (PRAGMA user_version)"
            )
        version = int(digits or "0")
        if version == 0:
            raise InvalidFileName(filename, "the version must be greater than 0")
        kind: Kind = match["kind"]  # type: ignore[assignment]
        return FileName(version, match["name"], kind, filename)
    lower = filename.lower()
    looks_like = (filename[:1].isdigit() and lower.endswith(".sql")) or lower.endswith(
        (".up.sql", ".down.sql", ".fixture.sql")
    )
    if not looks_like:
        return None
    reason, suggestion = _diagnose(filename)
    raise InvalidFileName(filename, reason, suggestion)


def _diagnose(filename: str) -> tuple[str, str | None]:
    """Say which rule *filename* breaks and, where it is clear, the name it should have."""
    loose = _LOOSE.fullmatch(filename)
    if not loose:
        return "it must start with a version number followed by '_'", None
    digits, sep, name, kind = loose["version"], loose["sep"], loose["name"], loose["kind"]
    fixed_name = re.sub(r"[^a-z0-9_]+", "_", name.lower()).strip("_")
    # No kind at all (0003_add.sql) is most likely an up file.
    fixed_kind = (kind or "up").lower()
    number = digits.lstrip("0")
    if len(number) > len(str(MAX_VERSION)) or int(number or "0") > MAX_VERSION:
        return f"the version must be at most {MAX_VERSION} (PRAGMA user_version)", None
    suggestion = None
    if fixed_name and fixed_kind in ("up", "down", "fixture"):
        suggestion = f"{int(number or '0'):04d}_{fixed_name}.{fixed_kind}.sql"
    if not number:
        return "the version must be greater than 0", None
    if len(digits) < 4:
        return "the version must have at least 4 digits", suggestion
    if sep != "_":
        return f"the version must be followed by '_', not {sep!r}", suggestion
    if kind is None:
        return "it must end in .up.sql or .down.sql", suggestion
    if kind.lower() not in ("up", "down", "fixture"):
        return "it must end in .up.sql or .down.sql", None
    if kind not in ("up", "down", "fixture") or loose["ext"] != "sql":
        return "the suffix must be lower case", suggestion
    if not name:
        return "the name after the version is empty", None
    return "the name may hold only lower-case letters, digits and '_'", suggestion
