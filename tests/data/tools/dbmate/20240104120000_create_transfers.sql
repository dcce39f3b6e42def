-- migrate:up
create table transfers (
  id integer primary key,
  source integer not null references accounts (id),
  target integer not null references accounts (id),
  amount integer not null check (amount > 0)
);

-- migrate:down
drop table transfers;
