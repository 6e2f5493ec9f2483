-- 0008 (SQL Server): inventory over time (see db/sqlite/0008). New tables only; guarded, so
-- running this twice changes nothing.

IF OBJECT_ID(N'dbo.HistoryParts', N'U') IS NULL
BEGIN
    CREATE TABLE dbo.HistoryParts (
        part_key           INT IDENTITY(1, 1) NOT NULL PRIMARY KEY,
        erp_customer_name  NVARCHAR(255) NOT NULL,
        part               NVARCHAR(100) NOT NULL,
        CONSTRAINT UQ_HistoryParts UNIQUE (erp_customer_name, part)
    );
    -- One part's history, whichever customers hold it.
    CREATE INDEX IX_HistoryParts_part ON dbo.HistoryParts (part);
END;
GO

IF OBJECT_ID(N'dbo.InventoryHistory', N'U') IS NULL
BEGIN
    CREATE TABLE dbo.InventoryHistory (
        part_key      INT NOT NULL REFERENCES dbo.HistoryParts (part_key),
        day           DATE NOT NULL,
        on_hand       FLOAT NOT NULL,
        lots          INT NOT NULL,
        expired_qty   FLOAT NOT NULL,
        expiring_qty  FLOAT NOT NULL,
        received_qty  FLOAT NOT NULL,
        demo          BIT NOT NULL DEFAULT 0,
        CONSTRAINT PK_InventoryHistory PRIMARY KEY (part_key, day)
    );
    CREATE INDEX IX_InventoryHistory_day ON dbo.InventoryHistory (day);
END;
GO

IF OBJECT_ID(N'dbo.HistoryTotals', N'U') IS NULL
BEGIN
    CREATE TABLE dbo.HistoryTotals (
        erp_customer_name  NVARCHAR(255) NOT NULL,
        day                DATE NOT NULL,
        on_hand            FLOAT NOT NULL,
        lots               INT NOT NULL,
        expired_qty        FLOAT NOT NULL,
        expiring_qty       FLOAT NOT NULL,
        received_qty       FLOAT NOT NULL,
        parts              INT NOT NULL,
        demo               BIT NOT NULL DEFAULT 0,
        CONSTRAINT PK_HistoryTotals PRIMARY KEY (erp_customer_name, day)
    );
END;
GO

IF OBJECT_ID(N'dbo.HistoryCaptures', N'U') IS NULL
BEGIN
    CREATE TABLE dbo.HistoryCaptures (
        day          DATE NOT NULL PRIMARY KEY,
        owner        NVARCHAR(64) NOT NULL,
        lease_until  DATETIME2 NOT NULL,
        finished_at  DATETIME2 NULL,
        parts        INT NOT NULL DEFAULT 0
    );
END;
GO
