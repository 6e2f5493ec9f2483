-- The demo Deacom tables on SQL Server (the columns of docs/deacom.md), for running the ERP
-- test suite against a real server: sqlcmd -d <test database> -i db/deacom-demo/mssql.sql
-- Types follow Deacom's: decimal quantities, datetime dates, varchar text.

IF OBJECT_ID(N'dbo.dmpr1', N'U') IS NULL
    CREATE TABLE dbo.dmpr1 (p1_id INT NOT NULL PRIMARY KEY, p1_name VARCHAR(100) NULL);
GO
IF OBJECT_ID(N'dbo.dmunit', N'U') IS NULL
    CREATE TABLE dbo.dmunit (un_id INT NOT NULL PRIMARY KEY, un_name VARCHAR(20) NULL);
GO
IF OBJECT_ID(N'dbo.dmloc', N'U') IS NULL
    CREATE TABLE dbo.dmloc (lo_id INT NOT NULL PRIMARY KEY, lo_name VARCHAR(50) NOT NULL);
GO
IF OBJECT_ID(N'dbo.dmprod', N'U') IS NULL
    CREATE TABLE dbo.dmprod (
        pr_id INT NOT NULL PRIMARY KEY,
        pr_codenum VARCHAR(50) NOT NULL,
        pr_descrip NVARCHAR(200) NULL,
        pr_user5 INT NULL,
        pr_unid INT NULL
    );
GO
IF OBJECT_ID(N'dbo.dtfifo', N'U') IS NULL
    CREATE TABLE dbo.dtfifo (
        fi_id INT NOT NULL PRIMARY KEY,
        fi_prid INT NOT NULL,
        fi_loid INT NOT NULL,
        fi_balance DECIMAL(18, 4) NOT NULL,
        fi_attrib2 VARCHAR(100) NULL,
        fi_userlot VARCHAR(50) NULL,
        fi_lotnum VARCHAR(50) NULL,
        fi_expires DATETIME NULL,
        fi_date DATETIME NULL,
        fi_lotdate DATETIME NULL,
        fi_type VARCHAR(20) NULL,
        fi_action VARCHAR(50) NULL,
        fi_postref VARCHAR(50) NULL,
        fi_qc VARCHAR(20) NULL
    );
GO
IF OBJECT_ID(N'dbo.dtljob', N'U') IS NULL
    CREATE TABLE dbo.dtljob (lj_id INT IDENTITY(1, 1) NOT NULL PRIMARY KEY, lj_jobnum INT NOT NULL, lj_orid INT NULL);
GO
IF OBJECT_ID(N'dbo.dtord', N'U') IS NULL
    CREATE TABLE dbo.dtord (or_id INT NOT NULL PRIMARY KEY, or_ordnum INT NOT NULL);
GO
IF OBJECT_ID(N'dbo.dttord', N'U') IS NULL
    CREATE TABLE dbo.dttord (to_ordnum INT NOT NULL PRIMARY KEY, to_billpo VARCHAR(50) NULL);
GO
