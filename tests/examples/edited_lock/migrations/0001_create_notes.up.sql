CREATE TABLE notes (
    id INTEGER PRIMARY KEY,
    title TEXT NOT NULL,
    body TEXT NOT NULL DEFAULT ''
);
-- Edited after the release: every database at version 1 in the wild lacks this index.
CREATE INDEX notes_title ON notes (title);
