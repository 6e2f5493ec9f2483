-- 0001 (SQL Server): adopt the Flask portal's database in place. Where a table is missing
-- it is created exactly as the old portal creates it (tests/fixtures/old-portal-schema.sql).
-- Every existing table and row is kept. Tables are created only where missing, with the
-- old portal's names and columns; what the Rust portal adds is new tables and indexes.
-- Each statement is guarded, so running this twice changes nothing.
-- Batches are separated by GO (the portal's migration runner splits on it).

IF OBJECT_ID(N'dbo.Customers', N'U') IS NULL
BEGIN
    CREATE TABLE dbo.Customers (
        customer_id          INT IDENTITY(1, 1) NOT NULL PRIMARY KEY,
        first_name           NVARCHAR(100) NOT NULL,
        last_name            NVARCHAR(100) NOT NULL,
        email                NVARCHAR(255) NOT NULL UNIQUE,
        password_hash        NVARCHAR(255) NOT NULL,
        erp_customer_name    NVARCHAR(4000) NOT NULL,
        is_active            BIT NOT NULL DEFAULT 1,
        created_date         DATETIME NOT NULL DEFAULT GETDATE(),
        last_login_date      DATETIME NULL,
        must_reset_password  BIT NOT NULL DEFAULT 0
    );
    CREATE INDEX IX_Customers_ErpName ON dbo.Customers (erp_customer_name);
    CREATE INDEX IX_Customers_Active ON dbo.Customers (is_active);
END;
GO

IF OBJECT_ID(N'dbo.ActiveSessions', N'U') IS NULL
BEGIN
    CREATE TABLE dbo.ActiveSessions (
        session_id   NVARCHAR(255) NOT NULL PRIMARY KEY,
        customer_id  INT NOT NULL REFERENCES dbo.Customers (customer_id) ON DELETE CASCADE,
        last_seen    DATETIME NOT NULL,
        ip_address   NVARCHAR(100) NULL,
        user_agent   NVARCHAR(500) NULL,
        created_at   DATETIME NOT NULL DEFAULT GETUTCDATE()
    );
    CREATE INDEX IX_ActiveSessions_CustomerID ON dbo.ActiveSessions (customer_id);
    CREATE INDEX IX_ActiveSessions_LastSeen ON dbo.ActiveSessions (last_seen DESC);
END;
GO

IF OBJECT_ID(N'dbo.AuditLog', N'U') IS NULL
BEGIN
    CREATE TABLE dbo.AuditLog (
        log_id                 INT IDENTITY(1, 1) NOT NULL PRIMARY KEY,
        timestamp              DATETIME NOT NULL DEFAULT GETDATE(),
        admin_username         NVARCHAR(100) NOT NULL,
        action_type            NVARCHAR(50) NOT NULL,
        target_customer_id     INT NULL,
        target_customer_email  NVARCHAR(255) NULL,
        details                NVARCHAR(MAX) NULL
    );
    CREATE INDEX IX_AuditLog_Timestamp ON dbo.AuditLog (timestamp DESC);
    CREATE INDEX IX_AuditLog_AdminUsername ON dbo.AuditLog (admin_username);
    CREATE INDEX IX_AuditLog_ActionType ON dbo.AuditLog (action_type);
    CREATE INDEX IX_AuditLog_TargetCustomer ON dbo.AuditLog (target_customer_id);
END;
GO

IF OBJECT_ID(N'dbo.PasswordResetTokens', N'U') IS NULL
BEGIN
    CREATE TABLE dbo.PasswordResetTokens (
        token_id     INT IDENTITY(1, 1) NOT NULL PRIMARY KEY,
        customer_id  INT NOT NULL REFERENCES dbo.Customers (customer_id),
        token_hash   NVARCHAR(255) NOT NULL UNIQUE,
        expiry_date  DATETIME NOT NULL,
        is_used      BIT NOT NULL DEFAULT 0
    );
    CREATE INDEX IX_Tokens_Expiry ON dbo.PasswordResetTokens (expiry_date);
    CREATE INDEX IX_Tokens_Used ON dbo.PasswordResetTokens (is_used);
END;
GO

IF NOT EXISTS (SELECT 1 FROM sys.indexes WHERE name = N'IX_ActiveSessions_customer' AND object_id = OBJECT_ID(N'dbo.ActiveSessions'))
    CREATE INDEX IX_ActiveSessions_customer ON dbo.ActiveSessions (customer_id);
GO

IF NOT EXISTS (SELECT 1 FROM sys.indexes WHERE name = N'IX_AuditLog_timestamp' AND object_id = OBJECT_ID(N'dbo.AuditLog'))
    CREATE INDEX IX_AuditLog_timestamp ON dbo.AuditLog (timestamp);
GO

IF NOT EXISTS (SELECT 1 FROM sys.indexes WHERE name = N'IX_AuditLog_action' AND object_id = OBJECT_ID(N'dbo.AuditLog'))
    CREATE INDEX IX_AuditLog_action ON dbo.AuditLog (action_type, timestamp);
GO

-- New: server-side records of the browser session cookie.
IF OBJECT_ID(N'dbo.WebSessions', N'U') IS NULL
BEGIN
    CREATE TABLE dbo.WebSessions (
        id           NVARCHAR(64) NOT NULL PRIMARY KEY,
        data         NVARCHAR(MAX) NOT NULL,
        expiry_date  DATETIME2 NOT NULL
    );
    CREATE INDEX IX_WebSessions_expiry ON dbo.WebSessions (expiry_date);
END;
GO

-- New: small key/value settings the portal keeps for itself.
IF OBJECT_ID(N'dbo.PortalSettings', N'U') IS NULL
BEGIN
    CREATE TABLE dbo.PortalSettings (
        setting_key    NVARCHAR(128) NOT NULL PRIMARY KEY,
        setting_value  NVARCHAR(MAX) NOT NULL
    );
END;
GO

-- New: the audit log is append-only; the database itself refuses changes.
IF OBJECT_ID(N'dbo.AuditLog_append_only', N'TR') IS NULL
    EXEC (N'CREATE TRIGGER dbo.AuditLog_append_only ON dbo.AuditLog INSTEAD OF UPDATE, DELETE AS BEGIN THROW 50001, N''AuditLog is append-only'', 1; END');
GO
