-- Version 3: the centre's public keys, for checking the signed QR codes offline. Replaced whole on each sync.
CREATE TABLE centre_keys (
    key_id        INTEGER PRIMARY KEY,
    public        BLOB NOT NULL,
    retired_after INTEGER
);
