-- Legacy version 22, the last one the legacy code wrote.
CREATE INDEX idx_sessions_title ON sessions (title);
CREATE INDEX idx_sessions_last_activity ON sessions (last_activity_at DESC);
INSERT INTO schema_version (version, description) VALUES (22, 'indexes on sessions title and last activity');
