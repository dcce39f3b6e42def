"""sessionstore: the local session store of an agent daemon, migrated by bootmigrate.

::

    import sessionstore

    with sessionstore.open("~/.agentd/sessions.db") as store:
        session = store.create_session("fix the flaky test", title="Flaky test")
        store.search_sessions("flaky")

``open`` creates the file, migrates it (taking over a database the legacy daemon left
behind), and sets the connection's pragmas. The migrations ship inside the package as
``sessionstore.migrations``.
"""

from __future__ import annotations

from ._legacy import BASELINE, LAST_LEGACY_VERSION, MIGRATIONS
from ._models import (
    Approval,
    ConversationEvent,
    FileSnapshot,
    McpServer,
    RawEvent,
    Session,
    UserSettings,
)
from ._store import NotFound, Store, open

__all__ = [
    "BASELINE",
    "LAST_LEGACY_VERSION",
    "MIGRATIONS",
    "Approval",
    "ConversationEvent",
    "FileSnapshot",
    "McpServer",
    "NotFound",
    "RawEvent",
    "Session",
    "Store",
    "UserSettings",
    "open",
]
