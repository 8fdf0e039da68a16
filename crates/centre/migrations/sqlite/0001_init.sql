-- The centre's database, version 1 (SQLite). Resident personal data lives only in `residents`.

CREATE TABLE staff (
    id            INTEGER PRIMARY KEY,
    login         TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('staff', 'coordinator')),
    home_compound INTEGER,
    home_building INTEGER,
    capacity      INTEGER NOT NULL,
    password_hash TEXT NOT NULL
);

-- Bearer tokens, stored as SHA-256 of the token so that a copy of the database logs nobody in.
CREATE TABLE tokens (
    token_hash TEXT PRIMARY KEY,
    staff_id   INTEGER NOT NULL REFERENCES staff (id),
    device_id  TEXT,
    expires_at INTEGER,
    created_at INTEGER NOT NULL
);

CREATE TABLE devices (
    device_id   TEXT PRIMARY KEY,
    staff_id    INTEGER NOT NULL REFERENCES staff (id),
    public_key  TEXT NOT NULL,
    enrolled_at INTEGER NOT NULL,
    revoked_at  INTEGER,
    last_seq    INTEGER NOT NULL DEFAULT 0,
    last_hash   TEXT NOT NULL
);

CREATE TABLE compounds (
    id   INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    body TEXT NOT NULL
);

CREATE TABLE service_items (
    id   INTEGER PRIMARY KEY,
    body TEXT NOT NULL
);

CREATE TABLE residents (
    id       INTEGER PRIMARY KEY,
    name     TEXT NOT NULL,
    phone    TEXT NOT NULL,
    compound INTEGER NOT NULL,
    building INTEGER NOT NULL,
    unit     INTEGER NOT NULL,
    room     TEXT NOT NULL,
    green    TEXT NOT NULL
);
CREATE INDEX residents_lookup ON residents (name, phone);

CREATE TABLE tasks (
    task_id     TEXT PRIMARY KEY,
    kind        TEXT NOT NULL,
    case_number TEXT NOT NULL UNIQUE,
    compound    INTEGER NOT NULL,
    building    INTEGER NOT NULL,
    resident    INTEGER NOT NULL REFERENCES residents (id),
    body        TEXT NOT NULL,
    status      TEXT NOT NULL,
    assignee    INTEGER,
    attempts    INTEGER NOT NULL DEFAULT 0,
    conflicts   INTEGER NOT NULL DEFAULT 0,
    state       TEXT NOT NULL,
    created_at  INTEGER NOT NULL
);
CREATE INDEX tasks_by_compound ON tasks (compound, status);
CREATE INDEX tasks_by_assignee ON tasks (assignee, status);

-- Everyone who was ever given a task: their phones' facts about it are accepted (and flagged if late).
CREATE TABLE task_assignees (
    task_id  TEXT NOT NULL,
    staff_id INTEGER NOT NULL,
    PRIMARY KEY (task_id, staff_id)
);

-- Every event received or made, with its outcome. Rejected events stay too: they are links of a device's chain.
CREATE TABLE events (
    event_id    TEXT PRIMARY KEY,
    task_id     TEXT NOT NULL,
    actor       TEXT NOT NULL,
    seq         INTEGER NOT NULL,
    at          INTEGER NOT NULL,
    kind        TEXT NOT NULL,
    encoded     BLOB NOT NULL,
    outcome     TEXT NOT NULL CHECK (outcome IN ('accepted', 'rejected')),
    reason      TEXT,
    received_at INTEGER NOT NULL
);
CREATE INDEX events_by_task ON events (task_id, outcome);
CREATE UNIQUE INDEX events_by_actor ON events (actor, seq);

-- The chains of coordinators and of the centre itself (devices keep theirs in `devices`).
CREATE TABLE actor_chains (
    actor     TEXT PRIMARY KEY,
    last_seq  INTEGER NOT NULL,
    last_hash TEXT NOT NULL
);

CREATE TABLE event_blobs (
    event_id TEXT NOT NULL,
    sha256   TEXT NOT NULL,
    PRIMARY KEY (event_id, sha256)
);
CREATE INDEX event_blobs_by_sha ON event_blobs (sha256);

CREATE TABLE blobs (
    sha256    TEXT PRIMARY KEY,
    size      INTEGER NOT NULL,
    mime      TEXT NOT NULL,
    stored_at INTEGER NOT NULL
);

-- The pull feed: what changed for whom. A phone's cursor is the last change id it has seen.
CREATE TABLE changes (
    change_id INTEGER PRIMARY KEY AUTOINCREMENT,
    staff_id  INTEGER NOT NULL,
    task_id   TEXT NOT NULL
);
CREATE INDEX changes_by_staff ON changes (staff_id, change_id);
