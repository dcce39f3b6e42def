-- Add up migration script here
CREATE TABLE items (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL
);
