-- Legacy version 4: tool-use approvals. tool_input holds JSON text.
CREATE TABLE approvals (
    id TEXT PRIMARY KEY,
    run_id TEXT NOT NULL,
    session_id TEXT NOT NULL REFERENCES sessions (id),
    status TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'denied')),
    created_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    responded_at DATETIME,
    tool_name TEXT NOT NULL,
    tool_input TEXT NOT NULL,
    comment TEXT
);
CREATE INDEX idx_approvals_pending ON approvals (status) WHERE status = 'pending';
CREATE INDEX idx_approvals_session ON approvals (session_id);
CREATE INDEX idx_approvals_run_id ON approvals (run_id);
INSERT INTO schema_version (version, description) VALUES (4, 'approvals');
