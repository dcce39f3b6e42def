-- Legacy version 20.
ALTER TABLE sessions ADD COLUMN editor_state TEXT;
INSERT INTO schema_version (version, description) VALUES (20, 'sessions.editor_state');
