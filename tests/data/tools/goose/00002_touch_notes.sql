-- +goose Up
-- The trigger's body has ';' inside, so goose needs it marked as one statement.
-- +goose StatementBegin
CREATE TRIGGER notes_touch AFTER UPDATE OF body ON notes
BEGIN
    UPDATE notes SET updated_at = datetime('now') WHERE id = NEW.id;
END;
-- +goose StatementEnd
CREATE INDEX notes_updated ON notes (updated_at);

-- +goose Down
DROP INDEX notes_updated;
DROP TRIGGER notes_touch;
