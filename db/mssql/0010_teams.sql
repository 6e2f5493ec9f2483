-- 0010 (SQL Server): a customer's own team (see db/sqlite/0010). New tables only;
-- guarded, so running this twice changes nothing.

IF OBJECT_ID(N'dbo.TeamManagers', N'U') IS NULL
BEGIN
    CREATE TABLE dbo.TeamManagers (
        customer_id  INT NOT NULL PRIMARY KEY,
        made_by      NVARCHAR(255) NOT NULL,
        made_at      DATETIME2 NOT NULL
    );
END;
GO

IF OBJECT_ID(N'dbo.TeamMembers', N'U') IS NULL
BEGIN
    CREATE TABLE dbo.TeamMembers (
        customer_id  INT NOT NULL PRIMARY KEY,
        manager_id   INT NOT NULL,
        invited_at   DATETIME2 NOT NULL
    );
    CREATE INDEX IX_TeamMembers_manager ON dbo.TeamMembers (manager_id);
END;
GO
