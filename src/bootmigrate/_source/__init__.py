"""1. Files to data: locate, parse and validate migration files (pure except locate)."""
