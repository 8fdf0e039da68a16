-- Version 2: what makes a handoff provable.

-- The centre's Ed25519 keys for signing QR codes. Phones hold the public halves (the keyring); a retired key's
-- codes are refused after `retired_after`. The newest key that is not retired signs new codes.
CREATE TABLE signing_keys (
    key_id        BIGINT PRIMARY KEY,
    secret        BYTEA NOT NULL,
    public        BYTEA NOT NULL,
    created_at    BIGINT NOT NULL,
    retired_after BIGINT
);

-- Each delivery's 6-digit fallback code, printed on the resident's slip. The centre keeps it in clear to print it
-- and to re-check handoffs; phones get only `hash` (a salted Argon2id hash, JSON), filled in outside any
-- transaction because it is slow on purpose.
CREATE TABLE resident_codes (
    task_id TEXT PRIMARY KEY,
    code    TEXT NOT NULL,
    hash    TEXT
);
