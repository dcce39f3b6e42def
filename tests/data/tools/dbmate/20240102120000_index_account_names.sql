-- migrate:up transaction:false
create index accounts_name on accounts (name);
vacuum;

-- migrate:down
drop index accounts_name;
