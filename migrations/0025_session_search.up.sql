-- Full-text search over session titles and queries (FTS5, in SQLite since 3.9).
-- The index keeps its own copy of the text, keyed by session id, instead of pointing
-- at sessions' rowid (an "external content" table): sessions has a TEXT primary key,
-- so its rowids are not stable (VACUUM may renumber them) and an index keyed on them
-- would silently drift. Triggers keep it current, also for writes by old builds.

CREATE VIRTUAL TABLE sessions_search USING fts5 (
    session_id UNINDEXED,
    title,
    query,
    tokenize = 'unicode61 remove_diacritics 2'
);

INSERT INTO sessions_search (session_id, title, query)
SELECT id, title, query FROM sessions ORDER BY rowid;

CREATE TRIGGER sessions_search_insert AFTER INSERT ON sessions
BEGIN
    INSERT INTO sessions_search (session_id, title, query)
    VALUES (new.id, new.title, new.query);
END;

CREATE TRIGGER sessions_search_update AFTER UPDATE OF id, title, query ON sessions
BEGIN
    DELETE FROM sessions_search WHERE session_id = old.id;
    INSERT INTO sessions_search (session_id, title, query)
    VALUES (new.id, new.title, new.query);
END;

CREATE TRIGGER sessions_search_delete AFTER DELETE ON sessions
BEGIN
    DELETE FROM sessions_search WHERE session_id = old.id;
END;
