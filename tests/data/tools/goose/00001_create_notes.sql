-- +goose Up
CREATE TABLE notes (
    id INTEGER PRIMARY KEY,
    body TEXT NOT NULL,
    updated_at TEXT
);

-- +goose Down
DROP TABLE notes;
