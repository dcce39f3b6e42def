# bootmigrate: backward-compatible
"""Version 26: a SHA-256 of every file snapshot's content.

The app compares a file with its last snapshot by this digest instead of by the whole
content. SQLite has no SHA-256 function (Python's build does not include the sha3
extension, and the app cannot register one on every connection an old build opens), so
the rows already stored are hashed here, in Python, a batch at a time so that a store of
large snapshots is never read into memory at once. The app fills the column for new
snapshots (sessionstore._store.Store.add_file_snapshot); a row an older release writes
leaves it NULL, which the app reads as "not known", so the column is backward-compatible.
"""

from __future__ import annotations

import hashlib
import sqlite3

BATCH = 500


def digest(content: object) -> str:
    """The SHA-256 (hex) of a snapshot's content: its UTF-8 text, or its bytes as they are
    (an old build may have stored a BLOB)."""
    data = content if isinstance(content, bytes) else str(content).encode("utf-8")
    return hashlib.sha256(data).hexdigest()


def up(conn: sqlite3.Connection) -> None:
    conn.execute("ALTER TABLE file_snapshots ADD COLUMN content_sha256 TEXT")
    last = -1
    while True:
        rows = conn.execute(
            "SELECT id, content FROM file_snapshots WHERE id > ? ORDER BY id LIMIT ?",
            (last, BATCH),
        ).fetchall()
        if not rows:
            break
        conn.executemany(
            "UPDATE file_snapshots SET content_sha256 = ? WHERE id = ?",
            [(digest(content), snapshot_id) for snapshot_id, content in rows],
        )
        last = rows[-1][0]
