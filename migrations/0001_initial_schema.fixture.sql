-- Rows for the test kit's convergence checks: a session with a child, events (one asks
-- for approval a1, which 0004's fixture creates), an MCP server and raw events.
INSERT INTO sessions (id, run_id, query, status, cost_usd, num_turns, summary)
VALUES ('fx-1', 'fx-run-1', 'fix the flaky login test', 'completed', 0.5, 3, 'fixed');
INSERT INTO sessions (id, run_id, parent_session_id, query)
VALUES ('fx-2', 'fx-run-2', 'fx-1', 'write the release notes');
INSERT INTO conversation_events (session_id, sequence, event_type, role, content)
VALUES ('fx-1', 1, 'message', 'user', 'the login test fails one run in ten');
INSERT INTO conversation_events (session_id, sequence, event_type, tool_id, tool_name, approval_id, approval_status)
VALUES ('fx-1', 2, 'tool_call', 'toolu-fx-1', 'Edit', 'fx-a1', 'approved');
INSERT INTO mcp_servers (session_id, name, command, args_json) VALUES ('fx-1', 'fs', 'mcp-fs', '[]');
INSERT INTO raw_events (session_id, event_json) VALUES ('fx-1', '{"type": "message"}');
