-- The canonical schema of a database migrated from empty to version 26.
-- Written by `bootmigrate schema --write`; CI compares it with the migrations.
-- Not SQL to run: one line per column, key, index, trigger, view.
table approvals
  column id TEXT PRIMARY KEY
  column run_id TEXT NOT NULL
  column session_id TEXT NOT NULL
  column tool_use_id TEXT
  column tool_name TEXT NOT NULL
  column tool_input TEXT NOT NULL
  column status TEXT NOT NULL
  column comment TEXT
  column created_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
  column responded_at DATETIME
  FOREIGN KEY (session_id) REFERENCES sessions (id) ON DELETE CASCADE
  CHECK (status IN ('pending', 'approved', 'denied'))
table conversation_events (AUTOINCREMENT)
  column id INTEGER PRIMARY KEY
  column session_id TEXT NOT NULL
  column claude_session_id TEXT
  column sequence INTEGER NOT NULL
  column event_type TEXT NOT NULL
  column created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP
  column role TEXT
  column content TEXT
  column tool_id TEXT
  column tool_name TEXT
  column tool_input_json TEXT
  column tool_result_for_id TEXT
  column tool_result_content TEXT
  column parent_tool_use_id TEXT
  column is_completed BOOLEAN DEFAULT FALSE
  column approval_status TEXT
  column approval_id TEXT
  FOREIGN KEY (session_id) REFERENCES sessions (id) ON DELETE CASCADE
table file_snapshots (AUTOINCREMENT)
  column id INTEGER PRIMARY KEY
  column tool_id TEXT NOT NULL
  column session_id TEXT NOT NULL
  column file_path TEXT NOT NULL
  column content TEXT NOT NULL
  column created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP
  column content_sha256 TEXT
  FOREIGN KEY (session_id) REFERENCES sessions (id) ON DELETE CASCADE
table mcp_servers (AUTOINCREMENT)
  column id INTEGER PRIMARY KEY
  column session_id TEXT NOT NULL
  column name TEXT NOT NULL
  column command TEXT NOT NULL
  column args_json TEXT
  column env_json TEXT
  FOREIGN KEY (session_id) REFERENCES sessions (id) ON DELETE CASCADE
table raw_events (AUTOINCREMENT)
  column id INTEGER PRIMARY KEY
  column session_id TEXT NOT NULL
  column event_json TEXT NOT NULL
  column created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP
  FOREIGN KEY (session_id) REFERENCES sessions (id) ON DELETE CASCADE
table schema_version
  column version INTEGER PRIMARY KEY
  column applied_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
  column description TEXT
table sessions
  column id TEXT PRIMARY KEY
  column run_id TEXT NOT NULL
  column claude_session_id TEXT
  column parent_session_id TEXT
  column title TEXT DEFAULT ''
  column "query" TEXT NOT NULL
  column summary TEXT
  column status TEXT NOT NULL DEFAULT 'starting'
  column archived BOOLEAN DEFAULT FALSE
  column model TEXT
  column model_id TEXT
  column working_dir TEXT
  column additional_directories TEXT
  column max_turns INTEGER
  column system_prompt TEXT
  column append_system_prompt TEXT
  column custom_instructions TEXT
  column permission_prompt_tool TEXT
  column allowed_tools TEXT
  column disallowed_tools TEXT
  column auto_accept_edits BOOLEAN DEFAULT 0
  column dangerously_skip_permissions BOOLEAN DEFAULT 0
  column dangerously_skip_permissions_expires_at TIMESTAMP
  column dangerously_skip_permissions_timeout_ms INTEGER
  column proxy_enabled BOOLEAN DEFAULT 0
  column proxy_base_url TEXT
  column proxy_model_override TEXT
  column proxy_api_key TEXT DEFAULT ''
  column editor_state TEXT
  column created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
  column last_activity_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
  column completed_at TIMESTAMP
  column num_turns INTEGER
  column duration_ms INTEGER
  column cost_usd REAL
  column input_tokens INTEGER
  column output_tokens INTEGER
  column cache_creation_input_tokens INTEGER
  column cache_read_input_tokens INTEGER
  column effective_context_tokens INTEGER
  column result_content TEXT
  column error_message TEXT
  UNIQUE (run_id)
table user_settings
  column id INTEGER PRIMARY KEY
  column advanced_providers BOOLEAN NOT NULL DEFAULT FALSE
  column opt_in_telemetry BOOLEAN DEFAULT NULL
  column created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP
  column updated_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP
  CHECK (id = 1)
index idx_approvals_pending ON approvals (status) WHERE status = 'pending'
index idx_approvals_run_id ON approvals (run_id)
index idx_approvals_session ON approvals (session_id)
index idx_approvals_tool_use_id ON approvals (tool_use_id) WHERE tool_use_id IS NOT NULL
index idx_conversation_approval ON conversation_events (approval_id)
index idx_conversation_claude_session ON conversation_events (claude_session_id, sequence)
index idx_conversation_parent_tool_use_id ON conversation_events (parent_tool_use_id) WHERE parent_tool_use_id IS NOT NULL
index idx_conversation_pending_approvals ON conversation_events (approval_status) WHERE approval_status = 'pending'
index idx_conversation_session ON conversation_events (session_id, sequence)
index idx_file_snapshots_session_path ON file_snapshots (session_id, file_path)
index idx_file_snapshots_tool ON file_snapshots (tool_id)
index idx_mcp_servers_session ON mcp_servers (session_id)
index idx_raw_events_session ON raw_events (session_id, created_at)
index idx_sessions_archived ON sessions (archived)
index idx_sessions_claude_session_id ON sessions (claude_session_id)
index idx_sessions_last_activity ON sessions (last_activity_at DESC)
index idx_sessions_parent_session_id ON sessions (parent_session_id)
index idx_sessions_run_id ON sessions (run_id)
index idx_sessions_status ON sessions (status)
index idx_sessions_title ON sessions (title)
virtual table sessions_search: CREATE VIRTUAL TABLE sessions_search USING fts5(session_id UNINDEXED, title, QUERY, tokenize = 'unicode61 remove_diacritics 2')
trigger sessions_search_delete ON sessions: CREATE TRIGGER sessions_search_delete AFTER DELETE ON sessions BEGIN DELETE FROM sessions_search WHERE session_id = OLD.id; END
trigger sessions_search_insert ON sessions: CREATE TRIGGER sessions_search_insert AFTER INSERT ON sessions BEGIN INSERT INTO sessions_search(session_id, title, QUERY) VALUES (NEW.id, NEW.title, NEW.QUERY); END
trigger sessions_search_update ON sessions: CREATE TRIGGER sessions_search_update AFTER UPDATE OF id, title, QUERY ON sessions BEGIN DELETE FROM sessions_search WHERE session_id = OLD.id; INSERT INTO sessions_search(session_id, title, QUERY) VALUES (NEW.id, NEW.title, NEW.QUERY); END
