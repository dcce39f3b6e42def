-- The canonical schema of a database migrated from empty to version 3.
-- Written by `bootmigrate schema --write`; CI compares it with the migrations.
-- Not SQL to run: one line per column, key, index, trigger, view.
table notes
  column id INTEGER PRIMARY KEY
  column title TEXT NOT NULL
  column body TEXT NOT NULL DEFAULT ''
  column pinned INTEGER NOT NULL DEFAULT 0
table tags (WITHOUT ROWID)
  column note_id INTEGER PRIMARY KEY #1 NOT NULL
  column tag TEXT PRIMARY KEY #2 NOT NULL
  FOREIGN KEY (note_id) REFERENCES notes (id) ON DELETE CASCADE
index notes_pinned ON notes (id) WHERE pinned = 1
