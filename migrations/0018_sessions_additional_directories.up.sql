-- Legacy version 18, the repair of the 16/17 swap: "create user_settings if missing,
-- add sessions.additional_directories if missing". In this history user_settings
-- always exists by now (0016), so only the column is added; databases that already
-- have it are adopted at 18 (see sessionstore/_legacy.py).
ALTER TABLE sessions ADD COLUMN additional_directories TEXT;
INSERT INTO schema_version (version, description) VALUES (18, 'repair: user_settings and sessions.additional_directories');
