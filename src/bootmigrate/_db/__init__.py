"""3. The SQLite boundary: connections, the error translator, the ledger, backups, file locks."""
