-- Version 6: residents without phones — household cards and the family members who may receive for a resident.

-- Each resident's household cards (户卡): the serial (1 for the first card, one more for each reissue) and the
-- 6-digit code printed under its QR. The centre keeps the code in clear to print it and to re-check handoffs;
-- phones get only `hash` (a salted Argon2id hash, JSON) of the card in force, filled in outside any transaction.
-- A reissue sets the old card's `replaced_at`: handoffs recorded after it with the old card are not proven, those
-- recorded before it stay proven. The card in force is the one without `replaced_at`.
CREATE TABLE household_cards (
    resident_id BIGINT NOT NULL REFERENCES residents (id),
    serial      BIGINT NOT NULL,
    code        TEXT NOT NULL,
    hash        TEXT,
    issued_at   BIGINT NOT NULL,
    replaced_at BIGINT,
    PRIMARY KEY (resident_id, serial)
);

-- Family members (代收人) who may receive for a resident, each with their own 6-digit code (kept as above). A removed
-- member keeps their row, with `removed_at`, for the handoffs that name them; ids are never reused.
CREATE TABLE household_proxies (
    proxy_id    BIGINT PRIMARY KEY,
    resident_id BIGINT NOT NULL REFERENCES residents (id),
    name        TEXT NOT NULL,
    relation    TEXT NOT NULL,
    code        TEXT NOT NULL,
    hash        TEXT,
    created_at  BIGINT NOT NULL,
    removed_at  BIGINT
);
CREATE INDEX household_proxies_by_resident ON household_proxies (resident_id, removed_at);

-- Re-sending a resident's open tasks to their phones when the card or the family members change.
CREATE INDEX tasks_by_resident ON tasks (resident, status);
