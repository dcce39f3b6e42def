-- The canonical schema of a database migrated from empty to version 3.
-- Written by `bootmigrate schema --write`; CI compares it with the migrations.
-- Not SQL to run: one line per column, key, index, trigger, view.
table notes
  column id INTEGER PRIMARY KEY
  column title TEXT NOT NULL
  column text TEXT
  column tag_id INTEGER
  column pinned INTEGER NOT NULL DEFAULT 0
  FOREIGN KEY (tag_id) REFERENCES tags (id)
table tags
  column id INTEGER PRIMARY KEY
  column name TEXT NOT NULL
  UNIQUE (name)
