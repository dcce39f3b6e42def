-- A tiny example set for `make run` and the CLI tests.
CREATE TABLE notes (
    id INTEGER PRIMARY KEY,
    title TEXT NOT NULL,
    body TEXT NOT NULL DEFAULT ''
);
CREATE INDEX notes_title ON notes (title);
