-- Version 5: door cards, the pre-printed slips left at a failed visit with which a resident books the next one.

-- One row per printed card. `number` is the short number printed on it (for a resident who calls instead of
-- scanning). `task_id` and `left_event` are filled when the first accepted `door_card_left` fact names the card;
-- `booked_event` and `booked_for` when the resident books with it (once: a card books one visit).
CREATE TABLE door_cards (
    number       INTEGER PRIMARY KEY AUTOINCREMENT,
    card_id      TEXT NOT NULL UNIQUE,
    issued_at    INTEGER NOT NULL,
    issued_by    INTEGER,
    task_id      TEXT,
    left_event   TEXT,
    left_at      INTEGER,
    booked_event TEXT,
    booked_for   INTEGER,
    booked_at    INTEGER
);
CREATE INDEX door_cards_by_task ON door_cards (task_id);
