"""5. The canonical schema of a database: read, snapshot, diff."""
