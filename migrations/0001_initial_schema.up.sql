-- Legacy version 1: the daemon's first schema, as its initSchema created it.
-- num_turns, result_content and summary were later added to this CREATE TABLE text
-- without a migration of their own; they are part of version 1 here, and adopting a
-- version-1-era database that lacks them adds them (see sessionstore/_legacy.py).
-- total_tokens is dropped by 0013.

CREATE TABLE schema_version (
    version INTEGER PRIMARY KEY,
    applied_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    description TEXT
);

CREATE TABLE sessions (
    id TEXT PRIMARY KEY,
    run_id TEXT NOT NULL UNIQUE,
    claude_session_id TEXT,
    parent_session_id TEXT,
    query TEXT NOT NULL,
    summary TEXT,
    model TEXT,
    working_dir TEXT,
    max_turns INTEGER,
    system_prompt TEXT,
    custom_instructions TEXT,
    status TEXT NOT NULL DEFAULT 'starting',
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    last_activity_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    completed_at TIMESTAMP,
    cost_usd REAL,
    total_tokens INTEGER,
    duration_ms INTEGER,
    num_turns INTEGER,
    result_content TEXT,
    error_message TEXT
);
CREATE INDEX idx_sessions_claude_session_id ON sessions (claude_session_id);
CREATE INDEX idx_sessions_status ON sessions (status);
CREATE INDEX idx_sessions_run_id ON sessions (run_id);

CREATE TABLE conversation_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    session_id TEXT NOT NULL REFERENCES sessions (id),
    claude_session_id TEXT,
    sequence INTEGER NOT NULL,
    event_type TEXT NOT NULL,
    created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    role TEXT,
    content TEXT,
    tool_id TEXT,
    tool_name TEXT,
    tool_input_json TEXT,
    tool_result_for_id TEXT,
    tool_result_content TEXT,
    is_completed BOOLEAN DEFAULT FALSE,
    approval_status TEXT,
    approval_id TEXT
);
CREATE INDEX idx_conversation_claude_session ON conversation_events (claude_session_id, sequence);
CREATE INDEX idx_conversation_session ON conversation_events (session_id, sequence);
CREATE INDEX idx_conversation_approval ON conversation_events (approval_id);
CREATE INDEX idx_conversation_pending_approvals ON conversation_events (approval_status)
    WHERE approval_status = 'pending';

CREATE TABLE mcp_servers (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    session_id TEXT NOT NULL REFERENCES sessions (id),
    name TEXT NOT NULL,
    command TEXT NOT NULL,
    args_json TEXT,
    env_json TEXT
);
CREATE INDEX idx_mcp_servers_session ON mcp_servers (session_id);

CREATE TABLE raw_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    session_id TEXT NOT NULL REFERENCES sessions (id),
    event_json TEXT NOT NULL,
    created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX idx_raw_events_session ON raw_events (session_id, created_at);

INSERT INTO schema_version (version, description) VALUES (1, 'initial schema');
