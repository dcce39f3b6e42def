-- Legacy version 15: per-session model proxy. proxy_api_key is plaintext, as it was.
ALTER TABLE sessions ADD COLUMN proxy_enabled BOOLEAN DEFAULT 0;
ALTER TABLE sessions ADD COLUMN proxy_base_url TEXT;
ALTER TABLE sessions ADD COLUMN proxy_model_override TEXT;
ALTER TABLE sessions ADD COLUMN proxy_api_key TEXT DEFAULT '';
INSERT INTO schema_version (version, description) VALUES (15, 'sessions proxy settings');
