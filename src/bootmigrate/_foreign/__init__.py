"""Other migration tools: their files and their version tables, read as they read them.

- :mod:`.layouts`: a tool's migration files -> bootmigrate's ``NNNN_name.up.sql`` /
  ``.down.sql`` files (pure: names and bytes in, names and text out);
- :mod:`.importing`: :func:`bootmigrate.import_migrations`, which reads a tool's folder,
  converts it with :mod:`.layouts` and writes a bootmigrate source directory;
- :mod:`.ledgers`: a tool's version table -> the versions it applied, for
  :meth:`bootmigrate.Baseline.from_tool`.

Each rule that decides what a file or a row means is transcribed from the tool's own
source or documentation, cited where it is used. Nothing here is on the boot's path.
"""

from __future__ import annotations

from .._errors import UsageError

#: The tools whose migrations can be imported and whose databases can be taken over.
TOOLS = ("golang-migrate", "goose", "dbmate", "sqlx", "diesel")


def check_tool(tool: object) -> str:
    """*tool* if it names a known tool; a :class:`UsageError` listing them otherwise."""
    if not isinstance(tool, str) or tool not in TOOLS:
        raise UsageError(f"unknown migration tool {tool!r}; the tools are " + ", ".join(TOOLS))
    return tool
