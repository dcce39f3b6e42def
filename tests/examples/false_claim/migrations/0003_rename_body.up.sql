-- bootmigrate: backward-compatible
-- A false claim: the release at version 2 still writes notes.body.
ALTER TABLE notes ADD COLUMN pinned INTEGER NOT NULL DEFAULT 0;
ALTER TABLE notes RENAME COLUMN body TO text;
