-- Undo version 26: the digests can be computed again from the content.
ALTER TABLE file_snapshots DROP COLUMN content_sha256;
