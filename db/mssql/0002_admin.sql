-- 0002 (SQL Server): server-side admin sessions and indexes for the audit log's filters.
-- Only new objects; each guarded, so running this twice changes nothing.

IF OBJECT_ID(N'dbo.AdminSessions', N'U') IS NULL
BEGIN
    CREATE TABLE dbo.AdminSessions (
        session_id    NVARCHAR(64) NOT NULL PRIMARY KEY,
        username      NVARCHAR(255) NOT NULL,
        display_name  NVARCHAR(255) NOT NULL,
        auth_method   NVARCHAR(32) NOT NULL,
        ip_address    NVARCHAR(64) NULL,
        user_agent    NVARCHAR(512) NULL,
        created_at    DATETIME2 NOT NULL,
        last_seen     DATETIME2 NOT NULL
    );
END;
GO

IF NOT EXISTS (SELECT 1 FROM sys.indexes WHERE name = N'IX_AuditLog_admin' AND object_id = OBJECT_ID(N'dbo.AuditLog'))
    CREATE INDEX IX_AuditLog_admin ON dbo.AuditLog (admin_username, timestamp);
GO

IF NOT EXISTS (SELECT 1 FROM sys.indexes WHERE name = N'IX_AuditLog_target' AND object_id = OBJECT_ID(N'dbo.AuditLog'))
    CREATE INDEX IX_AuditLog_target ON dbo.AuditLog (target_customer_id);
GO

IF NOT EXISTS (SELECT 1 FROM sys.indexes WHERE name = N'IX_Customers_active' AND object_id = OBJECT_ID(N'dbo.Customers'))
    CREATE INDEX IX_Customers_active ON dbo.Customers (is_active);
GO
