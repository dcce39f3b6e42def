-- SQLite cannot add a UNIQUE constraint to a column, so users is rebuilt, with foreign
-- key enforcement off so that dropping the old table does not touch posts.
PRAGMA foreign_keys = OFF;

BEGIN;
CREATE TABLE users_new (
    id INTEGER PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    name TEXT
);
INSERT INTO users_new (id, email, name) SELECT id, email, name FROM users;
DROP TABLE users;
ALTER TABLE users_new RENAME TO users;
COMMIT;

PRAGMA foreign_keys = ON;
