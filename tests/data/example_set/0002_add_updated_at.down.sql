DROP TRIGGER notes_touch;
ALTER TABLE notes DROP COLUMN updated_at;
