-- migrate:up
alter table accounts add column balance integer not null default 0;

-- migrate:down
