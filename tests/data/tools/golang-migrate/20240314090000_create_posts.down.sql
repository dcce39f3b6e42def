DROP INDEX posts_user;
DROP TABLE posts;
