-- Version 8 (SQLite): what ingest needs to stay cheap and bounded whatever one device sends.
--
-- `last_at` is the latest time of a task's accepted events: a new fact dated after it is applied to the stored state
-- instead of folding the task's whole history again. `device_events` counts every fact devices sent about the task
-- (accepted or not), for the per-task cap; `day_number`/`day_events` count what a device sent on one Shanghai day,
-- for its daily cap.
ALTER TABLE tasks ADD COLUMN last_at INTEGER;
ALTER TABLE tasks ADD COLUMN device_events INTEGER NOT NULL DEFAULT 0;
UPDATE tasks SET
    last_at = (SELECT max(e.at) FROM events e WHERE e.task_id = tasks.task_id AND e.outcome = 'accepted'),
    device_events = (SELECT count(*) FROM events e WHERE e.task_id = tasks.task_id AND e.actor LIKE 'device:%');
ALTER TABLE devices ADD COLUMN day_number INTEGER NOT NULL DEFAULT 0;
ALTER TABLE devices ADD COLUMN day_events INTEGER NOT NULL DEFAULT 0;
