-- +goose Up
ALTER TABLE notes ADD COLUMN pinned INTEGER NOT NULL DEFAULT 0;

-- +goose Down
-- No way back: the column is kept.
