-- Drops books.year: rebuilt with its own transaction and foreign keys off, which only
-- works outside diesel's transaction (metadata.toml).
PRAGMA foreign_keys = OFF;
BEGIN;
CREATE TABLE books_new (
    id INTEGER PRIMARY KEY NOT NULL,
    author_id INTEGER NOT NULL REFERENCES authors (id) ON DELETE CASCADE,
    title VARCHAR NOT NULL
);
INSERT INTO books_new (id, author_id, title) SELECT id, author_id, title FROM books;
DROP TABLE books;
ALTER TABLE books_new RENAME TO books;
CREATE INDEX books_author ON books (author_id);
COMMIT;
PRAGMA foreign_keys = ON;
