"""5. The canonical schema of a database: tokens, model, read, snapshot.

- :mod:`.tokens`: the SQL tokenizer, ``normalize_sql``, ``quote_name`` (pure);
- :mod:`.model`: ``Schema`` and its parts, ``schema_diff`` (pure);
- :mod:`.read`: ``canonical_schema``, a database's catalogue read into a ``Schema``;
- :mod:`.snapshot`: ``schema.sql`` and ``schema_at`` (the schema a version should have).

Nothing is imported here: importers name the module they need. Only ``snapshot`` imports
the runner, and the pure parts (``tokens``, ``model``) import neither ``sqlite3`` nor
another layer, so they are tested without a database (tests/test_schema.py checks both).
"""
