-- Back to the version-22 sessions table of this history (the legacy column order).

CREATE TABLE sessions_old (
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
    duration_ms INTEGER,
    num_turns INTEGER,
    result_content TEXT,
    error_message TEXT,
    permission_prompt_tool TEXT,
    append_system_prompt TEXT,
    allowed_tools TEXT,
    disallowed_tools TEXT,
    auto_accept_edits BOOLEAN DEFAULT 0,
    archived BOOLEAN DEFAULT FALSE,
    title TEXT DEFAULT '',
    dangerously_skip_permissions BOOLEAN DEFAULT 0,
    dangerously_skip_permissions_expires_at TIMESTAMP,
    model_id TEXT,
    input_tokens INTEGER,
    output_tokens INTEGER,
    cache_creation_input_tokens INTEGER,
    cache_read_input_tokens INTEGER,
    effective_context_tokens INTEGER,
    proxy_enabled BOOLEAN DEFAULT 0,
    proxy_base_url TEXT,
    proxy_model_override TEXT,
    proxy_api_key TEXT DEFAULT '',
    additional_directories TEXT,
    editor_state TEXT,
    dangerously_skip_permissions_timeout_ms INTEGER
);

INSERT INTO sessions_old (
    id, run_id, claude_session_id, parent_session_id, query, summary, model, working_dir,
    max_turns, system_prompt, custom_instructions, status, created_at, last_activity_at,
    completed_at, cost_usd, duration_ms, num_turns, result_content, error_message,
    permission_prompt_tool, append_system_prompt, allowed_tools, disallowed_tools,
    auto_accept_edits, archived, title, dangerously_skip_permissions,
    dangerously_skip_permissions_expires_at, model_id, input_tokens, output_tokens,
    cache_creation_input_tokens, cache_read_input_tokens, effective_context_tokens,
    proxy_enabled, proxy_base_url, proxy_model_override, proxy_api_key,
    additional_directories, editor_state, dangerously_skip_permissions_timeout_ms
)
SELECT
    id, run_id, claude_session_id, parent_session_id, query, summary, model, working_dir,
    max_turns, system_prompt, custom_instructions, status, created_at, last_activity_at,
    completed_at, cost_usd, duration_ms, num_turns, result_content, error_message,
    permission_prompt_tool, append_system_prompt, allowed_tools, disallowed_tools,
    auto_accept_edits, archived, title, dangerously_skip_permissions,
    dangerously_skip_permissions_expires_at, model_id, input_tokens, output_tokens,
    cache_creation_input_tokens, cache_read_input_tokens, effective_context_tokens,
    proxy_enabled, proxy_base_url, proxy_model_override, proxy_api_key,
    additional_directories, editor_state, dangerously_skip_permissions_timeout_ms
FROM sessions
ORDER BY rowid;

DROP TABLE sessions;
ALTER TABLE sessions_old RENAME TO sessions;

CREATE INDEX idx_sessions_claude_session_id ON sessions (claude_session_id);
CREATE INDEX idx_sessions_status ON sessions (status);
CREATE INDEX idx_sessions_run_id ON sessions (run_id);
CREATE INDEX idx_sessions_parent_session_id ON sessions (parent_session_id);
CREATE INDEX idx_sessions_archived ON sessions (archived);
CREATE INDEX idx_sessions_title ON sessions (title);
CREATE INDEX idx_sessions_last_activity ON sessions (last_activity_at DESC);
