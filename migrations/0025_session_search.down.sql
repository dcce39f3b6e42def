DROP TRIGGER sessions_search_delete;
DROP TRIGGER sessions_search_update;
DROP TRIGGER sessions_search_insert;
DROP TABLE sessions_search;
