"""Python migrations: the text of an ``NNNN_name.up.py`` (or ``.down.py``) file -> its
checked function.

A Python migration is read from its text, like a SQL file, from whatever source holds it
(a directory, a package in a wheel or a zip import): it is compiled with
``compile(text, location, "exec")`` and executed into a fresh namespace, never imported
as a module of the migrations folder (which need not be a package, and whose modules
would otherwise stay cached in :data:`sys.modules` across runs). *location* names the file
as its user knows it (``/path/to/migrations/0026_x.up.py`` or
``myapp:migrations/0026_x.up.py``), and the text is registered with :mod:`linecache`
under that name, so a traceback shows the file's lines, from a wheel too.

Everything a file can get wrong before it runs is found when the set is loaded, as a
:class:`InvalidPythonMigration` naming the file and line: a syntax error, an exception
at the top level (an import that fails), no callable ``up`` (or ``down``), a function
that cannot take the one argument, the connection.

Directives are the file's leading ``#`` comment lines (``# bootmigrate: no-transaction``),
read with :mod:`tokenize` so that the same words inside a string are data.
"""

from __future__ import annotations

import builtins
import sys

from .._errors import DirectiveError, InvalidPythonMigration

TYPE_CHECKING = False
if TYPE_CHECKING:
    import sqlite3
    from collections.abc import Callable
    from types import CodeType, FrameType, TracebackType

    Function = Callable[[sqlite3.Connection], object]


def function_name(filename: str) -> str:
    """``up`` for an ``.up.py`` file, ``down`` for a ``.down.py`` file."""
    return "down" if filename.endswith(".down.py") else "up"


def compile_text(text: str, filename: str, location: str) -> CodeType:
    """The code of a Python migration's text, its lines registered with :mod:`linecache`
    under *location*; :class:`InvalidPythonMigration` naming the line of a syntax error."""
    import linecache

    try:
        code = compile(text, location, "exec", dont_inherit=True)
    except SyntaxError as exc:  # IndentationError and TabError are SyntaxErrors
        raise InvalidPythonMigration(
            filename,
            exc.lineno,
            f"{type(exc).__name__}: {exc.msg}",
            "fix the Python syntax; the file must define "
            f"{function_name(filename)}(conn) and may import what it needs",
        ) from exc
    except ValueError as exc:  # pragma: no cover - decode() already refuses NUL
        raise InvalidPythonMigration(filename, None, str(exc), "save it as text") from exc
    # mtime None: linecache.checkcache() keeps the entry (the file may be in a zip).
    linecache.cache[location] = (len(text), None, text.splitlines(keepends=True), location)
    return code


def function(code: CodeType, filename: str) -> Function:
    """Run the file's top level in a fresh namespace and return its ``up`` (or ``down``)
    function; :class:`InvalidPythonMigration` when the top level raises or the function
    is missing or not callable with one argument."""
    name = function_name(filename)
    namespace: dict[str, object] = {
        "__name__": filename[: -len(".py")],
        "__file__": code.co_filename,
        "__builtins__": builtins,
    }
    try:
        exec(code, namespace)
    except Exception as exc:
        raise InvalidPythonMigration(
            filename,
            line_in(exc.__traceback__, code.co_filename),
            f"loading the file raised {describe(exc)}",
            "install the module it imports, or import it inside the function"
            if isinstance(exc, ImportError)
            else "keep the top level of a migration to imports and definitions; the work "
            f"goes in {name}(conn)",
        ) from exc
    found = namespace.get(name)
    if found is None or not callable(found):
        raise InvalidPythonMigration(
            filename,
            None,
            f"it defines no function {name}(conn)"
            if found is None
            else f"{name} is {type(found).__name__}, not a function",
            f"define 'def {name}(conn: sqlite3.Connection) -> None:' at its top level",
        )
    import inspect

    line = getattr(getattr(found, "__code__", None), "co_firstlineno", None)
    if inspect.iscoroutinefunction(found) or inspect.isgeneratorfunction(found):
        raise InvalidPythonMigration(
            filename,
            line,
            f"{name}() is {'async' if inspect.iscoroutinefunction(found) else 'a generator'}"
            ", so calling it would run nothing",
            f"make {name} a plain function (def, no yield)",
        )
    try:
        inspect.signature(found).bind(None)
    except TypeError:
        raise InvalidPythonMigration(
            filename,
            line,
            f"{name}() cannot be called with one argument, the connection",
            f"define it as 'def {name}(conn):'",
        ) from None
    except ValueError:  # pragma: no cover - a builtin without a signature: let it run
        pass
    return found


def line_in(traceback: TracebackType | None, location: str) -> int | None:
    """The line of the innermost frame of *traceback* that runs the file *location*."""
    line = None
    while traceback is not None:
        if traceback.tb_frame.f_code.co_filename == location:
            line = traceback.tb_lineno
        traceback = traceback.tb_next
    return line


def calling_line(location: str) -> int | None:
    """The line of the innermost frame of the current stack that runs the file
    *location* (where a migration called what is being refused)."""
    frame: FrameType | None = sys._getframe(1)
    while frame is not None:
        if frame.f_code.co_filename == location:
            return frame.f_lineno
        frame = frame.f_back
    return None


def describe(exc: BaseException) -> str:
    """``ValueError: bad row``: an exception as a message names it."""
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def directives(text: str, filename: str) -> frozenset[str]:
    """The ``# bootmigrate: ...`` directives on the leading comment lines of a Python
    migration (before its first statement or docstring); one further down, or an
    unknown one, is a :class:`DirectiveError` naming the line, as in a SQL file."""
    if "bootmigrate" not in text.lower():
        return frozenset()
    import io
    import re
    import tokenize

    from .text import directive_words

    line_pattern = re.compile(r"#[ \t]*bootmigrate[ \t]*:(.*)", re.IGNORECASE)
    quiet = (tokenize.NL, tokenize.NEWLINE, tokenize.ENCODING, tokenize.ENDMARKER)
    header = True
    found: set[str] = set()
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type != tokenize.COMMENT:
                header = header and token.type in quiet
                continue
            match = line_pattern.match(token.string)
            if match is None:
                continue
            line = token.start[0]
            if not header:
                raise DirectiveError(
                    filename,
                    line,
                    "a '# bootmigrate:' directive must be on the leading comment lines, "
                    "before the first statement or docstring; move it to the top of the file",
                )
            found |= directive_words(match.group(1), filename, line)
    except (tokenize.TokenError, SyntaxError):  # pragma: no cover - compiled first
        pass
    return frozenset(found)


__all__ = [
    "calling_line",
    "compile_text",
    "describe",
    "directives",
    "function",
    "function_name",
    "line_in",
]
