"""The ``bootmigrate`` logger, made on first use.

Importing :mod:`logging` costs milliseconds, and the no-op boot, which runs on every
app start, logs nothing anyone could see: a DEBUG record is only made when the app has
imported logging (without it, no handler can exist to receive the record).
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False

if TYPE_CHECKING:
    import logging


def logger() -> logging.Logger:
    """The ``bootmigrate`` logger, with a :class:`logging.NullHandler` attached.

    A library prints nothing: without the NullHandler, logging's last-resort handler
    would write WARNING and above to the stderr of an app that configured no logging.
    """
    global _logger
    if _logger is None:
        import logging

        _logger = logging.getLogger("bootmigrate")
        if not any(type(handler) is logging.NullHandler for handler in _logger.handlers):
            _logger.addHandler(logging.NullHandler())
    return _logger


_logger: logging.Logger | None = None


def debug(message: str, *args: object) -> None:
    """Log at DEBUG, if the app has imported :mod:`logging` at all."""
    if "logging" in sys.modules:
        logger().debug(message, *args)
