ALTER TABLE sessions ADD COLUMN summary TEXT;
