ALTER TABLE notes ADD COLUMN updated_at TEXT;
CREATE TRIGGER notes_touch AFTER UPDATE OF title, body ON notes
BEGIN
    UPDATE notes SET updated_at = 'now; not a statement end' WHERE id = NEW.id;
END;
