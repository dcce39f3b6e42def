INSERT INTO file_snapshots (tool_id, session_id, file_path, content)
VALUES ('toolu-fx-1', 'fx-1', 'login_test.py', 'def test_login(): ...');
