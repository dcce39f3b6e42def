-- migrate:up
create table accounts (
  id integer primary key,
  name text not null
);

-- migrate:down
drop table accounts;
