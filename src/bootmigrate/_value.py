"""Immutable value objects for the types the no-op boot touches.

The boot runs on every start of the app, and its whole budget is a few milliseconds
over a raw ``sqlite3`` query. :mod:`dataclasses` alone costs about 10 ms to import (it
imports :mod:`inspect`) and each dataclass about 0.3 ms to build (BENCHMARKS.md has the
profile), so the few types on that path (:class:`~bootmigrate.Report`, its steps, the
ledger's rows, the lock file's entries) are plain classes with ``__slots__`` on this
base, which gives them what a frozen dataclass would: equality, hashing, a ``repr``
and no assignment after ``__init__``. Everything off the boot path is a dataclass.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


#: How an ``__init__`` assigns a field of a frozen record.
_setattr = object.__setattr__


class Value:
    """A frozen record: its fields are its annotated names, in the order they are
    declared (and its ``__slots__``), and ``__init__`` takes them in that order."""

    __slots__ = ()
    _field_names: tuple[str, ...] = ()

    def __init_subclass__(cls) -> None:
        super().__init_subclass__()
        # The class's own annotations, in order (strings: `from __future__ import
        # annotations`); inspect.get_annotations would cost the boot its import.
        cls._field_names = tuple(cls.__dict__.get("__annotations__", {}))  # noqa: RUF063

    def _init(self, *values: object) -> None:
        """Assign the fields, in their order (``__init__`` calls it once)."""
        for name, value in zip(self._field_names, values):
            _setattr(self, name, value)

    def _fields(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in self._field_names)

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        assert isinstance(other, Value)
        return self._fields() == other._fields()

    def __hash__(self) -> int:
        return hash((type(self).__qualname__, self._fields()))

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._field_names)
        return f"{type(self).__qualname__}({shown})"

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"{type(self).__qualname__} is immutable: cannot set {name!r}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"{type(self).__qualname__} is immutable: cannot delete {name!r}")

    def __reduce__(self) -> tuple[Any, ...]:
        # Pickling (multiprocessing, a cache) rebuilds it through __init__.
        return (type(self), self._fields())
