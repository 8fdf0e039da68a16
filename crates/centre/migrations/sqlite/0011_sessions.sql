-- Version 11 (SQLite): sessions that end. A session token remembers when its session began (a refresh keeps it), so
-- no refresh carries a session past its maximum age; a coordinator can disable a login.
ALTER TABLE tokens ADD COLUMN started_at INTEGER;
UPDATE tokens SET started_at = created_at;
ALTER TABLE staff ADD COLUMN disabled_at INTEGER;
