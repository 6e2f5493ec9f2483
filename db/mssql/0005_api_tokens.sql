-- 0005 (SQL Server): API tokens for internal tools. New table only; guarded, so running
-- this twice changes nothing. Only a SHA-256 of each secret is kept.

IF OBJECT_ID(N'dbo.ApiTokens', N'U') IS NULL
BEGIN
    CREATE TABLE dbo.ApiTokens (
        token_id           INT IDENTITY(1, 1) NOT NULL PRIMARY KEY,
        name               NVARCHAR(100) NOT NULL,
        token_hash         NVARCHAR(64) NOT NULL UNIQUE,
        scopes             NVARCHAR(400) NOT NULL,
        erp_customer_name  NVARCHAR(4000) NOT NULL DEFAULT N'',
        created_by         NVARCHAR(100) NOT NULL,
        created_at         DATETIME2 NOT NULL,
        expires_at         DATETIME2 NOT NULL,
        last_used_at       DATETIME2 NULL,
        revoked_at         DATETIME2 NULL,
        revoked_by         NVARCHAR(100) NULL,
        rows_per_minute    INT NULL
    );
    CREATE INDEX IX_ApiTokens_created ON dbo.ApiTokens (created_at);
END;
GO
