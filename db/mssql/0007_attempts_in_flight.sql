-- 0007 (SQL Server): sign-in attempts in flight (see db/sqlite/0007). New column on a table
-- of the new portal only; guarded, so running this twice changes nothing.

IF COL_LENGTH(N'dbo.LoginFailures', N'in_flight') IS NULL
BEGIN
    ALTER TABLE dbo.LoginFailures
        ADD in_flight BIT NOT NULL CONSTRAINT DF_LoginFailures_in_flight DEFAULT 0;
END;
GO
