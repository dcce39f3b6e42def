-- Legacy version 5: find a session's children.
CREATE INDEX idx_sessions_parent_session_id ON sessions (parent_session_id);
INSERT INTO schema_version (version, description) VALUES (5, 'index on parent_session_id');
