-- 0009 (SQL Server): two-step sign-in (see db/sqlite/0009). New tables only; guarded, so
-- running this twice changes nothing.

IF OBJECT_ID(N'dbo.TwoFactor', N'U') IS NULL
BEGIN
    CREATE TABLE dbo.TwoFactor (
        account_key    NVARCHAR(300) NOT NULL PRIMARY KEY,
        secret_sealed  NVARCHAR(200) NOT NULL,
        confirmed_at   DATETIME2 NULL,
        last_step      BIGINT NULL,
        created_at     DATETIME2 NOT NULL,
        trusted_since  DATETIME2 NULL
    );
END;
GO

IF OBJECT_ID(N'dbo.TwoFactorRecoveryCodes', N'U') IS NULL
BEGIN
    CREATE TABLE dbo.TwoFactorRecoveryCodes (
        code_id      INT IDENTITY(1, 1) NOT NULL PRIMARY KEY,
        account_key  NVARCHAR(300) NOT NULL,
        code_hash    NVARCHAR(64) NOT NULL,
        used_at      DATETIME2 NULL
    );
    CREATE INDEX IX_TwoFactorRecoveryCodes_account
        ON dbo.TwoFactorRecoveryCodes (account_key);
END;
GO
