-- 0004 (SQL Server): a database made by this portal's first 0001 (which differed from the
-- old portal) gets the old portal's columns; an adopted old database already has them and
-- nothing changes. Guarded: running this twice changes nothing.

IF COL_LENGTH(N'dbo.Customers', N'created_date') IS NULL
    ALTER TABLE dbo.Customers ADD created_date DATETIME NOT NULL
        CONSTRAINT DF_Customers_created_date DEFAULT GETDATE();
GO

IF COL_LENGTH(N'dbo.PasswordResetTokens', N'expires_at') IS NOT NULL
    AND COL_LENGTH(N'dbo.PasswordResetTokens', N'expiry_date') IS NULL
    EXEC sp_rename N'dbo.PasswordResetTokens.expires_at', N'expiry_date', N'COLUMN';
GO

IF COL_LENGTH(N'dbo.PasswordResetTokens', N'used') IS NOT NULL
    AND COL_LENGTH(N'dbo.PasswordResetTokens', N'is_used') IS NULL
    EXEC sp_rename N'dbo.PasswordResetTokens.used', N'is_used', N'COLUMN';
GO

IF NOT EXISTS (SELECT 1 FROM sys.indexes WHERE name = N'IX_Customers_ErpName' AND object_id = OBJECT_ID(N'dbo.Customers'))
    CREATE INDEX IX_Customers_ErpName ON dbo.Customers (erp_customer_name);
GO

IF NOT EXISTS (SELECT 1 FROM sys.indexes WHERE name = N'IX_Customers_Active' AND object_id = OBJECT_ID(N'dbo.Customers'))
    CREATE INDEX IX_Customers_Active ON dbo.Customers (is_active);
GO

IF NOT EXISTS (SELECT 1 FROM sys.indexes WHERE name = N'IX_Tokens_Expiry' AND object_id = OBJECT_ID(N'dbo.PasswordResetTokens'))
    CREATE INDEX IX_Tokens_Expiry ON dbo.PasswordResetTokens (expiry_date);
GO

IF NOT EXISTS (SELECT 1 FROM sys.indexes WHERE name = N'IX_Tokens_Used' AND object_id = OBJECT_ID(N'dbo.PasswordResetTokens'))
    CREATE INDEX IX_Tokens_Used ON dbo.PasswordResetTokens (is_used);
GO
