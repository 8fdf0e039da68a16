-- Version 5: a handoff in progress, saved at every step so that a killed app resumes where it was. The body is the
-- app's own record of the steps taken (opaque to the store); it is deleted in the same transaction that records the
-- finished handoff, and with its task.
CREATE TABLE drafts (
    task_id    TEXT PRIMARY KEY REFERENCES tasks (task_id) ON DELETE CASCADE,
    body       TEXT NOT NULL,
    updated_at INTEGER NOT NULL
);
