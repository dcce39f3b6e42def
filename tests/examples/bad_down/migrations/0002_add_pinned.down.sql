DROP INDEX notes_pinned;
