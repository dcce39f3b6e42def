-- The canonical schema of a database migrated from empty to version 2.
-- Written by `bootmigrate schema --write`; CI compares it with the migrations.
-- Not SQL to run: one line per column, key, index, trigger, view.
table notes
  column id INTEGER PRIMARY KEY
  column title TEXT NOT NULL
  column body TEXT NOT NULL DEFAULT ''
  column author TEXT NOT NULL
