-- Legacy version 19. NULL means the user was not asked yet.
ALTER TABLE user_settings ADD COLUMN opt_in_telemetry BOOLEAN DEFAULT NULL;
INSERT INTO schema_version (version, description) VALUES (19, 'user_settings.opt_in_telemetry');
