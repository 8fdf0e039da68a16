-- Version 10 (PostgreSQL): throttles kept in the database, shared by every replica: failed logins per login and
-- address and per address (growing delays, never a lock a stranger can set), and the door card pages per client.
CREATE TABLE throttles (
    key     TEXT PRIMARY KEY,
    count   BIGINT NOT NULL,
    since   BIGINT NOT NULL,
    last_at BIGINT NOT NULL
);
