-- Every legacy database reaches version 22 with its own sessions table: columns in
-- the order its builds appended them, total_tokens in some and not in others. This
-- rebuilds sessions in one canonical column order, the foreign-key-safe way
-- (https://sqlite.org/lang_altertable.html#otheralter: create, copy, drop, rename,
-- re-index). bootmigrate runs it in one transaction with foreign-key enforcement off,
-- so dropping the parent table neither deletes nor checks the child rows.
-- total_tokens, which legacy files upgraded past version 13 still have, is not copied:
-- the legacy code stopped using it at 13 (0013), where input/output/cache token counts
-- replaced it.
-- The index names are the legacy ones on purpose: an old build that opens this file runs
-- CREATE INDEX IF NOT EXISTS with these names, which must find them and do nothing.

CREATE TABLE sessions_new (
    id TEXT PRIMARY KEY,
    run_id TEXT NOT NULL UNIQUE,
    claude_session_id TEXT,
    parent_session_id TEXT,
    title TEXT DEFAULT '',
    query TEXT NOT NULL,
    summary TEXT,
    status TEXT NOT NULL DEFAULT 'starting',
    archived BOOLEAN DEFAULT FALSE,
    model TEXT,
    model_id TEXT,
    working_dir TEXT,
    additional_directories TEXT,
    max_turns INTEGER,
    system_prompt TEXT,
    append_system_prompt TEXT,
    custom_instructions TEXT,
    permission_prompt_tool TEXT,
    allowed_tools TEXT,
    disallowed_tools TEXT,
    auto_accept_edits BOOLEAN DEFAULT 0,
    dangerously_skip_permissions BOOLEAN DEFAULT 0,
    dangerously_skip_permissions_expires_at TIMESTAMP,
    dangerously_skip_permissions_timeout_ms INTEGER,
    proxy_enabled BOOLEAN DEFAULT 0,
    proxy_base_url TEXT,
    proxy_model_override TEXT,
    proxy_api_key TEXT DEFAULT '',
    editor_state TEXT,
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    last_activity_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    completed_at TIMESTAMP,
    num_turns INTEGER,
    duration_ms INTEGER,
    cost_usd REAL,
    input_tokens INTEGER,
    output_tokens INTEGER,
    cache_creation_input_tokens INTEGER,
    cache_read_input_tokens INTEGER,
    effective_context_tokens INTEGER,
    result_content TEXT,
    error_message TEXT
);

INSERT INTO sessions_new (
    id, run_id, claude_session_id, parent_session_id, title, query, summary, status,
    archived, model, model_id, working_dir, additional_directories, max_turns,
    system_prompt, append_system_prompt, custom_instructions, permission_prompt_tool,
    allowed_tools, disallowed_tools, auto_accept_edits, dangerously_skip_permissions,
    dangerously_skip_permissions_expires_at, dangerously_skip_permissions_timeout_ms,
    proxy_enabled, proxy_base_url, proxy_model_override, proxy_api_key, editor_state,
    created_at, last_activity_at, completed_at, num_turns, duration_ms, cost_usd,
    input_tokens, output_tokens, cache_creation_input_tokens, cache_read_input_tokens,
    effective_context_tokens, result_content, error_message
)
SELECT
    id, run_id, claude_session_id, parent_session_id, title, query, summary, status,
    archived, model, model_id, working_dir, additional_directories, max_turns,
    system_prompt, append_system_prompt, custom_instructions, permission_prompt_tool,
    allowed_tools, disallowed_tools, auto_accept_edits, dangerously_skip_permissions,
    dangerously_skip_permissions_expires_at, dangerously_skip_permissions_timeout_ms,
    proxy_enabled, proxy_base_url, proxy_model_override, proxy_api_key, editor_state,
    created_at, last_activity_at, completed_at, num_turns, duration_ms, cost_usd,
    input_tokens, output_tokens, cache_creation_input_tokens, cache_read_input_tokens,
    effective_context_tokens, result_content, error_message
FROM sessions
ORDER BY rowid;

DROP TABLE sessions;
ALTER TABLE sessions_new RENAME TO sessions;

CREATE INDEX idx_sessions_claude_session_id ON sessions (claude_session_id);
CREATE INDEX idx_sessions_status ON sessions (status);
-- Redundant with the UNIQUE constraint's index, kept so old builds find it (see above).
CREATE INDEX idx_sessions_run_id ON sessions (run_id);
CREATE INDEX idx_sessions_parent_session_id ON sessions (parent_session_id);
CREATE INDEX idx_sessions_archived ON sessions (archived);
CREATE INDEX idx_sessions_title ON sessions (title);
CREATE INDEX idx_sessions_last_activity ON sessions (last_activity_at DESC);
