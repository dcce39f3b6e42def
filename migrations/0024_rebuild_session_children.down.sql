-- Back to the version-22 shapes of this history: no ON DELETE CASCADE, the legacy
-- column order. The tool_use_id values 0024 filled in stay: they are valid at 22.

CREATE TABLE conversation_events_old (
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
    approval_id TEXT,
    parent_tool_use_id TEXT
);
INSERT INTO conversation_events_old (
    id, session_id, claude_session_id, sequence, event_type, created_at, role, content,
    tool_id, tool_name, tool_input_json, tool_result_for_id, tool_result_content,
    is_completed, approval_status, approval_id, parent_tool_use_id
)
SELECT
    id, session_id, claude_session_id, sequence, event_type, created_at, role, content,
    tool_id, tool_name, tool_input_json, tool_result_for_id, tool_result_content,
    is_completed, approval_status, approval_id, parent_tool_use_id
FROM conversation_events
ORDER BY id;

CREATE TABLE approvals_old (
    id TEXT PRIMARY KEY,
    run_id TEXT NOT NULL,
    session_id TEXT NOT NULL REFERENCES sessions (id),
    status TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'denied')),
    created_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    responded_at DATETIME,
    tool_name TEXT NOT NULL,
    tool_input TEXT NOT NULL,
    comment TEXT,
    tool_use_id TEXT
);
INSERT INTO approvals_old (
    id, run_id, session_id, status, created_at, responded_at, tool_name, tool_input,
    comment, tool_use_id
)
SELECT
    id, run_id, session_id, status, created_at, responded_at, tool_name, tool_input,
    comment, tool_use_id
FROM approvals
ORDER BY rowid;

CREATE TABLE file_snapshots_old (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    tool_id TEXT NOT NULL,
    session_id TEXT NOT NULL REFERENCES sessions (id),
    file_path TEXT NOT NULL,
    content TEXT NOT NULL,
    created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP
);
INSERT INTO file_snapshots_old (id, tool_id, session_id, file_path, content, created_at)
SELECT id, tool_id, session_id, file_path, content, created_at
FROM file_snapshots
ORDER BY id;

CREATE TABLE mcp_servers_old (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    session_id TEXT NOT NULL REFERENCES sessions (id),
    name TEXT NOT NULL,
    command TEXT NOT NULL,
    args_json TEXT,
    env_json TEXT
);
INSERT INTO mcp_servers_old (id, session_id, name, command, args_json, env_json)
SELECT id, session_id, name, command, args_json, env_json
FROM mcp_servers
ORDER BY id;

CREATE TABLE raw_events_old (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    session_id TEXT NOT NULL REFERENCES sessions (id),
    event_json TEXT NOT NULL,
    created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP
);
INSERT INTO raw_events_old (id, session_id, event_json, created_at)
SELECT id, session_id, event_json, created_at
FROM raw_events
ORDER BY id;

CREATE TABLE user_settings_old (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    advanced_providers BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    updated_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    opt_in_telemetry BOOLEAN DEFAULT NULL
);
INSERT INTO user_settings_old (id, advanced_providers, created_at, updated_at, opt_in_telemetry)
SELECT id, advanced_providers, created_at, updated_at, opt_in_telemetry
FROM user_settings;

DELETE FROM sqlite_sequence
WHERE name IN (
    'conversation_events_old', 'file_snapshots_old', 'mcp_servers_old', 'raw_events_old'
);
INSERT INTO sqlite_sequence (name, seq)
SELECT name || '_old', seq
FROM sqlite_sequence
WHERE name IN ('conversation_events', 'file_snapshots', 'mcp_servers', 'raw_events');

DROP TABLE conversation_events;
DROP TABLE approvals;
DROP TABLE file_snapshots;
DROP TABLE mcp_servers;
DROP TABLE raw_events;
DROP TABLE user_settings;
ALTER TABLE conversation_events_old RENAME TO conversation_events;
ALTER TABLE approvals_old RENAME TO approvals;
ALTER TABLE file_snapshots_old RENAME TO file_snapshots;
ALTER TABLE mcp_servers_old RENAME TO mcp_servers;
ALTER TABLE raw_events_old RENAME TO raw_events;
ALTER TABLE user_settings_old RENAME TO user_settings;

CREATE INDEX idx_conversation_claude_session ON conversation_events (claude_session_id, sequence);
CREATE INDEX idx_conversation_session ON conversation_events (session_id, sequence);
CREATE INDEX idx_conversation_approval ON conversation_events (approval_id);
CREATE INDEX idx_conversation_pending_approvals ON conversation_events (approval_status)
    WHERE approval_status = 'pending';
CREATE INDEX idx_conversation_parent_tool_use_id ON conversation_events (parent_tool_use_id)
    WHERE parent_tool_use_id IS NOT NULL;
CREATE INDEX idx_approvals_pending ON approvals (status) WHERE status = 'pending';
CREATE INDEX idx_approvals_session ON approvals (session_id);
CREATE INDEX idx_approvals_run_id ON approvals (run_id);
CREATE INDEX idx_approvals_tool_use_id ON approvals (tool_use_id) WHERE tool_use_id IS NOT NULL;
CREATE INDEX idx_file_snapshots_session_path ON file_snapshots (session_id, file_path);
CREATE INDEX idx_file_snapshots_tool ON file_snapshots (tool_id);
CREATE INDEX idx_mcp_servers_session ON mcp_servers (session_id);
CREATE INDEX idx_raw_events_session ON raw_events (session_id, created_at);
