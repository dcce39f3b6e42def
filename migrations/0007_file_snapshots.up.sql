-- Legacy version 7: a file's content as a tool saw it, for diffs.
CREATE TABLE file_snapshots (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    tool_id TEXT NOT NULL,
    session_id TEXT NOT NULL REFERENCES sessions (id),
    file_path TEXT NOT NULL,
    content TEXT NOT NULL,
    created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX idx_file_snapshots_session_path ON file_snapshots (session_id, file_path);
CREATE INDEX idx_file_snapshots_tool ON file_snapshots (tool_id);
INSERT INTO schema_version (version, description) VALUES (7, 'file snapshots');
