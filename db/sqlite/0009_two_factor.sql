-- 0009: two-step sign-in (same version in db/mssql/). One row per account that has begun
-- or finished enrolling an authenticator app, and that account's single-use recovery
-- codes. Additive: the old portal does not know these tables (switching back signs in
-- with the password alone).

-- `account_key`: `customer:<customer_id>` or `staff-<method>:<username>` (local, ad). `secret_sealed`: the TOTP
-- secret sealed under a key derived from SECRET_KEY (it must be read back to check a
-- code, so it cannot be hashed). `confirmed_at` NULL: enrolment begun, not confirmed.
-- `last_step`: the 30-second step of the last code accepted (no code works twice).
-- `trusted_since`: "trust this browser" marks issued before it no longer skip the code.
CREATE TABLE IF NOT EXISTS TwoFactor (
    account_key    TEXT PRIMARY KEY,
    secret_sealed  TEXT NOT NULL,
    confirmed_at   TEXT NULL,
    last_step      INTEGER NULL,
    created_at     TEXT NOT NULL,
    trusted_since  TEXT NULL
);

-- Only a SHA-256 of each code is kept; `used_at` set once it has been used.
CREATE TABLE IF NOT EXISTS TwoFactorRecoveryCodes (
    code_id      INTEGER PRIMARY KEY AUTOINCREMENT,
    account_key  TEXT NOT NULL,
    code_hash    TEXT NOT NULL,
    used_at      TEXT NULL
);
CREATE INDEX IF NOT EXISTS IX_TwoFactorRecoveryCodes_account
    ON TwoFactorRecoveryCodes (account_key);
