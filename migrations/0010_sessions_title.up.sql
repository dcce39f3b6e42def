-- Legacy version 10.
ALTER TABLE sessions ADD COLUMN title TEXT DEFAULT '';
INSERT INTO schema_version (version, description) VALUES (10, 'sessions.title');
