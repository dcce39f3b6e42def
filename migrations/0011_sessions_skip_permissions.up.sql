-- Legacy version 11.
ALTER TABLE sessions ADD COLUMN dangerously_skip_permissions BOOLEAN DEFAULT 0;
ALTER TABLE sessions ADD COLUMN dangerously_skip_permissions_expires_at TIMESTAMP;
INSERT INTO schema_version (version, description) VALUES (11, 'sessions.dangerously_skip_permissions');
