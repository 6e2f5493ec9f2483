-- 0006 (SQL Server): minimum on-hand quantities per part, saved views, scheduled reports
-- with their lease. New tables only; guarded, so running this twice changes nothing.

IF OBJECT_ID(N'dbo.PartMinimums', N'U') IS NULL
BEGIN
    CREATE TABLE dbo.PartMinimums (
        minimum_id         INT IDENTITY(1, 1) NOT NULL PRIMARY KEY,
        erp_customer_name  NVARCHAR(255) NOT NULL,
        part               NVARCHAR(100) NOT NULL,
        minimum_qty        FLOAT NOT NULL CHECK (minimum_qty >= 0),
        updated_at         DATETIME2 NOT NULL,
        updated_by         NVARCHAR(255) NOT NULL,
        CONSTRAINT UQ_PartMinimums UNIQUE (erp_customer_name, part)
    );
END;
GO

IF OBJECT_ID(N'dbo.SavedViews', N'U') IS NULL
BEGIN
    CREATE TABLE dbo.SavedViews (
        view_id      INT IDENTITY(1, 1) NOT NULL PRIMARY KEY,
        customer_id  INT NOT NULL REFERENCES dbo.Customers (customer_id) ON DELETE CASCADE,
        name         NVARCHAR(100) NOT NULL,
        query        NVARCHAR(2000) NOT NULL,
        created_at   DATETIME2 NOT NULL,
        updated_at   DATETIME2 NOT NULL,
        CONSTRAINT UQ_SavedViews UNIQUE (customer_id, name)
    );
END;
GO

IF OBJECT_ID(N'dbo.ReportSubscriptions', N'U') IS NULL
BEGIN
    CREATE TABLE dbo.ReportSubscriptions (
        subscription_id  INT IDENTITY(1, 1) NOT NULL PRIMARY KEY,
        customer_id      INT NOT NULL REFERENCES dbo.Customers (customer_id),
        kind             NVARCHAR(10) NOT NULL CHECK (kind IN (N'report', N'alert')),
        view_id          INT NULL REFERENCES dbo.SavedViews (view_id),
        frequency        NVARCHAR(10) NOT NULL CHECK (frequency IN (N'daily', N'weekly')),
        weekday          INT NULL CHECK (weekday BETWEEN 0 AND 6),
        hour             INT NOT NULL CHECK (hour BETWEEN 0 AND 23),
        format           NVARCHAR(10) NOT NULL CHECK (format IN (N'xlsx', N'csv')),
        paused           BIT NOT NULL DEFAULT 0,
        paused_by        NVARCHAR(255) NULL,
        created_at       DATETIME2 NOT NULL,
        next_run_at      DATETIME2 NOT NULL,
        lease_owner      NVARCHAR(64) NULL,
        lease_until      DATETIME2 NULL,
        attempts         INT NOT NULL DEFAULT 0,
        last_sent_at     DATETIME2 NULL,
        last_status      NVARCHAR(20) NULL,
        last_error       NVARCHAR(1000) NULL,
        sent_count       INT NOT NULL DEFAULT 0
    );
    CREATE INDEX IX_ReportSubscriptions_due ON dbo.ReportSubscriptions (next_run_at);
    CREATE INDEX IX_ReportSubscriptions_customer ON dbo.ReportSubscriptions (customer_id);
END;
GO
