-- Your SQL goes here
CREATE TABLE books (
    id INTEGER PRIMARY KEY NOT NULL,
    author_id INTEGER NOT NULL REFERENCES authors (id),
    title VARCHAR NOT NULL,
    year INTEGER
);
