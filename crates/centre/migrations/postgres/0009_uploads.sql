-- Version 9 (PostgreSQL): each phone's upload quota. `up_day` is the Shanghai day `up_bytes` counts the bytes of new
-- photos it uploaded on.
ALTER TABLE devices ADD COLUMN up_day BIGINT NOT NULL DEFAULT 0;
ALTER TABLE devices ADD COLUMN up_bytes BIGINT NOT NULL DEFAULT 0;
