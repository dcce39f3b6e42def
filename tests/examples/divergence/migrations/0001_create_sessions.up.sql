CREATE TABLE sessions (id TEXT PRIMARY KEY, query TEXT NOT NULL, cost_usd REAL);
