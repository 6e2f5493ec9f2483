-- 0005: API tokens for internal tools. Only a SHA-256 of each secret is kept; scopes are
-- a space-separated list; erp_customer_name follows the customers' rule (`All`, a name, or
-- names joined by `|`).

CREATE TABLE IF NOT EXISTS ApiTokens (
    token_id           INTEGER PRIMARY KEY AUTOINCREMENT,
    name               TEXT NOT NULL,
    token_hash         TEXT NOT NULL UNIQUE,
    scopes             TEXT NOT NULL,
    erp_customer_name  TEXT NOT NULL DEFAULT '',
    created_by         TEXT NOT NULL,
    created_at         TEXT NOT NULL,
    expires_at         TEXT NOT NULL,
    last_used_at       TEXT,
    revoked_at         TEXT,
    revoked_by         TEXT,
    rows_per_minute    INTEGER
);
CREATE INDEX IF NOT EXISTS IX_ApiTokens_created ON ApiTokens (created_at);
