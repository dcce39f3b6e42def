-- Legacy version 12 (one of four features that all claimed 12 before being renumbered
-- 12 to 15 by hand).
ALTER TABLE sessions ADD COLUMN model_id TEXT;
INSERT INTO schema_version (version, description) VALUES (12, 'sessions.model_id');
