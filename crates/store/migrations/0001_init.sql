-- The device's local database, version 1.
-- Personal data (the task sheet) lives only in tasks.sheet; nothing else holds a resident's name, phone or room.

CREATE TABLE device (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    device_id   TEXT NOT NULL,
    staff_id    INTEGER NOT NULL,
    centre_url  TEXT NOT NULL,
    token       TEXT,
    enrolled_at INTEGER NOT NULL
);

-- Tasks as last pulled from the centre, with the state that the centre's history and this device's own events
-- fold to. `removed` marks a task reassigned away or cancelled while this device still has unacknowledged facts.
CREATE TABLE tasks (
    task_id   TEXT PRIMARY KEY,
    kind      TEXT NOT NULL CHECK (kind IN ('delivery', 'pickup')),
    compound  INTEGER NOT NULL,
    building  INTEGER NOT NULL,
    unit      INTEGER NOT NULL,
    room      TEXT NOT NULL,
    assignee  INTEGER,
    status    TEXT NOT NULL,
    green     INTEGER NOT NULL,
    conflicts INTEGER NOT NULL,
    sheet     TEXT NOT NULL,
    state     TEXT NOT NULL,
    removed   INTEGER NOT NULL DEFAULT 0,
    pulled_at INTEGER NOT NULL
);
CREATE INDEX tasks_route ON tasks (assignee, removed, compound, building, unit, room);

-- Events other actors recorded (coordinators, the centre, this staff member's earlier phone), as pulled.
CREATE TABLE task_history (
    event_id TEXT PRIMARY KEY,
    task_id  TEXT NOT NULL,
    at       INTEGER NOT NULL,
    encoded  BLOB NOT NULL
);
CREATE INDEX task_history_task ON task_history (task_id);

-- This device's own events: its hash chain and its outbox.
CREATE TABLE events (
    seq         INTEGER PRIMARY KEY,
    event_id    TEXT NOT NULL UNIQUE,
    task_id     TEXT NOT NULL,
    kind        TEXT NOT NULL,
    at          INTEGER NOT NULL,
    encoded     BLOB NOT NULL,
    chain_hash  BLOB NOT NULL,
    outbox      TEXT NOT NULL CHECK (outbox IN ('pending', 'sent', 'acknowledged', 'rejected')),
    reason      TEXT,
    recorded_at INTEGER NOT NULL
);
CREATE INDEX events_task ON events (task_id);
CREATE INDEX events_outbox ON events (outbox, seq);

-- Photo and signature blobs: bytes in files named by their SHA-256, metadata here.
CREATE TABLE blobs (
    sha256     TEXT PRIMARY KEY,
    size       INTEGER NOT NULL,
    mime       TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    uploaded   INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE event_blobs (
    event_id TEXT NOT NULL REFERENCES events (event_id) ON DELETE CASCADE,
    sha256   TEXT NOT NULL REFERENCES blobs (sha256),
    PRIMARY KEY (event_id, sha256)
);
CREATE INDEX event_blobs_sha ON event_blobs (sha256);

CREATE TABLE sync_state (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
