-- Legacy version 6: events emitted by a sub-agent name the tool use that started it.
ALTER TABLE conversation_events ADD COLUMN parent_tool_use_id TEXT;
CREATE INDEX idx_conversation_parent_tool_use_id ON conversation_events (parent_tool_use_id)
    WHERE parent_tool_use_id IS NOT NULL;
INSERT INTO schema_version (version, description) VALUES (6, 'conversation_events.parent_tool_use_id');
