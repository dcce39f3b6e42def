-- The tables that hang off sessions, rebuilt like 0023 (create, copy, drop, rename,
-- re-index), for three reasons:
-- 1. One column order everywhere: the legacy builds put parent_tool_use_id,
--    tool_use_id and opt_in_telemetry in different places in fresh and upgraded files.
-- 2. ON DELETE CASCADE: the legacy foreign keys had no action, so deleting a session
--    with events failed on the one pooled connection that enforced foreign keys and
--    left orphans on the others. Now deleting a session deletes what belongs to it.
-- 3. approvals.tool_use_id: the legacy version-14 backfill could fail and still record
--    the version, so it is done again here for the approvals it missed (only NULLs are
--    filled; a value already there is kept).
-- AUTOINCREMENT tables keep their sqlite_sequence value (it can be above MAX(id) after
-- deletes), so ids of deleted rows are never handed out again.
-- Rows whose session no longer exists (legacy orphans) are copied as they are.

CREATE TABLE conversation_events_new (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
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
    parent_tool_use_id TEXT,
    is_completed BOOLEAN DEFAULT FALSE,
    approval_status TEXT,
    approval_id TEXT
);
INSERT INTO conversation_events_new (
    id, session_id, claude_session_id, sequence, event_type, created_at, role, content,
    tool_id, tool_name, tool_input_json, tool_result_for_id, tool_result_content,
    parent_tool_use_id, is_completed, approval_status, approval_id
)
SELECT
    id, session_id, claude_session_id, sequence, event_type, created_at, role, content,
    tool_id, tool_name, tool_input_json, tool_result_for_id, tool_result_content,
    parent_tool_use_id, is_completed, approval_status, approval_id
FROM conversation_events
ORDER BY id;

CREATE TABLE approvals_new (
    id TEXT PRIMARY KEY,
    run_id TEXT NOT NULL,
    session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    tool_use_id TEXT,
    tool_name TEXT NOT NULL,
    tool_input TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'denied')),
    comment TEXT,
    created_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    responded_at DATETIME
);
INSERT INTO approvals_new (
    id, run_id, session_id, tool_use_id, tool_name, tool_input, status, comment,
    created_at, responded_at
)
SELECT
    a.id, a.run_id, a.session_id,
    COALESCE(
        a.tool_use_id,
        (
            SELECT e.tool_id
            FROM conversation_events_new AS e
            WHERE e.approval_id = a.id AND e.tool_id IS NOT NULL
            ORDER BY e.id
            LIMIT 1
        )
    ),
    a.tool_name, a.tool_input, a.status, a.comment, a.created_at, a.responded_at
FROM approvals AS a
ORDER BY a.rowid;

CREATE TABLE file_snapshots_new (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    tool_id TEXT NOT NULL,
    session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    file_path TEXT NOT NULL,
    content TEXT NOT NULL,
    created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP
);
INSERT INTO file_snapshots_new (id, tool_id, session_id, file_path, content, created_at)
SELECT id, tool_id, session_id, file_path, content, created_at
FROM file_snapshots
ORDER BY id;

CREATE TABLE mcp_servers_new (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    command TEXT NOT NULL,
    args_json TEXT,
    env_json TEXT
);
INSERT INTO mcp_servers_new (id, session_id, name, command, args_json, env_json)
SELECT id, session_id, name, command, args_json, env_json
FROM mcp_servers
ORDER BY id;

CREATE TABLE raw_events_new (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    event_json TEXT NOT NULL,
    created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP
);
INSERT INTO raw_events_new (id, session_id, event_json, created_at)
SELECT id, session_id, event_json, created_at
FROM raw_events
ORDER BY id;

CREATE TABLE user_settings_new (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    advanced_providers BOOLEAN NOT NULL DEFAULT FALSE,
    opt_in_telemetry BOOLEAN DEFAULT NULL,
    created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    updated_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP
);
INSERT INTO user_settings_new (id, advanced_providers, opt_in_telemetry, created_at, updated_at)
SELECT id, advanced_providers, opt_in_telemetry, created_at, updated_at
FROM user_settings;
-- The legacy code created the row with the table; a file that lost it gets it back.
INSERT OR IGNORE INTO user_settings_new (id) VALUES (1);

-- Carry each AUTOINCREMENT counter over before DROP TABLE deletes it (RENAME then
-- renames the new counter's row along with its table).
DELETE FROM sqlite_sequence
WHERE name IN (
    'conversation_events_new', 'file_snapshots_new', 'mcp_servers_new', 'raw_events_new'
);
INSERT INTO sqlite_sequence (name, seq)
SELECT name || '_new', seq
FROM sqlite_sequence
WHERE name IN ('conversation_events', 'file_snapshots', 'mcp_servers', 'raw_events');

DROP TABLE conversation_events;
DROP TABLE approvals;
DROP TABLE file_snapshots;
DROP TABLE mcp_servers;
DROP TABLE raw_events;
DROP TABLE user_settings;
ALTER TABLE conversation_events_new RENAME TO conversation_events;
ALTER TABLE approvals_new RENAME TO approvals;
ALTER TABLE file_snapshots_new RENAME TO file_snapshots;
ALTER TABLE mcp_servers_new RENAME TO mcp_servers;
ALTER TABLE raw_events_new RENAME TO raw_events;
ALTER TABLE user_settings_new RENAME TO user_settings;

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
