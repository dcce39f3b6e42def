ALTER TABLE items ADD COLUMN price_cents INTEGER NOT NULL DEFAULT 0;
CREATE VIEW priced_items AS SELECT id, name, price_cents / 100.0 AS price FROM items;
