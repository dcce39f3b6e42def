-- Legacy version 21.
ALTER TABLE sessions ADD COLUMN dangerously_skip_permissions_timeout_ms INTEGER;
INSERT INTO schema_version (version, description) VALUES (21, 'sessions.dangerously_skip_permissions_timeout_ms');
