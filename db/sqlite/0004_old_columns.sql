-- 0004: the old portal's column names and Customers.created_date, so one store body serves
-- SQLite and SQL Server alike (same version in db/mssql/). Renames keep every row.

ALTER TABLE PasswordResetTokens RENAME COLUMN expires_at TO expiry_date;
ALTER TABLE PasswordResetTokens RENAME COLUMN used TO is_used;
-- The old table has no creation time; the expiry says everything a reset link needs.
ALTER TABLE PasswordResetTokens DROP COLUMN created_at;
CREATE INDEX IF NOT EXISTS IX_Tokens_Expiry ON PasswordResetTokens (expiry_date);
CREATE INDEX IF NOT EXISTS IX_Tokens_Used ON PasswordResetTokens (is_used);

ALTER TABLE Customers ADD COLUMN created_date TEXT;
-- Accounts made before this version: their creation audit row, else their first sign-in,
-- else now (formatted as every other timestamp: YYYY-MM-DDTHH:MM:SS.ffffffZ).
UPDATE Customers SET created_date = COALESCE(
    (SELECT MIN(a.timestamp) FROM AuditLog a
      WHERE a.action_type = 'CUSTOMER_CREATE' AND a.target_customer_id = Customers.customer_id),
    last_login_date,
    strftime('%Y-%m-%dT%H:%M:%S', 'now') || '.000000Z'
) WHERE created_date IS NULL;
CREATE INDEX IF NOT EXISTS IX_Customers_ErpName ON Customers (erp_customer_name);
CREATE INDEX IF NOT EXISTS IX_Customers_Active ON Customers (is_active);
