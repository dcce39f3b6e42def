-- Legacy version 13. The legacy change also removed total_tokens from the CREATE TABLE
-- text, so databases created after it lack the column while upgraded ones keep it;
-- 0023 drops it everywhere.
ALTER TABLE sessions ADD COLUMN input_tokens INTEGER;
ALTER TABLE sessions ADD COLUMN output_tokens INTEGER;
ALTER TABLE sessions ADD COLUMN cache_creation_input_tokens INTEGER;
ALTER TABLE sessions ADD COLUMN cache_read_input_tokens INTEGER;
ALTER TABLE sessions ADD COLUMN effective_context_tokens INTEGER;
INSERT INTO schema_version (version, description) VALUES (13, 'sessions token usage');
