-- Legacy version 16: the single settings row.
-- (Version 17 was never used by the final legacy code: 16 and 17 swapped meaning
-- between builds, and 18 repaired the result. Adoption sorts those databases out.)
CREATE TABLE user_settings (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    advanced_providers BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    updated_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP
);
INSERT INTO user_settings (id) VALUES (1);
INSERT INTO schema_version (version, description) VALUES (16, 'user settings');
