-- Version 4: where there is no file system (the web build), a blob's bytes are in its row. Elsewhere NULL: the bytes
-- are a file beside the database.
ALTER TABLE blobs ADD COLUMN data BLOB;
