-- Version 11 (PostgreSQL): sessions that end. A session token remembers when its session began (a refresh keeps it), so
-- no refresh carries a session past its maximum age; a coordinator can disable a login.
ALTER TABLE tokens ADD COLUMN started_at BIGINT;
UPDATE tokens SET started_at = created_at;
ALTER TABLE staff ADD COLUMN disabled_at BIGINT;
