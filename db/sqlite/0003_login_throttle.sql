-- 0003: failed sign-ins, counted to slow down password guessing (per account name and per
-- client address). Rows older than the window are purged by the portal.

CREATE TABLE IF NOT EXISTS LoginFailures (
    failure_id    INTEGER PRIMARY KEY AUTOINCREMENT,
    attempted_at  TEXT NOT NULL,
    login_name    TEXT NOT NULL,
    ip_address    TEXT
);
CREATE INDEX IF NOT EXISTS IX_LoginFailures_name ON LoginFailures (login_name, attempted_at);
CREATE INDEX IF NOT EXISTS IX_LoginFailures_ip ON LoginFailures (ip_address, attempted_at);
