-- Your SQL goes here
CREATE TABLE authors (
    id INTEGER PRIMARY KEY NOT NULL,
    name VARCHAR NOT NULL
);
