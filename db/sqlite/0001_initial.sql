-- 0001: the existing portal's tables, with their exact names and columns, plus what the
-- Rust portal adds (web sessions, settings). Same version numbers live in db/mssql/.

CREATE TABLE IF NOT EXISTS Customers (
    customer_id          INTEGER PRIMARY KEY AUTOINCREMENT,
    first_name           TEXT NOT NULL,
    last_name            TEXT,
    email                TEXT NOT NULL COLLATE NOCASE UNIQUE,
    password_hash        TEXT NOT NULL,
    erp_customer_name    TEXT NOT NULL,
    is_active            INTEGER NOT NULL DEFAULT 1 CHECK (is_active IN (0, 1)),
    last_login_date      TEXT,
    must_reset_password  INTEGER NOT NULL DEFAULT 1 CHECK (must_reset_password IN (0, 1))
);

CREATE TABLE IF NOT EXISTS ActiveSessions (
    session_id   TEXT PRIMARY KEY,
    customer_id  INTEGER NOT NULL REFERENCES Customers (customer_id) ON DELETE CASCADE,
    last_seen    TEXT NOT NULL,
    ip_address   TEXT,
    user_agent   TEXT,
    created_at   TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS IX_ActiveSessions_customer ON ActiveSessions (customer_id);

CREATE TABLE IF NOT EXISTS AuditLog (
    log_id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    timestamp              TEXT NOT NULL,
    admin_username         TEXT NOT NULL,
    action_type            TEXT NOT NULL,
    target_customer_id     INTEGER,
    target_customer_email  TEXT,
    details                TEXT
);
CREATE INDEX IF NOT EXISTS IX_AuditLog_timestamp ON AuditLog (timestamp);
CREATE INDEX IF NOT EXISTS IX_AuditLog_action ON AuditLog (action_type, timestamp);

-- The audit log is append-only: the database itself refuses changes.
CREATE TRIGGER IF NOT EXISTS AuditLog_no_update BEFORE UPDATE ON AuditLog
BEGIN
    SELECT RAISE(ABORT, 'AuditLog is append-only');
END;
CREATE TRIGGER IF NOT EXISTS AuditLog_no_delete BEFORE DELETE ON AuditLog
BEGIN
    SELECT RAISE(ABORT, 'AuditLog is append-only');
END;

-- Kept for the future self-serve "forgot password" flow, as in the old portal.
CREATE TABLE IF NOT EXISTS PasswordResetTokens (
    token_id     INTEGER PRIMARY KEY AUTOINCREMENT,
    customer_id  INTEGER NOT NULL REFERENCES Customers (customer_id) ON DELETE CASCADE,
    token_hash   TEXT NOT NULL UNIQUE,
    expires_at   TEXT NOT NULL,
    used         INTEGER NOT NULL DEFAULT 0,
    created_at   TEXT NOT NULL
);

-- New: server-side records of the tower-sessions cookie (what a browser's session holds).
CREATE TABLE IF NOT EXISTS WebSessions (
    id           TEXT PRIMARY KEY,
    data         TEXT NOT NULL,
    expiry_date  TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS IX_WebSessions_expiry ON WebSessions (expiry_date);

-- New: small key/value settings the portal keeps for itself (e.g. the demo admin hash).
CREATE TABLE IF NOT EXISTS PortalSettings (
    setting_key    TEXT PRIMARY KEY,
    setting_value  TEXT NOT NULL
);
