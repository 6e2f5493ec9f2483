-- 0003 (SQL Server): failed sign-ins, counted to slow down password guessing. New table
-- only; guarded, so running this twice changes nothing.

IF OBJECT_ID(N'dbo.LoginFailures', N'U') IS NULL
BEGIN
    CREATE TABLE dbo.LoginFailures (
        failure_id    BIGINT IDENTITY(1, 1) NOT NULL PRIMARY KEY,
        attempted_at  DATETIME2 NOT NULL,
        login_name    NVARCHAR(255) NOT NULL,
        ip_address    NVARCHAR(64) NULL
    );
    CREATE INDEX IX_LoginFailures_name ON dbo.LoginFailures (login_name, attempted_at);
    CREATE INDEX IX_LoginFailures_ip ON dbo.LoginFailures (ip_address, attempted_at);
END;
GO
