-- bootmigrate: backward-compatible
-- A true claim: a new table and a nullable column.
CREATE TABLE tags (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
ALTER TABLE notes ADD COLUMN tag_id INTEGER REFERENCES tags (id);
