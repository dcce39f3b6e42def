-- The canonical schema of a database migrated from empty to version 2.
-- Written by `bootmigrate schema --write`; CI compares it with the migrations.
-- Not SQL to run: one line per column, key, index, trigger, view.
table sessions
  column id TEXT PRIMARY KEY
  column "query" TEXT NOT NULL
  column cost_usd REAL
  column summary TEXT
