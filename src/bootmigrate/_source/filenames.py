"""The file-name grammar of migrations, in one place: parse a name, compose one. Pure.

A migration file is ``NNNN_name.up.sql`` or ``NNNN_name.down.sql``, or a Python
migration ``NNNN_name.up.py`` / ``NNNN_name.down.py``; a test-data file for the test kit
is ``NNNN_name.fixture.sql`` (SQL only); a squashed history (``bootmigrate squash``) is
``NNNN_name.baseline.sql`` (SQL only). Files that do not look like any of
these at all (``README.md``, ``__init__.py``, ``schema.sql``) are not migrations and
are ignored; files that look like one but break a rule raise :class:`InvalidFileName`.

:func:`compose_filename` is on the boot's import path, so the regular expressions are
compiled on the first :func:`parse_filename`, not at import.
"""

from __future__ import annotations

from .._errors import InvalidFileName
from .._value import Value, _setattr

TYPE_CHECKING = False
if TYPE_CHECKING:
    import re
    from collections.abc import Iterable
    from typing import Literal

    Kind = Literal["up", "down", "fixture", "baseline"]
    Language = Literal["sql", "python"]

#: The highest version: what SQLite's INTEGER (the ledger's primary key) holds, so that
#: timestamp versions (``20240313170000_add_tags.up.sql``) work as other tools write them.
MAX_VERSION = 2**63 - 1
_MAX_DIGITS = len(str(MAX_VERSION))
#: The kinds of file, as they appear in the name.
KINDS = ("up", "down", "fixture", "baseline")
#: The file extension of each language a migration may be written in.
EXTENSIONS = {"sql": "sql", "python": "py"}

# What a misnamed migration file ends in, whatever its version looks like.
_SUFFIXES = tuple(f".{kind}.{ext}" for kind in KINDS for ext in ("sql", "py"))

_patterns: tuple[re.Pattern[str], re.Pattern[str]] | None = None


def _compiled() -> tuple[re.Pattern[str], re.Pattern[str]]:
    global _patterns
    if _patterns is None:
        import re

        valid = re.compile(
            r"(?P<version>[0-9]{4,})_(?P<name>[a-z0-9_]+)\.(?P<kind>up|down|fixture|baseline)\.(?P<ext>sql|py)"
        )
        # What a migration-ish name is made of, loosely, to say what is wrong with it.
        loose = re.compile(
            r"(?P<version>[0-9]+)(?P<sep>[^A-Za-z0-9]?)(?P<name>.*?)"
            r"(?:\.(?P<kind>[A-Za-z]+))?\.(?P<ext>sql|py)",
            re.IGNORECASE,
        )
        _patterns = (valid, loose)
    return _patterns


def format_version(version: int) -> str:
    """A version as file names and lock files spell it: at least four digits."""
    return f"{version:04d}"


def label(version: int, name: str) -> str:
    """``0003_add_tags``: how file names, messages and reports name a migration."""
    return f"{version:04d}_{name}"


_FILENAME = "{}_{}.{}.sql"


def compose_filename(version: int | str, name: str, kind: str, language: str = "sql") -> str:
    """``0003_add_tags.up.sql`` (*language* ``"python"``: ``0003_add_tags.up.py``);
    *version* is a number, or its digits as a lock file has them."""
    digits = version if isinstance(version, str) else format_version(version)
    return f"{digits}_{name}.{kind}.{EXTENSIONS[language]}"


def python_twin(filename: str) -> str:
    """The Python file name of the SQL migration file name *filename*
    (``0003_x.up.sql`` -> ``0003_x.up.py``): a version's up (or down) file is one or
    the other, and the lock file does not say which."""
    return filename[: -len("sql")] + "py"


def language_of(filename: str) -> Language:
    """``"python"`` for a valid migration file name ending in ``.py``, else ``"sql"``."""
    return "python" if filename.endswith(".py") else "sql"


def compose_filenames(
    versions: Iterable[str], names: Iterable[str], kinds: Iterable[str]
) -> set[str]:
    """:func:`compose_filename` of many, versions already spelled (the boot: a thousand
    names in one C-speed pass)."""
    return set(map(_FILENAME.format, versions, names, kinds))


class FileName(Value):
    """The parts of a valid migration file name."""

    __slots__ = ("filename", "kind", "name", "version")
    version: int
    name: str
    kind: Kind
    filename: str

    @property
    def language(self) -> Language:
        """``"sql"`` or ``"python"`` (an ``.up.py`` / ``.down.py`` file)."""
        return language_of(self.filename)

    def __init__(self, version: int, name: str, kind: Kind, filename: str) -> None:
        # One line per field rather than Value._init: every file of a source is parsed.
        _setattr(self, "version", version)
        _setattr(self, "name", name)
        _setattr(self, "kind", kind)
        _setattr(self, "filename", filename)


def parse_filename(filename: str) -> FileName | None:
    """Parse *filename*; ``None`` if it is not a migration file at all.

    Raises :class:`InvalidFileName` when the name looks like a migration (it starts with
    a digit and ends in ``.sql`` or ``.py``, or ends in ``.up.sql``/``.down.sql``/
    ``.up.py``/``.down.py``) but breaks a rule.
    """
    if filename.startswith("."):
        return None  # hidden: .DS_Store, macOS "._0001_x.up.sql" twins, editor lock files
    stripped = filename.strip()
    if stripped != filename and (
        stripped[:1].isdigit() or stripped.lower().endswith((".sql", ".up.py", ".down.py"))
    ):
        # Invisible at a glance in a listing; a file that would be skipped silently.
        try:
            fixed = parse_filename(stripped) is not None
        except InvalidFileName:
            fixed = False  # suggest only a name that is valid itself
        raise InvalidFileName(
            filename, "it begins or ends with whitespace", stripped if fixed else None
        )
    match = (_patterns or _compiled())[0].fullmatch(filename)
    if match:
        digits = match["version"].lstrip("0")
        # The ledger's version is a signed 64-bit integer. The length first: int() of
        # thousands of digits is slow, and refused on 3.11+.
        version = int(digits or "0") if len(digits) <= _MAX_DIGITS else MAX_VERSION + 1
        if version > MAX_VERSION:
            raise InvalidFileName(
                filename, f"the version must be at most {MAX_VERSION} (a signed 64-bit integer)"
            )
        if version == 0:
            raise InvalidFileName(filename, "the version must be greater than 0")
        kind: Kind = match["kind"]  # type: ignore[assignment]
        if kind == "fixture" and match["ext"] == "py":
            raise InvalidFileName(
                filename,
                "a fixture file holds SQL rows, so it ends in .fixture.sql",
                filename[: -len("py")] + "sql",
            )
        if kind == "baseline" and match["ext"] == "py":
            raise InvalidFileName(
                filename,
                "a baseline is SQL that `bootmigrate squash` writes, so it ends in .baseline.sql",
                filename[: -len("py")] + "sql",
            )
        return FileName(version, match["name"], kind, filename)
    lower = filename.lower()
    looks_like = (filename[:1].isdigit() and lower.endswith((".sql", ".py"))) or lower.endswith(
        _SUFFIXES
    )
    if not looks_like:
        return None
    reason, suggestion = _diagnose(filename)
    raise InvalidFileName(filename, reason, suggestion)


def _diagnose(filename: str) -> tuple[str, str | None]:
    """Say which rule *filename* breaks and, where it is clear, the name it should have."""
    import re

    loose = _compiled()[1].fullmatch(filename)
    if not loose:
        return "it must start with a version number followed by '_'", None
    digits, sep, name, kind = loose["version"], loose["sep"], loose["name"], loose["kind"]
    python = loose["ext"].lower() == "py"
    fixed_name = re.sub(r"[^a-z0-9_]+", "_", name.lower()).strip("_")
    # No kind at all (0003_add.sql) is most likely an up file.
    fixed_kind = (kind or "up").lower()
    number = digits.lstrip("0")
    if len(number) > len(str(MAX_VERSION)) or int(number or "0") > MAX_VERSION:
        return f"the version must be at most {MAX_VERSION} (a signed 64-bit integer)", None
    suggestion = None
    if fixed_name and fixed_kind in KINDS:
        language = "python" if python and fixed_kind in ("up", "down") else "sql"
        suggestion = compose_filename(int(number or "0"), fixed_name, fixed_kind, language)
    if not number:
        return "the version must be greater than 0", None
    if len(digits) < 4:
        return "the version must have at least 4 digits", suggestion
    if sep != "_":
        return f"the version must be followed by '_', not {sep!r}", suggestion
    ends = "it must end in .up.py or .down.py" if python else "it must end in .up.sql or .down.sql"
    if kind is None:
        return ends, suggestion
    if kind.lower() not in KINDS:
        return ends, None
    if kind not in KINDS or loose["ext"] not in ("sql", "py"):
        return "the suffix must be lower case", suggestion
    if not name:
        return "the name after the version is empty", None
    return "the name may hold only lower-case letters, digits and '_'", suggestion
