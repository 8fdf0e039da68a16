-- Version 7 (PostgreSQL): the pull feed stays in commit order with many writers.
--
-- A serial id is not commit order once several transactions insert at once (replicas on PostgreSQL): a phone could
-- pull past a change committed later with a smaller id and never see it. Each staff member's changes are numbered
-- instead by that member's own version, bumped under the row lock of `staff_feed` inside the transaction that
-- writes the change, so a larger version never becomes visible before a smaller one. Phones' cursors become
-- versions: the ids issued so far carry over as versions, and every feed goes on above the largest id issued, so
-- no cursor a phone holds skips anything.
CREATE TABLE staff_feed (
    staff_id BIGINT PRIMARY KEY,
    version  BIGINT NOT NULL
);
INSERT INTO staff_feed (staff_id, version)
    SELECT id, (SELECT coalesce(max(change_id), 0) FROM changes) FROM staff;
ALTER TABLE changes ADD COLUMN version BIGINT NOT NULL DEFAULT 0;
UPDATE changes SET version = change_id;
DROP INDEX changes_by_staff;
CREATE UNIQUE INDEX changes_by_staff ON changes (staff_id, version);
