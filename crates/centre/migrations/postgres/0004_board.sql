-- Version 4: what the coordinators' board needs to know about phones.

-- How far each phone has pulled: a phone that asks for the changes after `since` has stored every change up to it.
ALTER TABLE devices ADD COLUMN pulled_to BIGINT NOT NULL DEFAULT 0;

-- The task's latest reassignment away from someone: whom it left, and the pull change that tells their phones.
-- Until each of their phones has pulled past that change, the phone may still act on the task.
ALTER TABLE tasks ADD COLUMN moved_from BIGINT;
ALTER TABLE tasks ADD COLUMN moved_change BIGINT;
