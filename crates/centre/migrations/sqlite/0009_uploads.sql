-- Version 9 (SQLite): each phone's upload quota. `up_day` is the Shanghai day `up_bytes` counts the bytes of new
-- photos it uploaded on.
ALTER TABLE devices ADD COLUMN up_day INTEGER NOT NULL DEFAULT 0;
ALTER TABLE devices ADD COLUMN up_bytes INTEGER NOT NULL DEFAULT 0;
