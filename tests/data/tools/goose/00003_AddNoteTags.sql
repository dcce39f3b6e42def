-- +goose NO TRANSACTION
-- VACUUM cannot run inside a transaction.

-- +goose Up
CREATE TABLE note_tags (
    note_id INTEGER NOT NULL REFERENCES notes (id),
    tag TEXT NOT NULL
);
CREATE INDEX note_tags_tag ON note_tags (tag);
VACUUM;

-- +goose Down
DROP TABLE note_tags;
