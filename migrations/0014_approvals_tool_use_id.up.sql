-- Legacy version 14: link each approval to the tool use it approves. The legacy
-- backfill could fail and still record the version; 0025 runs it again.
ALTER TABLE approvals ADD COLUMN tool_use_id TEXT;
CREATE INDEX idx_approvals_tool_use_id ON approvals (tool_use_id) WHERE tool_use_id IS NOT NULL;
UPDATE approvals
SET tool_use_id = (
    SELECT e.tool_id
    FROM conversation_events AS e
    WHERE e.approval_id = approvals.id AND e.tool_id IS NOT NULL
    ORDER BY e.id
    LIMIT 1
)
WHERE tool_use_id IS NULL;
INSERT INTO schema_version (version, description) VALUES (14, 'approvals.tool_use_id');
