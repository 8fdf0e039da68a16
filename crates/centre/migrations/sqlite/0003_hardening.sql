-- Version 3: hardening.

-- Failed logins per login name: after too many in a window the login is locked for a while (even with the right
-- password), so passwords cannot be guessed at the speed of the API.
CREATE TABLE login_failures (
    login        TEXT PRIMARY KEY,
    failures     INTEGER NOT NULL,
    first_at     INTEGER NOT NULL,
    locked_until INTEGER
);

-- Every coordinator action and device event, append-only. `detail` is a short description without personal data.
CREATE TABLE audit (
    audit_id  INTEGER PRIMARY KEY AUTOINCREMENT,
    at        INTEGER NOT NULL,
    actor     INTEGER NOT NULL,
    action    TEXT NOT NULL,
    task_id   TEXT,
    staff_id  INTEGER,
    device_id TEXT,
    detail    TEXT NOT NULL
);
CREATE INDEX audit_by_task ON audit (task_id, audit_id);
CREATE INDEX audit_by_actor ON audit (actor, audit_id);
CREATE INDEX audit_by_staff ON audit (staff_id, audit_id);
