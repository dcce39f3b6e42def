INSERT INTO notes (title, body) VALUES ('first', 'hello'), ('second', '');
