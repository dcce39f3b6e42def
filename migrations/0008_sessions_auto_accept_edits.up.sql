-- Legacy version 8.
ALTER TABLE sessions ADD COLUMN auto_accept_edits BOOLEAN DEFAULT 0;
INSERT INTO schema_version (version, description) VALUES (8, 'sessions.auto_accept_edits');
