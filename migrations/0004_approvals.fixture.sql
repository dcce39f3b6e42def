-- An approval whose tool use id 0014 (and again 0024) fills in from its event.
INSERT INTO approvals (id, run_id, session_id, status, tool_name, tool_input)
VALUES ('fx-a1', 'fx-run-1', 'fx-1', 'approved', 'Edit', '{"path": "login_test.py"}');
