-- Legacy version 9.
ALTER TABLE sessions ADD COLUMN archived BOOLEAN DEFAULT FALSE;
CREATE INDEX idx_sessions_archived ON sessions (archived);
INSERT INTO schema_version (version, description) VALUES (9, 'sessions.archived');
