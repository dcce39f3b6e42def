-- Legacy version 13: token usage by kind replaces total_tokens. The legacy change only
-- removed total_tokens from the CREATE TABLE text, so databases created after it lack
-- the column while upgraded ones kept it (with values nothing reads any more). Here it
-- is dropped, and adoption accepts it as the one extra column a legacy file may have;
-- 0023's rebuild leaves it behind. (DROP COLUMN needs SQLite 3.35 or later.)
ALTER TABLE sessions ADD COLUMN input_tokens INTEGER;
ALTER TABLE sessions ADD COLUMN output_tokens INTEGER;
ALTER TABLE sessions ADD COLUMN cache_creation_input_tokens INTEGER;
ALTER TABLE sessions ADD COLUMN cache_read_input_tokens INTEGER;
ALTER TABLE sessions ADD COLUMN effective_context_tokens INTEGER;
ALTER TABLE sessions DROP COLUMN total_tokens;
INSERT INTO schema_version (version, description) VALUES (13, 'sessions token usage');
