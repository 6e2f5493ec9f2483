-- 0002: server-side admin sessions (revocable like customer sessions) and indexes for the
-- audit log's admin filters.

CREATE TABLE IF NOT EXISTS AdminSessions (
    session_id    TEXT PRIMARY KEY,
    username      TEXT NOT NULL,
    display_name  TEXT NOT NULL,
    auth_method   TEXT NOT NULL,
    ip_address    TEXT,
    user_agent    TEXT,
    created_at    TEXT NOT NULL,
    last_seen     TEXT NOT NULL
);

CREATE INDEX IF NOT EXISTS IX_AuditLog_admin ON AuditLog (admin_username, timestamp);
CREATE INDEX IF NOT EXISTS IX_AuditLog_target ON AuditLog (target_customer_id);
CREATE INDEX IF NOT EXISTS IX_Customers_active ON Customers (is_active);
