-- Legacy version 3: per-session permission settings. The tool lists hold JSON text.
-- (Version 2 was never used; a build that stamped 3 without running this is repaired
-- on adoption.)
ALTER TABLE sessions ADD COLUMN permission_prompt_tool TEXT;
ALTER TABLE sessions ADD COLUMN append_system_prompt TEXT;
ALTER TABLE sessions ADD COLUMN allowed_tools TEXT;
ALTER TABLE sessions ADD COLUMN disallowed_tools TEXT;
INSERT INTO schema_version (version, description) VALUES (3, 'session permission settings');
